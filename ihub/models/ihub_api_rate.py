from odoo import fields, models

from odoo.addons.ihub.lib.ratelimit import decide

# System parameters: requests allowed per key per period (seconds); defaults below.
LIMIT_PARAM = "ihub.api_rate_limit"
PERIOD_PARAM = "ihub.api_rate_period"
DEFAULT_LIMIT = 120
DEFAULT_PERIOD = 60


class IHubApiRate(models.Model):
    """How much of its quota each API key has spent (see ``lib/ratelimit.py``).

    One row per key. Each request takes its slot in a short transaction of its own that commits
    at once: all workers and servers share the count, and no request waits for another one's
    transaction to end.
    """

    _name = "ihub.api.rate"
    _description = "iHub API Quota of a Key"
    _log_access = False

    key_id = fields.Integer(required=True, index=True)
    tat = fields.Datetime(string="Quota Full Again At")

    _sql_constraints = [("key_unique", "unique(key_id)", "One quota per API key.")]

    def _ihub_take(self, key_id):
        """Take a slot for a request with API key ``key_id``: a ``ratelimit.Decision``."""
        params = self.env["ir.config_parameter"].sudo()
        limit = max(int(params.get_param(LIMIT_PARAM, DEFAULT_LIMIT)), 1)
        period = max(int(params.get_param(PERIOD_PARAM, DEFAULT_PERIOD)), 1)
        if not self.env["ihub.job"]._can_commit():
            # Tests: their transaction is never committed, a second one would not see it.
            return self._ihub_take_in(self.env.cr, key_id, limit, period)
        with self.env.registry.cursor() as cr:
            return self._ihub_take_in(cr, key_id, limit, period)

    @staticmethod
    def _ihub_take_in(cr, key_id, limit, period):
        cr.execute(
            "INSERT INTO ihub_api_rate (key_id) VALUES (%s) ON CONFLICT (key_id) DO NOTHING",
            (key_id,),
        )
        # The database's clock: every server agrees on it.
        cr.execute(
            """
            SELECT tat, clock_timestamp() AT TIME ZONE 'UTC'
              FROM ihub_api_rate WHERE key_id = %s FOR UPDATE
            """,
            (key_id,),
        )
        tat, now = cr.fetchone()
        decision = decide(tat, now, limit, period)
        if decision.allowed:
            cr.execute(
                "UPDATE ihub_api_rate SET tat = %s WHERE key_id = %s", (decision.tat, key_id)
            )
        return decision

    def _gc_rates(self):
        """Forget the quotas of removed keys and those full again."""
        self.env.cr.execute(
            """
            DELETE FROM ihub_api_rate rate
             WHERE rate.tat < now() AT TIME ZONE 'UTC'
                OR NOT EXISTS (SELECT 1 FROM res_users_apikeys k WHERE k.id = rate.key_id)
            """
        )
