"""How healthy an integration looks on the dashboard, when it is "stale", and how often a
running run tells the screens about its progress.

Plain functions of plain values: the model feeds them what it read with indexed queries.
"""

from datetime import timedelta

# Dashboard colours: indexes of Odoo's colour picker (kanban ``highlight_color``).
HEALTH_COLORS = {"failing": 1, "late": 2, "ok": 10, "idle": 0}

# A running run sends at most one progress update per this many seconds to the screens; its
# start and end are always sent.
PROGRESS_UPDATE_SECONDS = 2.0


def health(state, failure_streak, stale):
    """Return ``failing``, ``late``, ``ok`` or ``idle`` for an integration.

    failing: it failed, or its latest runs failed (retries may still succeed); late: started
    but not successful for too long (``stale``); ok: started and succeeding; idle: a draft or
    stopped integration that has not failed.
    """
    if state == "failed" or failure_streak:
        return "failing"
    if state != "active":
        return "idle"
    return "late" if stale else "ok"


def is_stale(now, last_success, active_since, interval, intervals):
    """Whether a started integration has gone ``intervals`` schedule intervals without success.

    Counted from its last success, or from when it was started if it has not succeeded since.
    ``interval`` is a timedelta or relativedelta; ``intervals`` 0 (or less) disables the alert.
    """
    if intervals <= 0:
        return False
    since = max(filter(None, (last_success, active_since)), default=None)
    if since is None:
        return False
    deadline = since
    for _step in range(intervals):
        deadline = deadline + interval
    return now > deadline


def progress_update_due(last_sent, now):
    """Whether a progress update of a running run is sent now (``last_sent``: a time.time())."""
    return last_sent is None or now - last_sent >= PROGRESS_UPDATE_SECONDS


def last_24_hours(now):
    """The start of the period the dashboard counts runs and errors in."""
    return now - timedelta(hours=24)
