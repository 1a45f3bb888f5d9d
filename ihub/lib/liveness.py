"""Whether the worker of a run is alive, asked of PostgreSQL rather than of clocks.

While a run executes, its worker holds a session-level advisory lock keyed by the run's id on a
connection of its own. PostgreSQL releases the lock the moment that connection ends: when the
worker process dies, is killed by the prefork master, or its host goes away. Another worker that
can take the lock therefore knows the run's worker is gone; one that cannot knows it is alive,
however late its clock or slow its progress.
"""

import json
import os
import subprocess
import sys
import threading

# First key of iHub's two-key advisory locks, so that they never collide with other addons'.
RUN_LOCK_SPACE = 0x1B0B


class RunLock:
    """The advisory lock of run ``run_id``, held on a dedicated connection.

    ``connect()`` returns a new DB-API cursor on its own connection, not shared with the
    worker's transaction (it must stay open while the worker's transactions commit and roll
    back). The lock is taken before the claim of the run is committed, so that no other worker
    ever sees the run *running* without its lock held.
    """

    def __init__(self, connect, run_id):
        self._connect = connect
        self.run_id = run_id
        self._cursor = None

    def acquire(self):
        """Take the lock; False when another session holds it."""
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
        """Give the lock back and close the connection (safe to call twice)."""
        cursor, self._cursor = self._cursor, None
        if cursor is None:
            return
        try:
            # Pooled connections are reused: unlock explicitly rather than rely on the close.
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_SPACE, self.run_id])
            cursor.commit()
        finally:
            cursor.close()


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
