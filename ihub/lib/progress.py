"""What a running job knows about itself while ``run_from_to`` works."""

import threading
from dataclasses import dataclass, field

# The runs executing in this thread, by job id. Only iHub's runner puts them here: it is how
# contract methods and events know, without trusting a caller's context, that they are called
# inside a real run of their integration.
running = threading.local()


def progress_by_job():
    """The ``RunProgress`` of each run this thread executes, by job id."""
    if not hasattr(running, "jobs"):
        running.jobs = {}
    return running.jobs


def slice_deadline():
    """When the runner running in this thread must stop starting work (a ``time.time()``),
    or None when it has no time limit."""
    return getattr(running, "deadline", None)


def running_job_id(integration_id):
    """The id of the run of ``integration_id`` this thread is executing or recording, or None."""
    for job_id, progress in progress_by_job().items():
        if progress.integration_id == integration_id:
            return job_id
    return None


def executing(integration_id):
    """Whether this thread is inside ``run_from_to`` of a run of ``integration_id``."""
    return any(
        p.integration_id == integration_id and p.executing for p in progress_by_job().values()
    )


def executing_sub(model, record_id):
    """Whether this thread is inside the code of a run whose sub-record is ``record_id`` of
    ``model``: the same answer as ``executing`` for its integration, without reading it."""
    sub = (model, record_id)
    return any(p.sub == sub and p.executing for p in progress_by_job().values())


@dataclass
class RunProgress:
    """Counts and resume point of one run, kept in memory until they are committed.

    Counts live here and are stored on the job when progress is committed and when the run
    ends. ``executing`` is true while the integration's code runs; ``lock`` is the run's
    ``liveness.RunLock``.
    """

    integration_id: int = 0
    # The integration's sub-record the run calls, as (model, id), once known.
    sub: tuple | None = None
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    checkpoint: str | None = None
    savepoint: object = field(default=None, repr=False)
    lock: object = field(default=None, repr=False)
    executing: bool = False
    dry_run: bool = False
    # Outside ids a dry run would have created, by model: later steps may refer to them.
    planned: dict = field(default_factory=dict, repr=False)
    # HTTP exchanges recorded since the last commit, written with the next one.
    exchanges: list = field(default_factory=list, repr=False)
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
