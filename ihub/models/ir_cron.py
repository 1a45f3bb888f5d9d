import psycopg2

from odoo import models

# How long an edit of an integration waits for its scheduled action to finish executing.
CRON_WAIT_SECONDS = 10


class IrCron(models.Model):
    _inherit = "ir.cron"

    def _ihub_wait_unlocked(self, seconds=CRON_WAIT_SECONDS):
        """Wait up to ``seconds`` for the scheduler to finish executing these crons, and lock them.

        The scheduler locks a cron's row while the cron executes, and ``write`` refuses at once
        when it finds the row locked. An integration's cron only queues a run and holds its row
        for a moment: editing, starting or stopping the integration waits for that moment
        instead of failing. After ``seconds``, ``write`` refuses as Odoo does.
        """
        if not self:
            return
        cr = self.env.cr
        cr.execute("SELECT current_setting('lock_timeout')")
        previous = cr.fetchone()[0]
        try:
            with cr.savepoint(flush=False):
                cr.execute("SELECT set_config('lock_timeout', %s, true)", [f"{seconds * 1000}ms"])
                # When the cron ran meanwhile, its row changed after this transaction began:
                # PostgreSQL refuses (a serialization failure) and Odoo retries the request,
                # as for any concurrent update; not an error worth a log line.
                cr.execute(
                    "SELECT id FROM ir_cron WHERE id IN %s FOR NO KEY UPDATE",
                    [tuple(self.ids)],
                    log_exceptions=False,
                )
                cr.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
        except psycopg2.errors.LockNotAvailable:
            pass
