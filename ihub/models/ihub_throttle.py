import time

from odoo import fields, models

from odoo.addons.ihub.lib.throttle import PERIODS, Quota, reserve


class IHubThrottle(models.Model):
    """When the next outbound request of an integration may go (see ``lib/throttle.py``).

    One row per throttled integration, apart from the integration's own row: each request
    reserves its slot in a short transaction of its own, which must never wait for a run
    that holds the integration's row.
    """

    _name = "ihub.throttle"
    _description = "iHub Outbound Request Pace"
    _log_access = False

    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", index=True
    )
    next_slot_at = fields.Datetime()

    _sql_constraints = [
        ("integration_unique", "unique(integration_id)", "One pace per integration."),
    ]

    def _ihub_wait_for_slot(self, integration_id, limit, period):
        """Reserve the next request's slot of the integration and sleep until it comes."""
        wait = self._ihub_reserve_slot(integration_id, limit, period)
        if wait > 0:
            time.sleep(wait)
        return wait

    def _ihub_reserve_slot(self, integration_id, limit, period):
        """Reserve the next request's slot; return the seconds to wait for it.

        The reservation uses the database's clock, shared by every server, and commits at
        once, so that workers and servers take turns whatever their own clocks say.
        """
        quota = Quota(limit=limit, period_seconds=PERIODS[period])
        if not self.env["ihub.job"]._can_commit():
            # Tests: their transaction is never committed, a second one would not see it.
            return self._ihub_reserve_in(self.env.cr, integration_id, quota)
        with self.env.registry.cursor() as cr:
            return self._ihub_reserve_in(cr, integration_id, quota)

    @staticmethod
    def _ihub_reserve_in(cr, integration_id, quota):
        cr.execute(
            """
            INSERT INTO ihub_throttle (integration_id) VALUES (%s)
            ON CONFLICT (integration_id) DO NOTHING
            """,
            (integration_id,),
        )
        cr.execute(
            """
            SELECT next_slot_at, clock_timestamp() AT TIME ZONE 'UTC'
              FROM ihub_throttle WHERE integration_id = %s FOR UPDATE
            """,
            (integration_id,),
        )
        next_slot_at, now = cr.fetchone()
        wait, next_slot_at = reserve(next_slot_at, now, quota)
        cr.execute(
            "UPDATE ihub_throttle SET next_slot_at = %s WHERE integration_id = %s",
            (next_slot_at, integration_id),
        )
        return wait
