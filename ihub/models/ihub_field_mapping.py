from odoo import api, fields, models

from odoo.addons.ihub.lib.sync import FieldMapping


class IHubFieldMapping(models.Model):
    """Which field of an Odoo model each value of an outside record fills, without code.

    Integration code turns it into the ``convert`` of an import with
    ``self.ihub_field_mapping(code)``; managers edit its lines in the integration's form.
    """

    _name = "ihub.field.mapping"
    _description = "iHub Field Mapping"
    _order = "integration_id, code"

    integration_id = fields.Many2one(
        "ihub.integration", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    name = fields.Char(required=True)
    code = fields.Char(
        required=True, help="How the integration's code names this mapping (ihub_field_mapping)."
    )
    res_model = fields.Selection(
        selection="_selection_res_model", string="Odoo Model", required=True
    )
    line_ids = fields.One2many("ihub.field.mapping.line", "mapping_id", string="Fields", copy=True)

    _sql_constraints = [
        (
            "code_unique",
            "unique(integration_id, code)",
            "An integration has one field mapping of each code.",
        ),
    ]

    @api.model
    def _selection_res_model(self):
        models_ = self.env["ir.model"].sudo().search([("transient", "=", False)], order="name")
        return [(model.model, model.name) for model in models_]

    def _ihub_compile(self):
        """This mapping as the sync engine's ``FieldMapping``."""
        self.ensure_one()
        return FieldMapping([line._ihub_rule() for line in self.line_ids])
