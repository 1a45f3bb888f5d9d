"""Concurrency with real transactions: cursors racing, and two Odoo servers on one database."""

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime

from odoo import SUPERUSER_ID, api
from odoo.tools import config

from .common import IHubCase

_logger = logging.getLogger(__name__)

MANUAL_JOBS_PER_INTEGRATION = 5


class RealTransactions(IHubCase):
    """Data committed through cursors of their own, deleted again after the test."""

    @contextmanager
    def transaction(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def create_committed_integrations(self, count, **vals):
        with self.transaction() as env:
            integrations = (
                env["ihub.integration.test"]
                .create([{"name": f"Race {i}", **vals} for i in range(count)])
                .super_id
            )
            ids = integrations.ids
        self.addCleanup(self.delete_committed, ids)
        return ids

    def delete_committed(self, integration_ids):
        with self.transaction() as env:
            integrations = env["ihub.integration"].browse(integration_ids).exists()
            integrations.cron_id.unlink()
            integrations.unlink()


class TestClaimRace(RealTransactions):
    def test_two_workers_racing_for_one_integration_exactly_one_runs(self):
        (integration_id,) = self.create_committed_integrations(1)
        with self.transaction() as env:
            integration = env["ihub.integration"].browse(integration_id)
            for day in (1, 2):
                integration._run_manually(datetime(2026, 1, day), datetime(2026, 1, day + 1))
        cr_a, cr_b = self.registry.cursor(), self.registry.cursor()
        try:
            jobs_a = api.Environment(cr_a, SUPERUSER_ID, {})["ihub.job"]
            jobs_b = api.Environment(cr_b, SUPERUSER_ID, {})["ihub.job"]
            only = jobs_a.env["ihub.integration"].browse(integration_id)
            claimed_a = jobs_a._claim_next(only)
            # A has not committed yet: B finds the integration locked and passes it over.
            claimed_b = jobs_b._claim_next(only.with_env(jobs_b.env))
            self.assertTrue(claimed_a)
            self.assertFalse(claimed_b)
            cr_a.commit()
            cr_b.rollback()
            # Once A's claim is committed, B sees the integration running and still waits.
            self.assertFalse(jobs_b._claim_next(only.with_env(jobs_b.env)))
            self.assertFalse(
                jobs_b.search(
                    [("state", "=", "pending"), ("integration_id", "=", integration_id)]
                )._claim()
            )
            cr_b.rollback()
            self.assertEqual(
                jobs_b.search([("integration_id", "=", integration_id)]).mapped("state"),
                ["pending", "running"],
            )
        finally:
            for cr in (cr_a, cr_b):
                cr.rollback()
                cr.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerCase(RealTransactions):
    """Starts real Odoo servers (cron threads on) on the test database."""

    def start_server(self, logfile):
        command = [
            sys.executable,
            "-m",
            "odoo",
            "server",
            "-c",
            config.rcfile,
            "-d",
            self.env.cr.dbname,
            "--db-filter",
            f"^{self.env.cr.dbname}$",
            "--addons-path",
            config["addons_path"],
            "--http-port",
            str(port := free_port()),
            "--http-interface",
            "127.0.0.1",
            "--max-cron-threads",
            "2",
            "--workers",
            "0",
            "--log-level",
            "warn",
        ]
        for key in ("db_host", "db_port", "db_user", "db_password"):
            if config.get(key):
                command += [f"--{key}", str(config[key])]
        process = subprocess.Popen(
            command, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.addCleanup(self.stop_server, process)
        self.wait_until_serving(process, port)
        return process

    def wait_until_serving(self, process, port, timeout=60):
        """Wait until the server answers with the database loaded.

        Its cron threads only look for work when woken (a cron trigger's NOTIFY) or once a
        minute, and only in databases already loaded: wake them once it is up.
        """
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{port}/web/login?db={self.env.cr.dbname}"
        while time.monotonic() < deadline:
            self.assertIsNone(process.poll(), "the server stopped")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            self.fail("the server did not start")
        with self.transaction() as env:
            env["ihub.job"]._wake_runner()

    def stop_server(self, process):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    @staticmethod
    def ihub_errors(server_log):
        """Logged errors that concern iHub (Odoo's own crons also run on these servers)."""
        entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ )", server_log)
        ihub_code = re.compile(r"odoo\.addons\.(test_)?ihub|/(test_)?ihub/|iHub")
        return [e for e in entries if " ERROR " in e and ihub_code.search(e)]

    @staticmethod
    def read_log(log):
        log.flush()
        log.seek(0)
        return log.read()


class TestTwoServers(ServerCase):
    """Two real Odoo servers with cron threads race on the same integrations."""

    def test_every_due_window_runs_exactly_once(self):
        ids = self.create_committed_integrations(4, sleep_seconds=0.2, interval_type="minutes")
        (refused_id,) = self.create_committed_integrations(1, raise_permanent=True)
        with self.transaction() as env:
            integrations = env["ihub.integration"].browse(ids)
            (integrations | integrations.browse(refused_id)).action_start()
            runner = env.ref("ihub.ir_cron_job_runner")
            extra_runner = runner.copy({"name": "iHub: second job runner", "active": True})
            self.addCleanup(self.delete_crons, extra_runner.id)
            for integration in integrations:
                for day in range(1, MANUAL_JOBS_PER_INTEGRATION + 1):
                    integration._run_manually(datetime(2026, 1, day), datetime(2026, 1, day + 1))

        with tempfile.TemporaryFile("w+") as log:
            servers = [self.start_server(log) for _ in range(2)]
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and not (
                self.all_done(ids) and self.failed(refused_id)
            ):
                self.assertTrue(all(s.poll() is None for s in servers), self.read_log(log))
                time.sleep(1)
            for server in servers:
                self.stop_server(server)
            server_log = self.read_log(log)

        with self.transaction() as env:
            jobs = env["ihub.job"].search([("integration_id", "in", ids)])
            self.assertTrue(self.all_done(ids), f"runs left undone:\n{server_log[-3000:]}")
            self.assertNotIn("could not serialize", server_log)
            self.assertEqual(self.ihub_errors(server_log), [])
            for sub in env["ihub.integration"].browse(ids).sub_id:
                own = jobs.filtered(lambda j, sub=sub: j.integration_id == sub.super_id)
                self.check_integration(sub, own)
            # A permanent error inside the integration's own cron: failed at once, not retried,
            # its cron switched off or left to find the integration failed.
            refused = env["ihub.integration"].browse(refused_id)
            self.assertEqual(refused.state, "failed")
            self.assertEqual(refused.job_ids.mapped("state"), ["failed"])
            self.assertTrue(refused.activity_ids)
            workers = set(jobs.mapped("worker"))
            _logger.info("%s runs on %s worker process(es): %s", len(jobs), len(workers), workers)

    def check_integration(self, sub, jobs):
        manual = jobs.filtered(lambda j: j.trigger == "manual")
        scheduled = jobs.filtered(lambda j: j.trigger == "scheduled")
        self.assertEqual(len(manual), MANUAL_JOBS_PER_INTEGRATION)
        self.assertEqual(len(scheduled), 1, "one scheduled window due")
        self.assertEqual(set(jobs.mapped("state")), {"done"})
        windows = [tuple(line.split("|")[:2]) for line in sub.calls.splitlines()]
        expected = {(str(j.date_from), str(j.date_to)) for j in jobs}
        self.assertEqual(len(windows), len(jobs), "every run exactly once")
        self.assertEqual(set(windows), expected)
        spans = sorted(tuple(map(float, line.split("|")[4:6])) for line in sub.calls.splitlines())
        for (_start, end), (next_start, _end) in zip(spans, spans[1:], strict=False):
            self.assertLessEqual(end, next_start, "two runs of one integration overlapped")
        self.assertEqual(
            sub.super_id.get_action_date("ihub_scheduled_until").date, scheduled.date_to
        )

    def all_done(self, ids):
        with self.transaction() as env:
            states = env["ihub.job"].search([("integration_id", "in", ids)]).mapped("state")
            return len(states) == len(ids) * (MANUAL_JOBS_PER_INTEGRATION + 1) and set(states) == {
                "done"
            }

    def failed(self, integration_id):
        with self.transaction() as env:
            return env["ihub.integration"].browse(integration_id).state == "failed"

    def delete_crons(self, *cron_ids):
        with self.transaction() as env:
            env["ir.cron"].browse(cron_ids).unlink()


class TestCrashRecovery(ServerCase):
    """A worker killed with SIGKILL mid-run: another server takes its job back."""

    def test_killed_worker_job_is_recovered_within_the_lease(self):
        (integration_id,) = self.create_committed_integrations(1, sleep_seconds=120)
        with self.transaction() as env:
            env["ir.config_parameter"].set_param("ihub.job_lease_seconds", "6")
            integration = env["ihub.integration"].browse(integration_id)
            integration.state = "active"  # started, without a cron of its own to race with
            job = env["ihub.job"]._enqueue(integration, "scheduled", advances_watermark=True)
            job_id = job.id
        self.addCleanup(self.reset_lease)

        with tempfile.TemporaryFile("w+") as log:
            doomed = self.start_server(log)
            self.wait_for(lambda env: env["ihub.job"].browse(job_id).state == "running", doomed)
            self.wait_for(lambda env: self.beats(env, job_id), doomed)
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait()
            killed_at = time.monotonic()
            with self.transaction() as env:
                self.assertEqual(env["ihub.job"].browse(job_id).state, "running", "left behind")
                env["ihub.job"]._wake_runner()
            survivor = self.start_server(log)
            self.wait_for(lambda env: env["ihub.job"].browse(job_id).state == "failed", survivor)
            recovered_after = time.monotonic() - killed_at
            server_log = self.read_log(log)

        with self.transaction() as env:
            job = env["ihub.job"].browse(job_id)
            self.assertIn("stopped", job.error_message)
            self.assertEqual(job.child_job_ids.trigger, "retry", "retried like any failure")
            self.assertFalse(
                env["ihub.integration"]
                .browse(integration_id)
                .get_action_date("ihub_scheduled_until")
                .date,
                "the schedule did not move",
            )
            self.assertFalse(self.beats(env, job_id), "heartbeat cleaned up")
        self.assertEqual(self.ihub_errors(server_log), [])
        _logger.info("job of a killed worker recovered %.1f s after the kill", recovered_after)

    def wait_for(self, condition, server, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.assertIsNone(server.poll(), "the server stopped")
            with self.transaction() as env:
                if condition(env):
                    return
            time.sleep(0.5)
        self.fail("timed out waiting for the servers")

    @staticmethod
    def beats(env, job_id):
        env.cr.execute("SELECT beat_at FROM ihub_job_heartbeat WHERE job_id = %s", [job_id])
        return env.cr.fetchall()

    def reset_lease(self):
        with self.transaction() as env:
            env["ir.config_parameter"].set_param("ihub.job_lease_seconds", False)
