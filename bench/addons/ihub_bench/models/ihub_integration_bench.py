"""The integration the benchmark runs: its runs do no work, so what is timed is iHub itself."""

from odoo import models


class BenchIntegration(models.Model):
    """An integration whose run does nothing (bench/run.py measures iHub's own overhead), and
    whose webhook hook only notes when it started (bench/webhooks.py)."""

    _name = "ihub.integration.bench"
    _inherit = "ihub.abstract_integration"
    _description = "Benchmark Integration"

    description = "<p>Used by the benchmark: its runs do nothing.</p>"
    accepts_webhooks = True

    def init(self):
        result = super().init()
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS ihub_bench_hook_start (
                event_id integer PRIMARY KEY,
                started_at timestamp NOT NULL
            )
            """
        )
        return result

    def run_from_to(self, _from, _to):
        """Nothing to do: the benchmark times queueing, claiming and recording the run."""
        return True

    def hook(self, event):
        """Note the moment the hook started, to the microsecond (the ORM keeps seconds):
        bench/webhooks.py times received -> hook started from it."""
        self.env.cr.execute(
            """
            INSERT INTO ihub_bench_hook_start (event_id, started_at)
            VALUES (%s, clock_timestamp() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING
            """,
            [event.id],
        )
