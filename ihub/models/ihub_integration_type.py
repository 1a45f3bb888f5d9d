import base64
import functools

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import file_path

# The class attributes of a sub-model that describe its behaviour (see AbstractIntegration).
FLAGS = (
    "is_job",
    "is_manually_runnable",
    "has_time_period",
    "is_multi_company_compatible",
    "is_singleton",
    "has_dry_run",
    "accepts_webhooks",
)


RULE = "iHub: integrations of the allowed companies"


@functools.lru_cache(maxsize=256)
def _addon_icon(addon):
    """Return the base64 icon an addon ships in ``static/description/icon.png``, or False."""
    try:
        path = file_path(f"{addon}/static/description/icon.png")
    except FileNotFoundError:
        return False
    with open(path, "rb") as icon:
        return base64.b64encode(icon.read())


class IHubIntegrationType(models.Model):
    """A kind of integration that can be created, e.g. "Bank statements from MyBank".

    Each integration addon defines its type in ``data/integration_type.xml``; ``model_name`` names
    the sub-model (inheriting ``ihub.abstract_integration``) that implements it.
    """

    _name = "ihub.integration.type"
    _description = "Integration Type"
    _order = "sequence, name, id"
    _parent_store = True

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True, help="Unique technical code, e.g. 'demo'. Never shown to users."
    )
    model_name = fields.Char(
        string="Model",
        required=True,
        help="Technical name of the model implementing this type, e.g. 'ihub.integration.demo'.",
    )
    description = fields.Html(
        translate=True,
        sanitize=True,
        help="What this integration does, shown when choosing a type. Defaults to the "
        "description written on the model.",
    )
    summary = fields.Html(compute="_compute_summary", string="About")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    parent_id = fields.Many2one(
        "ihub.integration.type",
        string="Parent Type",
        index=True,
        ondelete="restrict",
        help="For connectors: the general type this one specialises.",
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("ihub.integration.type", "parent_id", string="Child Types")
    icon = fields.Image(
        compute="_compute_icon",
        inverse="_inverse_icon",
        help="Defaults to the icon of the addon that defines the model.",
    )
    custom_icon = fields.Image(max_width=512, max_height=512, attachment=True)
    integration_ids = fields.One2many("ihub.integration", "type_id", string="Integrations")
    integration_count = fields.Integer(compute="_compute_integration_count")
    is_job = fields.Boolean(compute="_compute_flags", string="Runs on a Schedule")
    is_manually_runnable = fields.Boolean(compute="_compute_flags", string="Can Run Manually")
    has_time_period = fields.Boolean(compute="_compute_flags", string="Runs Over a Period")
    is_multi_company_compatible = fields.Boolean(
        compute="_compute_flags", string="Handles All Companies"
    )
    is_singleton = fields.Boolean(compute="_compute_flags", string="Only One Allowed")
    has_dry_run = fields.Boolean(compute="_compute_flags", string="Can Run Dry")
    accepts_webhooks = fields.Boolean(compute="_compute_flags", string="Accepts Webhooks")

    _sql_constraints = [
        ("code_unique", "unique(code)", "An integration type with this code already exists."),
    ]

    @api.depends("model_name")
    def _compute_flags(self):
        for integration_type in self:
            for flag in FLAGS:
                integration_type[flag] = self._model_flag(integration_type.model_name, flag)

    @api.model
    def _model_flag(self, model_name, flag):
        """A flag of sub-model ``model_name``'s class, False when the model is not installed
        (what a type's flags say, without reading the type: the webhook intake asks it)."""
        model_class = self.env.registry.get(model_name) if model_name else None
        return bool(getattr(model_class, flag, False))

    @api.depends("model_name", "description")
    def _compute_summary(self):
        for integration_type in self:
            model_class = integration_type._model_class()
            integration_type.summary = integration_type.description or getattr(
                model_class, "description", ""
            )

    @api.depends("model_name", "custom_icon")
    def _compute_icon(self):
        for integration_type in self:
            model_class = integration_type._model_class()
            addon = model_class and model_class._original_module
            integration_type.icon = integration_type.custom_icon or (addon and _addon_icon(addon))

    def _inverse_icon(self):
        for integration_type in self:
            integration_type.custom_icon = integration_type.icon

    def _compute_integration_count(self):
        counts = dict(
            self.env["ihub.integration"]._read_group(
                [("type_id", "in", self.ids)], ["type_id"], ["__count"]
            )
        )
        for integration_type in self:
            integration_type.integration_count = counts.get(integration_type, 0)

    @api.constrains("model_name")
    def _check_model_name(self):
        for integration_type in self:
            model_class = integration_type._model_class()
            if model_class is None:
                raise ValidationError(
                    _(
                        "Integration type '%(type)s' names the model '%(model)s', which is not "
                        "installed.",
                        type=integration_type.name,
                        model=integration_type.model_name,
                    )
                )
            if model_class._inherits.get("ihub.integration") != "super_id":
                raise ValidationError(
                    _(
                        "The model '%(model)s' of integration type '%(type)s' must inherit "
                        "'ihub.abstract_integration'.",
                        type=integration_type.name,
                        model=integration_type.model_name,
                    )
                )

    @api.constrains("parent_id")
    def _check_parent_id(self):
        if self._has_cycle():
            raise ValidationError(_("An integration type cannot be its own parent."))

    # ---- CRUD

    @api.model_create_multi
    def create(self, vals_list):
        integration_types = super().create(vals_list)
        integration_types._ensure_company_rule()
        return integration_types

    def write(self, vals):
        if "model_name" in vals:
            used = self.filtered(
                lambda t: (
                    t.model_name != vals["model_name"]
                    and t.sudo().with_context(active_test=False).integration_ids
                )
            )
            if used:
                raise UserError(
                    _(
                        "The model of integration type '%(type)s' cannot change: integrations "
                        "of this type exist, and their settings live in that model.",
                        type=used[0].name,
                    )
                )
        result = super().write(vals)
        if "model_name" in vals:
            self._ensure_company_rule()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        for integration_type in self:
            integrations = integration_type.sudo().with_context(active_test=False).integration_ids
            if integrations:
                raise UserError(
                    _(
                        "Integration type '%(type)s' cannot be deleted: it is used by %(names)s. "
                        "Delete those integrations first, or archive the type to hide it from "
                        "the catalogue.",
                        type=integration_type.name,
                        names=", ".join(integrations[:5].mapped("name"))
                        + (" …" if len(integrations) > 5 else ""),
                    )
                )

    def _ensure_company_rule(self):
        """Give each sub-model the company rule of the integrations.

        Odoo applies a model's own record rules only, not those of the model it ``_inherits``:
        without this, a user of one company could read another company's sub-records (their
        settings and credentials) directly.
        """
        Rule = self.env["ir.rule"].sudo()
        for integration_type in self:
            model = self.env["ir.model"]._get(integration_type.model_name)
            if not model or Rule.search_count([("model_id", "=", model.id), ("name", "=", RULE)]):
                continue
            Rule.create(
                {
                    "name": RULE,
                    "model_id": model.id,
                    "domain_force": "['|', ('company_id', '=', False), "
                    "('company_id', 'in', company_ids)]",
                }
            )

    def _model_class(self):
        """Return the registry class of this type's model, or None if it is not installed."""
        self.ensure_one()
        if not self.model_name or self.model_name not in self.env.registry:
            return None
        return self.env.registry[self.model_name]

    @api.model
    def _for_model(self, model_name):
        """Return the type implemented by ``model_name``; raise a clear error if there is none."""
        integration_type = (
            self.sudo()
            .with_context(active_test=False)
            .search([("model_name", "=", model_name)], limit=1)
        )
        if not integration_type:
            raise UserError(
                _(
                    "No integration type uses the model '%(model)s'. Its addon must define one "
                    "in data/integration_type.xml.",
                    model=model_name,
                )
            )
        return integration_type

    def action_create_integration(self):
        """Open a new, unsaved integration of this type (the catalogue's Add).

        It is the form of the type's own model, so that what only this kind of integration has
        (its required settings, as well as the name and the responsible) is filled before
        anything is saved; Discard leaves nothing behind.
        """
        self.ensure_one()
        model_class = self._model_class()
        if model_class is None:
            raise UserError(
                _(
                    "The addon of integration type '%(type)s' is not installed.",
                    type=self.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": self.model_name,
            "views": [(False, "form")],
            "target": "current",
            "name": _("New %(type)s Integration", type=self.name),
            "context": {"default_name": self.name, "default_type_id": self.id},
        }
