"""The queue_job side of the benchmark: a method that does nothing, run as a queued job."""

from odoo import models


class BenchTarget(models.AbstractModel):
    """Called as ``env["ihub.bench.target"].with_delay().noop()`` by bench/run.py."""

    _name = "ihub.bench.target"
    _description = "Benchmark Job Target"

    def noop(self):
        """Nothing to do: the benchmark times queue_job's dispatch and bookkeeping."""
        return True
