from odoo import fields, models

from .ihub_mapper import Mapper
from .ihub_value_map import ValueMap


class IHubIntegration(models.Model):
    """External ids and value maps of an integration: the author API and the form's pages.

    Kept apart from ``ihub_integration.py`` so that the integration's core stays readable.
    """

    _inherit = "ihub.integration"

    mapper_ids = fields.One2many("ihub.mapper", "integration_id", string="External IDs")
    value_map_ids = fields.One2many("ihub.value.map", "integration_id", string="Value Maps")
    mapper_count = fields.Integer(compute="_compute_mapper_count", string="External IDs Count")
    mapper_count_label = fields.Char(compute="_compute_mapper_count")

    def _compute_mapper_count(self):
        counts = {}
        if self.ids:
            self.env["ihub.mapper"].flush_model(["integration_id"])
            # Capped like the events count: the form's cost does not grow with the mappings.
            self.env.cr.execute(
                """
                SELECT integration.id, counted.n
                  FROM unnest(%(ids)s) AS integration(id)
                  CROSS JOIN LATERAL (
                        SELECT count(*) AS n FROM (
                            SELECT 1 FROM ihub_mapper WHERE integration_id = integration.id
                             LIMIT %(cap)s) capped
                       ) counted
                """,
                {"ids": self.ids, "cap": self.COUNT_CAP + 1},
            )
            counts = dict(self.env.cr.fetchall())
        for integration in self:
            integration.mapper_count = counts.get(integration.id, 0)
            integration.mapper_count_label = self._count_label(integration.mapper_count)

    def ihub_mapper(self, model_name):
        """The external ids of ``model_name`` records for this integration (a ``Mapper``).

        Inside ``run_from_to``::

            partners = self.ihub_mapper("res.partner")
            known = partners.records([row["id"] for row in page])  # {external id: partner}
            for row in page:
                partner = known.get(str(row["id"]))
                if partner:
                    partner.write(convert(row))
                else:
                    partners.bind(row["id"], Partner.create(convert(row)), row["etag"])
            partners.external_id(partner)  # -> "42" or None

        Bulk calls (``records``, ``hashes``, ``external_ids``, ``bind_many``) are one query
        each. The run binds as its run user; outside runs, only iHub managers bind.
        """
        self.ensure_one()
        return Mapper(self, model_name)

    def ihub_value_map(self, code):
        """The value map ``code`` of this integration (a ``ValueMap``), e.g.::

            statuses = self.ihub_value_map("order_status")
            order_state = statuses.to_odoo(row["status"])  # "sale"; IHubError if unmapped
            countries = self.ihub_value_map("country")  # a map of res.country records
            by_code = countries.to_odoo_many({row["country"] for row in page})
            countries.to_external(partner.country_id)  # "DE"

        iHub managers add maps and their lines on the integration form (page Value Maps).
        """
        self.ensure_one()
        return ValueMap(self, code)

    def action_open_mappers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ihub.ihub_mapper_action")
        action["context"] = {
            "search_default_integration_id": self.id,
            "default_integration_id": self.id,
        }
        return action
