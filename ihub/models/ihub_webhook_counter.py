from odoo import fields, models

CODES = [
    ("duplicate", "Duplicate"),
    ("handshake", "Handshake"),
    ("not_found", "404 Unknown or Rotated Token"),
    ("method_not_allowed", "405 Wrong Method"),
    ("payload_too_large", "413 Too Large"),
    ("rate_limited", "429 Rate Limited"),
    ("unauthorized", "401 Bad or Missing Signature"),
    ("stale_timestamp", "401 Stale or Future Timestamp"),
    ("bad_request", "400 Malformed JSON"),
    ("unavailable", "503 Integration Stopped"),
]


class IHubWebhookCounter(models.Model):
    """How many pushes an integration's URL refused (or found duplicate), by outcome.

    Accepted pushes are not counted here: each is an ``ihub.webhook.event``.

    Counted in a short transaction of its own per request (``_ihub_count``), on rows apart from
    the integration's, so that counting never waits for a run holding the integration. Requests
    with a token nobody has are counted with no integration.
    """

    _name = "ihub.webhook.counter"
    _description = "Webhook Answer Counter"
    _order = "integration_id, code"
    _log_access = False

    integration_id = fields.Many2one("ihub.integration", ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    code = fields.Selection(CODES, required=True, readonly=True)
    count = fields.Integer(readonly=True)
    last_at = fields.Datetime(string="Last", readonly=True)

    def init(self):
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS ihub_webhook_counter_unique
                ON ihub_webhook_counter ((COALESCE(integration_id, 0)), code)
            """
        )

    def _ihub_count(self, cr, integration_id, code):
        """Add one to the counter (in ``cr``, which the caller commits)."""
        cr.execute(
            """
            INSERT INTO ihub_webhook_counter (integration_id, company_id, code, count, last_at)
            SELECT %(integration)s,
                   (SELECT company_id FROM ihub_integration WHERE id = %(integration)s),
                   %(code)s, 1, now() AT TIME ZONE 'UTC'
            ON CONFLICT ((COALESCE(integration_id, 0)), code)
            DO UPDATE SET count = ihub_webhook_counter.count + 1, last_at = EXCLUDED.last_at
            """,
            {"integration": integration_id, "code": code},
        )
