"""When an integration runs and over which period: scheduled windows and retry delays."""

import random
from datetime import timedelta

from dateutil.relativedelta import relativedelta

INTERVAL_UNITS = ("minutes", "hours", "days", "weeks", "months")


def interval_delta(number, unit):
    """Return the schedule interval ``number`` ``unit`` as a relativedelta."""
    if unit not in INTERVAL_UNITS:
        raise ValueError(f"unknown interval unit {unit!r}")
    if number <= 0:
        raise ValueError("the interval must be positive")
    return relativedelta(**{unit: number})


def scheduled_window(now, watermark, first_start, interval, delay, overlap=timedelta(0)):
    """Return the ``(from, to)`` period a scheduled run covers, or None when it would be empty.

    ``to`` is ``now - delay``: data younger than ``delay`` may still be arriving. ``from`` is
    where the last successful scheduled run stopped (the watermark); on the first run it is
    ``first_start`` when the user set one, else one interval back. ``overlap`` reaches further
    back for sources whose records show up late.
    """
    date_to = now - delay
    if watermark:
        date_from = watermark - overlap
    elif first_start:
        date_from = first_start
    else:
        date_from = now - interval
    if date_to <= date_from:
        return None
    return date_from, date_to


def retry_delay(failed_attempts, base=60.0, factor=5.0, ceiling=86400.0, jitter=0.1, rng=None):
    """Seconds to wait before the next attempt after ``failed_attempts`` failures.

    Exponential: 1, 5, 25 minutes … by default, capped at a day. The jitter (±10%) spreads
    retries of integrations that failed together, e.g. when a shared server was down.
    """
    if failed_attempts < 1:
        raise ValueError("a retry follows at least one failure")
    delay = min(base * factor ** (failed_attempts - 1), ceiling)
    spread = (rng or random).uniform(-jitter, jitter)
    return max(0.0, delay * (1 + spread))


def runner_budget(time_limit, default=50.0, share=0.5):
    """Seconds a runner cron keeps starting work.

    ``time_limit`` is what a prefork server gives a cron worker before killing it
    (``limit_time_real_cron``), None when nothing kills it. The runner stops starting runs, and
    batched runs pause at their next checkpoint, after ``share`` of it, leaving the rest for
    the batch in progress to finish.
    """
    if not time_limit:
        return default
    return max(1.0, min(default, time_limit * share))
