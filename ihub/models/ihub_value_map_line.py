from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class IHubValueMapLine(models.Model):
    """One external value of a value map and the Odoo value or record it stands for."""

    _name = "ihub.value.map.line"
    _description = "Integration Value Map Line"
    _order = "map_id, sequence, id"
    _rec_name = "external_value"

    map_id = fields.Many2one(
        "ihub.value.map", string="Value Map", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(
        default=10,
        help="When several external values stand for the same Odoo value, the first one is "
        "sent to the other system.",
    )
    external_value = fields.Char(
        required=True, help="The value as the other system writes it (exact, case included)."
    )
    odoo_value = fields.Char(help="The Odoo value, for a map without a model.")
    res_model = fields.Selection(related="map_id.res_model")
    res_id = fields.Many2oneReference(
        string="Odoo Record", model_field="res_model", help="The Odoo record, for a map of records."
    )

    _sql_constraints = [
        (
            "external_value_unique",
            "unique(map_id, external_value)",
            "Each external value appears once in a value map.",
        ),
    ]

    @api.constrains("odoo_value", "res_id", "map_id")
    def _check_target(self):
        for line in self:
            if line.map_id.res_model and not line.res_id:
                raise ValidationError(
                    _(
                        "In value map %(map)s, %(value)s must point to a record.",
                        map=line.map_id.display_name,
                        value=line.external_value,
                    )
                )
            if not line.map_id.res_model and line.res_id:
                raise ValidationError(
                    _(
                        "Value map %(map)s has no model: give %(value)s an Odoo value, not a "
                        "record.",
                        map=line.map_id.display_name,
                        value=line.external_value,
                    )
                )
