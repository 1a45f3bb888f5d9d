"""Webhook plumbing without a database: retry schedules, error bodies, kill points.

Incoming events are retried a few times with the runs' backoff; outgoing deliveries follow a
long schedule (by default 12 attempts spread over 72 hours), because the receiver may be
down for a weekend.
"""

import json
import math
import os
import random
import signal
import time
from email.utils import parsedate_to_datetime

from .schedule import retry_delay

# Environment variable naming the kill points a test switches on (comma separated).
KILL_ENV = "IHUB_WEBHOOK_KILL_AT"
KILL_POINTS = ("before_commit", "after_commit")

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_EVENT_ATTEMPTS = 5
DEFAULT_DELIVERY_ATTEMPTS = 12
DEFAULT_DELIVERY_HOURS = 72
DEFAULT_TIMEOUT = 15
EXCERPT = 2000
# A webhook-lane run that handled events waits this long for the next push before it ends.
DEFAULT_LANE_LINGER = 1.0
LANE_POLL = 0.02
# ... but only while it is younger than this: a steady trickle still ends runs now and then,
# so that the Runs list and the integration's last run stay current.
LANE_LINGER_MAX_AGE = 60.0


def error_body(code, message):
    """The JSON body of every refusal: ``{"error": {"code", "message"}}``."""
    return json.dumps({"error": {"code": code, "message": message}})


def kill_point(name, environ=None):
    """Kill this process at once when the tests switched ``name`` on (see KILL_ENV).

    Used only by the persist-before-ack tests: a real server killed right before or right
    after the commit of a received event. SIGKILL, so nothing is cleaned up or answered.
    """
    points = (environ if environ is not None else os.environ).get(KILL_ENV, "")
    if name in {p.strip() for p in points.split(",")}:
        os.kill(os.getpid(), signal.SIGKILL)


def lane_linger(value):
    """The lane's wait for the next push, in seconds, from its system parameter's text: the
    default when unset, 0 for "0" or less, None when it is not a number."""
    if value in (None, False, ""):
        return DEFAULT_LANE_LINGER
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def wait_for_more(
    has_more,
    linger,
    deadline=None,
    poll=LANE_POLL,
    clock=time.monotonic,
    wall=time.time,
    sleep=time.sleep,
):
    """Poll ``has_more()`` every ``poll`` seconds: True as soon as it is true, False once
    ``linger`` seconds have passed or the wall-clock ``deadline`` (a ``time.time()``) has.

    Why a run waits at all: starting and ending a run (its claim, its bookkeeping, three
    commits) costs more than handling a push. Under a stream of pushes, a run that waits a
    moment for the next one handles the stream itself, instead of one run per few events
    competing with the HTTP workers for the CPU.
    """
    if linger <= 0:
        return False
    end = clock() + linger
    if deadline is not None:
        end = min(end, clock() + (deadline - wall()))
    while True:
        remaining = end - clock()
        if remaining <= 0:
            return False
        sleep(min(poll, remaining))
        if has_more():
            return True


def event_retry_delay(failed_attempts, rng=None):
    """Seconds before an incoming event that failed ``failed_attempts`` times is tried again:
    1, 5, 25 minutes …, as runs are."""
    return retry_delay(failed_attempts, rng=rng)


def delivery_schedule(attempts=DEFAULT_DELIVERY_ATTEMPTS, hours=DEFAULT_DELIVERY_HOURS):
    """Seconds after the first attempt at which each retry is due (without jitter).

    Exponential from 5 s, scaled so that the last of ``attempts`` attempts comes ``hours``
    after the first: 12 attempts over 72 h give 5 s, … about a day between the last two.
    """
    if attempts < 2:
        return []
    total = hours * 3600.0
    # Gaps grow by a constant factor; pick it so that their sum is the whole span.
    gaps = attempts - 1
    low, high = 1.0001, 10.0
    for _ in range(100):
        factor = (low + high) / 2
        span = 5.0 * (factor**gaps - 1) / (factor - 1)
        low, high = (factor, high) if span < total else (low, factor)
    factor = (low + high) / 2
    offsets, gap, at = [], 5.0, 0.0
    for _ in range(gaps):
        at += gap
        offsets.append(at)
        gap *= factor
    scale = total / offsets[-1]
    return [offset * scale for offset in offsets]


def delivery_retry_delay(
    failed_attempts,
    attempts=DEFAULT_DELIVERY_ATTEMPTS,
    hours=DEFAULT_DELIVERY_HOURS,
    jitter=0.1,
    rng=None,
):
    """Seconds to wait after attempt ``failed_attempts`` failed, or None when it was the last.

    The gap to the next point of ``delivery_schedule``, ±``jitter`` so that deliveries that
    failed together (the receiver was down) do not all come back at once.
    """
    if failed_attempts >= attempts:
        return None
    offsets = [0.0, *delivery_schedule(attempts, hours)]
    gap = offsets[failed_attempts] - offsets[failed_attempts - 1]
    return max(1.0, gap * (1 + (rng or random).uniform(-jitter, jitter)))


def retry_after_seconds(value, now=None):
    """Seconds a ``Retry-After`` header asks for (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))
