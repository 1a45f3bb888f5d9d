"""What a running job knows about itself while ``run_from_to`` works."""

from dataclasses import dataclass, field


@dataclass
class RunProgress:
    """Counts and resume point of one run, kept in memory until they are committed.

    The run's transaction must not write the job row (its heartbeat is written to that row by
    another connection), so counts live here and are stored when progress is committed and when
    the run ends.
    """

    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    checkpoint: str | None = None
    savepoint: object = field(default=None, repr=False)
    # The values stored by the last commit: what a failure leaves, since the rest is undone.
    committed: dict = field(default_factory=dict)

    def add(self, processed=0, succeeded=0, failed=0):
        if min(processed, succeeded, failed) < 0:
            raise ValueError("counts only grow")
        self.processed += processed
        self.succeeded += succeeded
        self.failed += failed

    def values(self):
        """The job fields these counts are stored in."""
        return {
            "processed_count": self.processed,
            "succeeded_count": self.succeeded,
            "failed_count": self.failed,
            "checkpoint": self.checkpoint,
        }
