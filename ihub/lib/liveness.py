"""Whether the worker of a run is alive, asked of PostgreSQL rather than of clocks.

While a run executes, its worker holds a session-level advisory lock keyed by the run's id on a
connection of its own. PostgreSQL releases the lock the moment that connection ends: when the
worker process dies, is killed by the prefork master, or its host goes away. Another worker that
can take the lock therefore knows the run's worker is gone; one that cannot knows it is alive,
however late its clock or slow its progress.
"""

import heapq
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import time

_logger = logging.getLogger(__name__)

# First key of iHub's two-key advisory locks, so that they never collide with other addons'.
RUN_LOCK_SPACE = 0x1B0B


class LockConnectionLost(Exception):
    """The connection holding run locks broke: the locks it held are gone with it."""


class RunLock:
    """The advisory lock of run ``run_id``, held on a connection of its own.

    ``connect()`` returns a DB-API cursor on a connection not shared with the worker's
    transaction (it must stay open while the worker's transactions commit and roll back):
    a new connection, or the worker thread's ``LockSession``. The lock is taken before the
    claim of the run is committed, so that no other worker ever sees the run *running*
    without its lock held.
    """

    def __init__(self, connect, run_id):
        self._connect = connect
        self.run_id = run_id
        self._cursor = None

    def acquire(self):
        """Take the lock; False when another session holds it."""
        try:
            return self._acquire()
        except LockConnectionLost:
            # A lock session whose connection broke while idle connects again, once.
            return self._acquire()

    def _acquire(self):
        cursor = self._connect()
        try:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_SPACE, self.run_id])
            (acquired,) = cursor.fetchone()
            # A session lock outlives its transaction: end the transaction so that the
            # connection idles outside of one for as long as the run lasts.
            cursor.commit()
        except Exception:
            cursor.close()
            raise
        if not acquired:
            cursor.close()
            return False
        self._cursor = cursor
        return True

    def release(self):
        """Give the lock back and close the cursor (safe to call twice)."""
        cursor, self._cursor = self._cursor, None
        if cursor is None:
            return
        try:
            # Connections are reused: unlock explicitly rather than rely on the close.
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_SPACE, self.run_id])
            cursor.commit()
        except LockConnectionLost:
            pass  # the lock went with its connection
        finally:
            cursor.close()


class LockSession:
    """One connection, in autocommit, holding the run locks of one worker thread.

    A run lock then costs one statement to take and one to give back, instead of a pooled
    connection borrowed (and reset) per run, with a transaction for each. ``connect()``
    returns a new DB-API connection; it is opened on first use, and again once it broke (the
    server restarted, an idle timeout), the locks it held being gone with it. Get the
    session of the current thread with ``lock_session``: one thread uses it at a time.
    """

    def __init__(self, connect):
        self._connect = connect
        self._connection = None

    def cursor(self):
        """A cursor for ``RunLock`` on this session's connection (opened when needed)."""
        if self._connection is None or self._connection.closed:
            connection = self._connect()
            connection.autocommit = True
            self._connection = connection
        return _SessionCursor(self._connection.cursor())


class _SessionCursor:
    """A cursor of a ``LockSession``: statements commit by themselves, ``close`` keeps the
    connection for the next run, and a broken connection raises ``LockConnectionLost``."""

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, query, params):
        try:
            self._cursor.execute(query, params)
        except Exception as error:
            if self._cursor.connection.closed:
                raise LockConnectionLost(str(error)) from error
            raise

    def fetchone(self):
        return self._cursor.fetchone()

    def commit(self):
        """Nothing to do: the session's connection is in autocommit."""

    def close(self):
        try:
            self._cursor.close()
        except Exception:  # noqa: S110 - a cursor of a broken connection has nothing to free
            pass


_sessions = threading.local()


def lock_session(key, connect):
    """The ``LockSession`` of the current thread for ``key`` (a database name).

    A forked process starts with sessions of its own: the connections it inherited belong to
    its parent and are left alone (closing them would end the parent's sessions).
    """
    by_key = getattr(_sessions, "by_key", None)
    if by_key is None or _sessions.pid != os.getpid():
        if by_key is not None:
            _inherited.extend(by_key.values())
        by_key = _sessions.by_key = {}
        _sessions.pid = os.getpid()
    session = by_key.get(key)
    if session is None:
        session = by_key[key] = LockSession(connect)
    return session


# Sessions a forked process inherited: kept referenced, so that they are never closed here.
_inherited = []


def worker_is_gone_sql():
    """SQL that takes the lock of run ``%s`` for the current transaction if nobody holds it.

    True means no worker holds the run; the lock then keeps other recoverers away until the
    current transaction ends.
    """
    return f"SELECT pg_try_advisory_xact_lock({RUN_LOCK_SPACE}, %s)"


def start_watch(orders):
    """Start ``run_watch.py`` for one run (``orders``: see that module); return the process.

    The process is reaped by a daemon thread, and lives in a session of its own so that a
    signal to the worker's process group does not take it along.
    """
    process = subprocess.Popen(
        [sys.executable, os.path.join(os.path.dirname(__file__), "run_watch.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    process.stdin.write(json.dumps(orders).encode())
    process.stdin.close()
    threading.Thread(target=process.wait, name="ihub-run-watch-reaper", daemon=True).start()
    return process


class DelayedCalls:
    """Calls functions after a delay from one daemon thread, started on first use.

    It replaces a timer thread per run (``_watch_if_long``): scheduling and cancelling cost no
    thread, and the thread wakes at most every ``granularity`` seconds, whatever the number of
    runs; a call may come that much late. A forked process starts empty (the thread does not
    come along).
    """

    def __init__(self, granularity=0.5):
        self.granularity = granularity
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self):
        self._condition = threading.Condition()
        self._calls = []  # heap of (when, sequence, call)
        self._sequence = itertools.count()
        self._thread = None

    def call_later(self, delay, function):
        """Call ``function()`` in ``delay`` seconds; return the call (``call.cancel()``)."""
        call = DelayedCall(function)
        with self._condition:
            heapq.heappush(self._calls, (time.monotonic() + delay, next(self._sequence), call))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="ihub-delayed-calls", daemon=True
                )
                self._thread.start()
            elif self._calls[0][2] is call:
                self._condition.notify()  # sooner than what the thread waits for
        return call

    def _loop(self):
        with self._condition:
            while True:
                if not self._calls:
                    self._condition.wait()
                    continue
                wait = self._calls[0][0] - time.monotonic()
                if wait > 0:
                    self._condition.wait(max(wait, self.granularity))
                    continue
                call = heapq.heappop(self._calls)[2]
                function, call.function = call.function, None
                if function is None:
                    continue  # cancelled
                self._condition.release()
                try:
                    function()
                except Exception:
                    _logger.exception("iHub: a delayed call failed")
                finally:
                    self._condition.acquire()


class DelayedCall:
    """A call scheduled by ``DelayedCalls``."""

    def __init__(self, function):
        self.function = function

    def cancel(self):
        self.function = None


delayed_calls = DelayedCalls()
