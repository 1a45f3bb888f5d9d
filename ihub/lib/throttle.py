"""Outbound request quotas shared by every worker and server (a generic cell rate algorithm).

An API that allows ``limit`` requests per ``period`` seconds gets one request every
``period / limit`` seconds, evenly paced: then no window of ``period`` seconds, wherever it
starts, holds more than ``limit`` requests (a burst allowance would break that for windows
that straddle the burst, and APIs count in such windows). The state is a
single timestamp per integration — the *theoretical arrival time* (TAT) of the next request —
kept in PostgreSQL so that all workers and servers share it (see
``ihub.integration._ihub_throttle``); each request reserves its slot in one short
transaction, then waits outside of it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

PERIODS = {"second": 1, "minute": 60, "hour": 3600}


@dataclass(frozen=True)
class Quota:
    limit: int
    period_seconds: float

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=self.period_seconds / self.limit)


def reserve(tat: datetime | None, now: datetime, quota: Quota) -> tuple[float, datetime]:
    """Reserve the next request's slot: (seconds to wait before sending, new TAT)."""
    send_at = max(tat or now, now)
    return (send_at - now).total_seconds(), send_at + quota.interval
