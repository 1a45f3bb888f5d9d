"""The benchmark client: Odoo in this process, on the benchmark database.

It creates the records, queues work and commits it; the separate Odoo server does the work.
Both systems are timed the same way: from just before the commit of the queued work until a
poll of the database (through a plain psycopg2 connection in autocommit) sees the result.
The jobs' own Datetime fields are not used: they have a precision of one second.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import floor
import psycopg2

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry

RUNNER_XMLID = "ihub.ir_cron_job_runner"
IHUB_UNFINISHED = ("pending", "running")
QUEUE_JOB_FINISHED = ("done", "failed", "cancelled")
QUEUE_JOB_STARTED = ("started", *QUEUE_JOB_FINISHED)
LATENCY_TIMEOUT = 120  # seconds: above the runner cron's 1-minute interval, so a lost wake-up
# shows as a ~60 s latency instead of an error


class BenchTimeout(Exception):
    """The server did not finish the queued work in time."""


@dataclass
class Batch:
    """One throughput measurement."""

    system: str
    jobs: int
    enqueue_seconds: float  # creating the jobs, before the commit (not part of the rate)
    seconds: float  # from the commit to the poll that saw every job finished
    failed: int

    @property
    def rate(self) -> float:
        """Finished jobs per second."""
        return self.jobs / self.seconds

    @property
    def rate_with_queueing(self) -> float:
        """Jobs per second, counting the time it took to create them too."""
        return self.jobs / (self.enqueue_seconds + self.seconds)


class Client:
    """Queues iHub runs and queue_job jobs, and times them by polling the database."""

    def __init__(self, conf, database: str, db_settings, log, poll_interval: float):
        odoo.tools.config.parse_config(["-c", str(conf), f"--logfile={log}"])
        self.registry = Registry(database)
        self.poll_interval = poll_interval
        self.poll = psycopg2.connect(
            dbname=database, host=db_settings.host, port=db_settings.port, user=db_settings.user
        )
        self.poll.autocommit = True
        # The floor's queueing connection: a transaction of its own, committed like the others.
        self.floor = psycopg2.connect(
            dbname=database, host=db_settings.host, port=db_settings.port, user=db_settings.user
        )
        self.floor_batches = 0
        self.latency_integration_id = None
        self.throughput_integration_ids: list[int] = []

    @contextmanager
    def env(self):
        """An environment as superuser on a new cursor, committed at the end of the block."""
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def close(self) -> None:
        """Close every connection this process opened."""
        self.poll.close()
        self.floor.close()
        odoo.sql_db.close_all()

    # ---- Setup

    def setup(self, integrations: int) -> dict:
        """Create the integrations and the floor's table, and quiet the other crons."""
        with self.env() as env:
            runners = env["ihub.job"].with_context(active_test=False)._runner_crons()
            # The other crons of a fresh database (mail, autovacuum, ...) would take cron
            # threads away from the runners at random moments: they are switched off.
            others = env["ir.cron"].search([("id", "not in", runners.ids)])
            others.write({"active": False})
            Bench = env["ihub.integration.bench"].with_context(
                tracking_disable=True, mail_create_nolog=True
            )
            # Runs have the access rights of a real user: iHub refuses to run as the superuser.
            user = env.ref("base.user_admin").id
            latency = Bench.create({"name": "Bench latency", "user_id": user})
            bulk = Bench.create(
                [{"name": f"Bench {n:04d}", "user_id": user} for n in range(integrations)]
            )
            self.latency_integration_id = latency.super_id.id
            self.throughput_integration_ids = bulk.super_id.ids
        with self.floor.cursor() as cr:
            floor.create_table(cr)
        self.floor.commit()
        return {"crons_switched_off": len(others)}

    def set_workers(self, workers: int) -> int:
        """Have exactly ``workers`` active iHub runner crons; return their number."""
        with self.env() as env:
            runner = env.ref(RUNNER_XMLID)
            runners = env["ihub.job"].with_context(active_test=False)._runner_crons()
            runners = runner | (runners - runner).sorted("id")
            for number in range(len(runners) + 1, workers + 1):
                # A copy of the shipped runner: same model and code, so _wake_runner finds it.
                runners |= env["ir.cron"].create(
                    {
                        "name": f"{runner.name} ({number})",
                        "model_id": runner.model_id.id,
                        "state": "code",
                        "code": runner.code,
                        "user_id": runner.user_id.id,
                        "interval_number": runner.interval_number,
                        "interval_type": runner.interval_type,
                        "priority": runner.priority,
                    }
                )
            runners[:workers].filtered(lambda cron: not cron.active).write({"active": True})
            runners[workers:].filtered("active").write({"active": False})
            return len(env["ihub.job"]._runner_crons())

    # ---- Polling

    def _scalar(self, query: str, params) -> object:
        with self.poll.cursor() as cr:
            cr.execute(query, params)
            row = cr.fetchone()
            return row[0] if row else None

    def _wait(self, query: str, params, done, timeout: float, interval: float) -> float:
        """Poll ``query`` until ``done(value)``; return the monotonic time of that poll."""
        deadline = time.monotonic() + timeout
        while True:
            value = self._scalar(query, params)
            now = time.monotonic()
            if done(value):
                return now
            if now > deadline:
                raise BenchTimeout(f"still waiting after {timeout:.0f} s ({query.split()[3]})")
            time.sleep(interval)

    # ---- Throughput

    def ihub_batch(self, jobs: int, timeout: float) -> Batch:
        """Queue ``jobs`` manual runs spread over the integrations, round-robin; time them."""
        with self.env() as env:
            integrations = env["ihub.integration"].browse(self.throughput_integration_ids)
            now = fields.Datetime.now()
            start = time.monotonic()
            queued = env["ihub.job"]
            for number in range(jobs):
                # A period of its own per run: Run Manually refuses a second run of a period
                # already queued; overlaps are what a throughput test queues on purpose.
                queued |= integrations[number % len(integrations)]._run_manually(
                    None, now - timedelta(seconds=number), allow_overlap=True
                )
            env.flush_all()
            enqueued = time.monotonic()
            env.cr.commit()  # notifies the cron threads (one NOTIFY per trigger)
            ids = queued.ids
        end = self._wait(
            "SELECT count(*) FROM ihub_job WHERE id = ANY(%s) AND state IN %s",
            [ids, IHUB_UNFINISHED],
            lambda remaining: remaining == 0,
            timeout,
            self.poll_interval,
        )
        failed = self._scalar(
            "SELECT count(*) FROM ihub_job WHERE id = ANY(%s) AND state != 'done'", [ids]
        )
        return Batch("iHub", jobs, enqueued - start, end - enqueued, failed)

    def queue_job_batch(self, jobs: int, timeout: float) -> Batch:
        """Queue ``jobs`` calls of ``ihub.bench.target.noop`` with queue_job; time them."""
        with self.env() as env:
            target = env["ihub.bench.target"]
            start = time.monotonic()
            uuids = [target.with_delay().noop().uuid for _number in range(jobs)]
            env.flush_all()
            enqueued = time.monotonic()
            env.cr.commit()  # queue_job's table trigger NOTIFYs its runner on commit
        end = self._wait(
            "SELECT count(*) FROM queue_job WHERE uuid = ANY(%s) AND state NOT IN %s",
            [uuids, QUEUE_JOB_FINISHED],
            lambda remaining: remaining == 0,
            timeout,
            self.poll_interval,
        )
        failed = self._scalar(
            "SELECT count(*) FROM queue_job WHERE uuid = ANY(%s) AND state != 'done'", [uuids]
        )
        return Batch("queue_job", jobs, enqueued - start, end - enqueued, failed)

    def floor_batch(self, jobs: int, timeout: float) -> Batch:
        """Queue ``jobs`` rows of the physical floor (bench/floor.py); time them."""
        self.floor_batches += 1
        batch = self.floor_batches
        start = time.monotonic()
        with self.floor.cursor() as cr:
            floor.queue(cr, batch, jobs)
        enqueued = time.monotonic()
        self.floor.commit()  # the NOTIFY wakes the floor's workers
        end = self._wait(
            f"SELECT count(*) FROM {floor.TABLE} WHERE batch = %s AND state != 'done'",
            [batch],
            lambda remaining: remaining == 0,
            timeout,
            self.poll_interval,
        )
        return Batch("floor", jobs, enqueued - start, end - enqueued, 0)

    # ---- Trigger-to-start latency

    def ihub_latency(self, interval: float) -> float:
        """Seconds from the commit of one "run now" until its job is claimed (running)."""
        with self.env() as env:
            integration = env["ihub.integration"].browse(self.latency_integration_id)
            job = integration._run_manually(None, fields.Datetime.now())
            env.flush_all()
            start = time.monotonic()
            env.cr.commit()
            job_id = job.id
        query = "SELECT state FROM ihub_job WHERE id = %s"
        started = self._wait(
            query, [job_id], lambda state: state != "pending", LATENCY_TIMEOUT, interval
        )
        # The next run can only be queued once this one is over.
        self._wait(query, [job_id], lambda state: state not in IHUB_UNFINISHED, 60, interval)
        return started - start

    def queue_job_latency(self, interval: float) -> float:
        """Seconds from the commit of one delayed call until queue_job marks it started."""
        with self.env() as env:
            uuid = env["ihub.bench.target"].with_delay().noop().uuid
            env.flush_all()
            start = time.monotonic()
            env.cr.commit()
        query = "SELECT state FROM queue_job WHERE uuid = %s"
        started = self._wait(
            query, [uuid], lambda state: state in QUEUE_JOB_STARTED, LATENCY_TIMEOUT, interval
        )
        self._wait(query, [uuid], lambda state: state in QUEUE_JOB_FINISHED, 60, interval)
        return started - start
