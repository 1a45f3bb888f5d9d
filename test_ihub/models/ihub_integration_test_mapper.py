from odoo import fields, models


class MapperTestIntegration(models.Model):
    """Binds external ids and translates values in its runs, as an importer would."""

    _name = "ihub.integration.test.mapper"
    _inherit = "ihub.abstract_integration"
    _description = "Mapper Test Integration"

    partner_ids = fields.Many2many(
        "res.partner", help="Each run binds these partners to 'P<id>' and unbinds 'gone'."
    )
    bind_for_id = fields.Many2one(
        "ihub.integration", help="Each run also tries to bind 'stolen' in this one's mapper."
    )
    value_map_code = fields.Char(help="Each run translates 'in' with this value map.")
    result = fields.Text(help="What the last run saw.")

    def run_from_to(self, _from, _to):
        mapper = self.ihub_mapper("res.partner")
        if self.bind_for_id:
            self.bind_for_id.ihub_mapper("res.partner").bind("stolen", self.partner_ids[:1])
        mapper.bind_many([(f"P{partner.id}", partner) for partner in self.partner_ids])
        mapper.unbind(external_id="gone")
        found = mapper.records([f"P{partner.id}" for partner in self.partner_ids])
        result = [f"{key}={record.id}" for key, record in sorted(found.items())]
        if self.value_map_code:
            result.append(f"in={self.ihub_value_map(self.value_map_code).to_odoo('in')}")
        # Its own bookkeeping, written whoever runs it.
        self.sudo().result = " ".join(result)
