from odoo import fields, models

from odoo.addons.ihub.lib.ratelimit import decide


class IHubWebhookRate(models.Model):
    """The rate limit state of an integration's push URL: one timestamp (the quota rule of the
    REST API's keys, ``lib/ratelimit.decide``), in PostgreSQL so that every worker and server
    shares it."""

    _name = "ihub.webhook.rate"
    _description = "Webhook Rate Limit State"
    _log_access = False

    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", index=True
    )
    tat = fields.Datetime(string="Next Free Slot")

    _sql_constraints = [
        ("integration_unique", "unique(integration_id)", "One rate state per integration."),
    ]

    def _ihub_admit(self, integration_id, per_minute):
        """Admit one push of the integration: 0 when admitted, else the seconds to wait.

        Runs in the intake's transaction, just before the event is stored: the row stays
        locked only until that commit.
        """
        cr = self.env.cr
        cr.execute(
            """
            INSERT INTO ihub_webhook_rate (integration_id) VALUES (%s)
            ON CONFLICT (integration_id) DO NOTHING
            """,
            [integration_id],
        )
        cr.execute(
            """
            SELECT tat, clock_timestamp() AT TIME ZONE 'UTC'
              FROM ihub_webhook_rate WHERE integration_id = %s FOR UPDATE
            """,
            [integration_id],
        )
        tat, now = cr.fetchone()
        decision = decide(tat, now, per_minute, 60.0)
        if not decision.allowed:
            return decision.retry_after
        cr.execute(
            "UPDATE ihub_webhook_rate SET tat = %s WHERE integration_id = %s",
            [decision.tat, integration_id],
        )
        return 0
