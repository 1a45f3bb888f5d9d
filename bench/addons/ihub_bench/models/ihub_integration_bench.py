"""The integration the benchmark runs: its runs do no work, so what is timed is iHub itself."""

from odoo import models


class BenchIntegration(models.Model):
    """An integration whose run does nothing (bench/run.py measures iHub's own overhead)."""

    _name = "ihub.integration.bench"
    _inherit = "ihub.abstract_integration"
    _description = "Benchmark Integration"

    description = "<p>Used by the benchmark: its runs do nothing.</p>"

    def run_from_to(self, _from, _to):
        """Nothing to do: the benchmark times queueing, claiming and recording the run."""
        return True
