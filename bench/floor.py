"""The physical floor: a bare PostgreSQL job queue, driven by plain psycopg2 worker processes.

It does the durable steps an iHub run needs, and nothing else: claim the next due row with
``SELECT ... FOR UPDATE SKIP LOCKED`` and mark it running, COMMIT (the claim is visible to
everyone), then mark it done, COMMIT (the end). No ORM, no Odoo, one statement per step. What
iHub or queue_job do on top of that is their cost; this is the part no queue on PostgreSQL
can avoid.

Workers wake up like Odoo's cron workers and queue_job's runner do: LISTEN on a channel that
the queueing transaction NOTIFYs at commit, with a select() timeout of ``--idle-poll`` seconds
as a safety net. Once awake, a worker claims and finishes rows until none is left.

Used by ``bench/run.py``, which starts W of them (``python3 bench/floor.py --host ...``) and
stops them by closing their stdin; each also stops by itself after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import sys
import time

import psycopg2

TABLE = "bench_floor_job"
CHANNEL = "bench_floor"

# Its own small table: the columns a run needs to be claimed, due and timed. A partial index
# on the pending rows keeps the claim one index probe, whatever the number of finished rows.
DDL = f"""
    CREATE TABLE IF NOT EXISTS {TABLE} (
        id serial PRIMARY KEY,
        batch integer NOT NULL,
        state varchar NOT NULL DEFAULT 'pending',
        eta timestamp without time zone,
        queued_at timestamp without time zone NOT NULL DEFAULT (now() at time zone 'UTC'),
        started_at timestamp without time zone,
        ended_at timestamp without time zone,
        worker varchar
    );
    CREATE INDEX IF NOT EXISTS {TABLE}_pending_idx ON {TABLE} (id) WHERE state = 'pending';
    CREATE INDEX IF NOT EXISTS {TABLE}_batch_idx ON {TABLE} (batch);
"""

# One statement claims: the oldest due pending row that no other worker is claiming right now.
CLAIM = f"""
    UPDATE {TABLE}
       SET state = 'running', started_at = clock_timestamp() at time zone 'UTC', worker = %s
     WHERE id = (SELECT id FROM {TABLE}
                  WHERE state = 'pending'
                    AND (eta IS NULL OR eta <= now() at time zone 'UTC')
               ORDER BY id
                  LIMIT 1
                    FOR UPDATE SKIP LOCKED)
 RETURNING id
"""
FINISH = f"""
    UPDATE {TABLE} SET state = 'done', ended_at = clock_timestamp() at time zone 'UTC'
     WHERE id = %s
"""


def create_table(cr) -> None:
    """Create the floor's table (the caller commits)."""
    cr.execute(DDL)


def queue(cr, batch: int, count: int) -> None:
    """Queue ``count`` rows of ``batch`` and NOTIFY the workers (both happen at the commit)."""
    cr.execute(f"INSERT INTO {TABLE} (batch) SELECT %s FROM generate_series(1, %s)", [batch, count])
    cr.execute(f"NOTIFY {CHANNEL}")


def run_one(conn, worker: str) -> bool:
    """Claim one due row, commit, finish it, commit; False when there was none."""
    with conn.cursor() as cr:
        cr.execute(CLAIM, [worker])
        row = cr.fetchone()
        conn.commit()  # the claim, visible to every other session
        if row is None:
            return False
        cr.execute(FINISH, row)
        conn.commit()  # the end
        return True


def work(connect_args: dict, max_seconds: float, idle_poll: float) -> int:
    """The worker loop; returns the number of rows it finished."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    listen = psycopg2.connect(**connect_args)
    listen.autocommit = True
    conn = psycopg2.connect(**connect_args)  # READ COMMITTED, PostgreSQL's default
    done = 0
    stdin = sys.stdin.fileno()
    try:
        with listen.cursor() as cr:
            cr.execute(f"LISTEN {CHANNEL}")
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            while run_one(conn, worker):
                done += 1
            ready, _w, _x = select.select([listen, stdin], [], [], idle_poll)
            if stdin in ready and not os.read(stdin, 4096):
                break  # the parent closed our stdin (or died): stop
            listen.poll()
            listen.notifies.clear()
    finally:
        conn.close()
        listen.close()
    return done


def main(argv=None) -> int:
    """Command line of one worker process."""
    parser = argparse.ArgumentParser(prog="bench/floor.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--dbname", required=True)
    parser.add_argument("--max-seconds", type=float, default=3600)
    parser.add_argument("--idle-poll", type=float, default=1.0)
    args = parser.parse_args(argv)
    connect_args = {"host": args.host, "port": args.port, "user": args.user, "dbname": args.dbname}
    work(connect_args, args.max_seconds, args.idle_poll)
    return 0


if __name__ == "__main__":
    sys.exit(main())
