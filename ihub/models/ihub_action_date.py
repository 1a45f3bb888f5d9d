from odoo import api, fields, models


class IHubActionDate(models.Model):
    """A named moment an integration remembers between runs, e.g. its last order import.

    Integrations read and move them with ``integration.get_action_date(key).date``; managers can
    correct them on the integration form (e.g. to import again from an earlier date).
    """

    _name = "ihub.action.date"
    _description = "Integration Action Date"
    _order = "integration_id, key"
    _rec_name = "key"

    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    key = fields.Char(
        required=True,
        readonly=True,
        help="Technical name the integration uses for this date, e.g. last_order_import_date.",
    )
    date = fields.Datetime(help="Empty until the integration first records it.")

    _sql_constraints = [
        (
            "integration_key_unique",
            "unique(integration_id, key)",
            "An integration has only one action date per key.",
        ),
    ]

    @api.model
    def _get_or_create(self, integration, key):
        """Return ``integration``'s action date ``key``, creating it empty on first use.

        When two transactions create the same new key at once, the unique constraint keeps one
        row: the slower transaction's insert waits for the other and then does nothing, or fails
        with a serialization error if the other committed after it started (Odoo retries such
        requests).
        """
        domain = [("integration_id", "=", integration.id), ("key", "=", key)]
        action_date = self.sudo().search(domain, limit=1)
        if not action_date:
            self.env.cr.execute(
                """
                INSERT INTO ihub_action_date (integration_id, company_id, key, create_uid,
                                              create_date, write_uid, write_date)
                VALUES (%s, %s, %s, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
                ON CONFLICT (integration_id, key) DO NOTHING
                """,
                [
                    integration.id,
                    integration.company_id.id or None,
                    key,
                    self.env.uid,
                    self.env.uid,
                ],
            )
            action_date = self.sudo().search(domain, limit=1)
        # Integration code runs as any iHub user; the date is the integration's own state.
        return action_date
