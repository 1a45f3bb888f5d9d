"""Inbound request quotas (per REST API key, per push URL): a cell rate algorithm with a burst.

Unlike the outbound pace (``lib/throttle.py``), which spaces requests evenly because other
systems count in sliding windows, a client of iHub's API may spend its whole quota at once:
``limit`` requests back to back, then one more every ``period / limit`` seconds. The state is a
single timestamp per key, the *theoretical arrival time* (TAT) — the moment the quota would be
full again — kept in PostgreSQL so that every worker and server shares it
(``ihub.rate``).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Decision:
    allowed: bool
    tat: datetime  # the TAT to store (unchanged when refused)
    limit: int
    remaining: int  # requests still allowed right now
    reset: int  # seconds until the whole quota is available again
    retry_after: int  # seconds until the next request is allowed (0 when allowed)

    def headers(self):
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def decide(tat: datetime | None, now: datetime, limit: int, period_seconds: float) -> Decision:
    """May a request arriving at ``now`` go, under ``limit`` requests per ``period_seconds``?"""
    interval = timedelta(seconds=period_seconds / limit)
    period = timedelta(seconds=period_seconds)
    tat = max(tat or now, now)
    new_tat = tat + interval
    if new_tat - now <= period:
        ahead = new_tat - now
        return Decision(
            allowed=True,
            tat=new_tat,
            limit=limit,
            remaining=int((period - ahead) / interval),
            reset=math.ceil(ahead.total_seconds()),
            retry_after=0,
        )
    wait = (new_tat - period - now).total_seconds()
    return Decision(
        allowed=False,
        tat=tat,
        limit=limit,
        remaining=0,
        reset=math.ceil((tat - now).total_seconds()),
        retry_after=max(1, math.ceil(wait)),
    )
