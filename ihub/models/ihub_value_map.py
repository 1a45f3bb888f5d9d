from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from odoo.addons.ihub.lib.exceptions import IHubError

from .ihub_mapper import _to_super

# The web client opens a value map at <base URL>/odoo/<this path>/<id> (the action's path).
VALUE_MAP_PATH = "ihub-value-maps"


class IHubValueMap(models.Model):
    """A named table translating values between the other system and Odoo, per integration.

    Integrations use it through ``integration.ihub_value_map(code)`` (see ``ValueMap``); iHub
    managers edit its lines on its form.
    """

    _name = "ihub.value.map"
    _description = "Integration Value Map"
    _order = "integration_id, name, id"

    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    name = fields.Char(required=True, help="What the map translates, e.g. Order Statuses.")
    code = fields.Char(
        required=True,
        help="How the integration's code names this map: integration.ihub_value_map(code).",
    )
    res_model = fields.Selection(
        selection="_selection_res_model",
        string="Odoo Model",
        help="Set it when external values stand for Odoo records (countries, taxes, …); leave "
        "it empty when they stand for plain Odoo values (a status, a code).",
    )
    line_ids = fields.One2many("ihub.value.map.line", "map_id", string="Lines", copy=True)
    default_value = fields.Char(
        string="Default Odoo Value", help="Used for external values that have no line."
    )
    default_res_id = fields.Many2oneReference(
        string="Default Odoo Record",
        model_field="res_model",
        help="Used for external values that have no line.",
    )
    line_count = fields.Integer(compute="_compute_line_count", string="Lines Count")

    _sql_constraints = [
        (
            "integration_code_unique",
            "unique(integration_id, code)",
            "An integration has only one value map per code.",
        ),
    ]

    @api.model
    def _selection_res_model(self):
        models_ = self.env["ir.model"].sudo().search([("transient", "=", False)])
        return [(model.model, model.name) for model in models_]

    def _compute_line_count(self):
        counts = dict(
            self.env["ihub.value.map.line"]._read_group(
                [("map_id", "in", self.ids)], ["map_id"], ["__count"]
            )
        )
        for value_map in self:
            value_map.line_count = counts.get(value_map, 0)

    @api.constrains("res_model", "default_value", "default_res_id")
    def _check_default(self):
        for value_map in self:
            if value_map.res_model and value_map.default_value:
                raise ValidationError(
                    _(
                        "Value map %(map)s maps records: its default is a record, not a value.",
                        map=value_map.display_name,
                    )
                )
            if not value_map.res_model and value_map.default_res_id:
                raise ValidationError(
                    _(
                        "Value map %(map)s has no model: its default is a value, not a record.",
                        map=value_map.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if isinstance(vals.get("integration_id"), models.BaseModel):
                vals["integration_id"] = _to_super(vals["integration_id"]).id
        return super().create(vals_list)

    def _url(self):
        """The address of this map's form, for messages telling a user to add a line."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return f"{base_url}/odoo/{VALUE_MAP_PATH}/{self.id}"


class ValueMap:
    """The value map ``code`` of an integration, loaded once per object: one query, and one
    more for a map of records (do they still exist?).

    Get one with ``integration.ihub_value_map("country")``. ``to_odoo`` translates an external
    value into the Odoo value (a string) or record (in the caller's environment) its line
    gives, else the map's default; with neither it raises an ``IHubError`` naming the map and
    the value, with the address where a manager adds the missing line. ``to_external`` goes the
    other way (the first line, by sequence, for that Odoo value or record). Values are compared
    exactly, as strings; integers are converted. Reading needs read access to the integration.
    """

    def __init__(self, integration, code):
        integration = _to_super(integration)
        if not integration.env.su:
            integration.check_access("read")
        self.integration = integration
        self.code = code
        self.env = integration.env
        self._loaded = False

    def __repr__(self):
        return f"<ValueMap {self.code!r} of ihub.integration({self.integration.id})>"

    def to_odoo(self, external_value):
        """The Odoo value or record for ``external_value``; IHubError when unmapped and the
        map has no default."""
        return self.to_odoo_many([external_value])[self._key(external_value)]

    def to_odoo_many(self, external_values):
        """``{external_value: Odoo value or record}`` for all ``external_values`` (keys as
        strings); one IHubError listing every unmapped value when the map has no default."""
        self._load()
        keys = list(dict.fromkeys(self._key(value) for value in external_values))
        missing = [key for key in keys if key not in self._to_odoo]
        if missing and self._default is None:
            raise IHubError(self._unmapped_message(missing, inbound=True))
        return {key: self._target(self._to_odoo.get(key, self._default)) for key in keys}

    def to_external(self, odoo_value):
        """The external value for ``odoo_value`` (a string, or a record of the map's model);
        IHubError when no line maps it."""
        self._load()
        if isinstance(odoo_value, models.BaseModel):
            odoo_value.ensure_one()
            key = (odoo_value._name, odoo_value.id)
        else:
            key = self._key(odoo_value)
        if key not in self._to_external:
            shown = odoo_value.display_name if isinstance(key, tuple) else key
            raise IHubError(self._unmapped_message([shown], inbound=False))
        return self._to_external[key]

    # ---- Internals

    @staticmethod
    def _key(value):
        if isinstance(value, bool) or value is None:
            raise ValueError(f"a value map translates strings and integers, not {value!r}")
        return value if isinstance(value, str) else str(value)

    def _load(self):
        if self._loaded:
            return
        self.env["ihub.value.map"].flush_model()
        self.env["ihub.value.map.line"].flush_model()
        # Read on behalf of a user who may read the integration (checked in __init__).
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id, m.name, m.res_model, m.default_value, m.default_res_id,
                       l.external_value, l.odoo_value, l.res_id
                  FROM ihub_value_map m
                  LEFT JOIN ihub_value_map_line l ON l.map_id = m.id
                 WHERE m.integration_id = %s AND m.code = %s
                 ORDER BY l.sequence, l.id
                """,
                self.integration.id,
                self.code,
            )
        )
        rows = self.env.cr.fetchall()
        if not rows:
            raise IHubError(
                _(
                    "Integration %(integration)s has no value map with code %(code)s. An iHub "
                    "manager adds it on the integration form, page Value Maps.",
                    integration=self.integration.display_name,
                    code=self.code,
                )
            )
        map_id, self._map_name, res_model, default_value, default_res_id = rows[0][:5]
        self._map = self.env["ihub.value.map"].browse(map_id)
        if res_model and res_model not in self.env:
            raise IHubError(
                _(
                    "Value map %(map)s maps records of %(model)s, which is not installed.",
                    map=self._map_name,
                    model=res_model,
                )
            )
        self._res_model = res_model
        lines = [row[5:] for row in rows if row[5] is not None]  # None: a map without lines
        if res_model:
            targets = [(res_model, res_id) if res_id else False for *_values, res_id in lines]
            default = (res_model, default_res_id) if default_res_id else False
            live = self._existing({target for target in [*targets, default] if target})
            # A line whose record was deleted maps nothing: the value is reported unmapped.
            targets = [target if target in live else False for target in targets]
            default = default if default in live else None
        else:
            targets = [odoo_value or False for _value, odoo_value, _record in lines]
            default = default_value or None
        self._to_odoo = {}
        self._to_external = {}
        for (external_value, _odoo, _record), target in zip(lines, targets, strict=True):
            if target is False and res_model:
                continue
            self._to_odoo[external_value] = target
            self._to_external.setdefault(target, external_value)
        self._default = default
        self._loaded = True

    def _existing(self, targets):
        """The ``(model, id)`` targets whose record exists (one query, none when empty)."""
        if not targets:
            return set()
        ids = [res_id for _model, res_id in targets]
        existing = self.env[self._res_model].sudo().browse(ids).exists().ids
        return {(self._res_model, res_id) for res_id in existing}

    def _target(self, target):
        if isinstance(target, tuple):
            return self.env[target[0]].browse(target[1])
        return target

    def _unmapped_message(self, values, inbound):
        shown = ", ".join(repr(value) for value in values[:10])
        if len(values) > 10:
            shown += _(" and %(count)s more", count=len(values) - 10)
        if inbound:
            message = _(
                "Value map %(map)s (%(code)s) of %(integration)s has no line for the external "
                "value %(values)s and no default. An iHub manager adds it at %(url)s"
            )
        else:
            message = _(
                "Value map %(map)s (%(code)s) of %(integration)s has no line for the Odoo "
                "value %(values)s. An iHub manager adds it at %(url)s"
            )
        return message % {
            "map": self._map_name,
            "code": self.code,
            "integration": self.integration.display_name,
            "values": shown,
            "url": self._map.sudo()._url(),
        }
