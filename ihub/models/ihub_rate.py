from odoo import api, fields, models

from odoo.addons.ihub.lib.ratelimit import decide


class IHubRate(models.Model):
    """How much of its quota each caller of iHub has spent (``lib/ratelimit.decide``): an API
    key (scope ``api``, key: the key's id), an integration's push URL (scope ``webhook``, key:
    the integration's id).

    One row per scope and key. Each request takes its slot in a short transaction of its own
    that commits at once: all workers and servers share the count, and no request waits for
    another one's transaction to end.
    """

    _name = "ihub.rate"
    _description = "iHub Request Quota"
    _log_access = False

    scope = fields.Char(required=True)
    key = fields.Integer(required=True)
    tat = fields.Datetime(string="Quota Full Again At")

    _sql_constraints = [("scope_key_unique", "unique(scope, key)", "One quota per caller.")]

    @api.model
    def _ihub_take(self, scope, key, limit, period):
        """Take a slot for one request of ``key`` in ``scope``, under ``limit`` requests per
        ``period`` seconds: a ``ratelimit.Decision``."""
        if not self.env["ihub.job"]._can_commit():
            # Tests: their transaction is never committed, a second one would not see it.
            return self._ihub_take_in(self.env.cr, scope, key, limit, period)
        with self.env.registry.cursor() as cr:
            return self._ihub_take_in(cr, scope, key, limit, period)

    @staticmethod
    def _ihub_take_in(cr, scope, key, limit, period):
        cr.execute(
            """
            INSERT INTO ihub_rate (scope, key) VALUES (%s, %s)
            ON CONFLICT (scope, key) DO NOTHING
            """,
            (scope, key),
        )
        # The database's clock: every server agrees on it.
        cr.execute(
            """
            SELECT tat, clock_timestamp() AT TIME ZONE 'UTC'
              FROM ihub_rate WHERE scope = %s AND key = %s FOR UPDATE
            """,
            (scope, key),
        )
        tat, now = cr.fetchone()
        decision = decide(tat, now, max(limit, 1), max(period, 1))
        if decision.allowed:
            cr.execute(
                "UPDATE ihub_rate SET tat = %s WHERE scope = %s AND key = %s",
                (decision.tat, scope, key),
            )
        return decision

    @api.autovacuum
    def _gc_rates(self):
        """Forget the quotas that are full again (those of removed keys and integrations
        among them): a row only matters while its time is ahead."""
        self.env.cr.execute(
            "DELETE FROM ihub_rate WHERE tat IS NULL OR tat < now() AT TIME ZONE 'UTC'"
        )
