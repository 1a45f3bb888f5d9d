"""Concurrency with real transactions: cursors racing, real servers (threaded and prefork),
workers killed, paused or given a wrong clock.

Expected outcomes per server mode, which the tests below check:

* a worker that dies (SIGKILL, a crash) releases its run's lock with its connection: the next
  runner (on any server) fails the run and queues its retry within seconds;
* a paused worker (SIGSTOP) in a threaded server is alive: its connection and run lock stay,
  nobody takes its run over, and it finishes the run once resumed;
* in a prefork server, a cron worker that passes ``limit_time_real_cron`` is killed by the
  master: like any dead worker, its run is recovered within seconds; a batched run pauses at
  its next checkpoint before the limit and goes on from there instead;
* clocks are never compared: a recoverer whose clock is days ahead sees a live run as live.
"""

import logging
import os
import signal
import tempfile
import threading
import time
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.service.model import retrying

from odoo.addons.ihub.lib.liveness import RUN_LOCK_SPACE, LockSession, RunLock, lock_session

from .servers import RealTransactions, ServerCase, connect

_logger = logging.getLogger(__name__)

MANUAL_JOBS_PER_INTEGRATION = 5


class TestClaimRace(RealTransactions):
    def test_two_workers_racing_for_one_integration_exactly_one_runs(self):
        (integration_id,) = self.create_committed_integrations(1)
        with self.transaction() as env:
            integration = env["ihub.integration"].browse(integration_id)
            for day in (1, 2):
                integration._run_manually(datetime(2026, 1, day), datetime(2026, 1, day + 1))
        cr_a, cr_b = self.registry.cursor(), self.registry.cursor()
        claimed_a = None
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
            cr_b.rollback()
            self.assertEqual(
                jobs_b.search([("integration_id", "=", integration_id)]).mapped("state"),
                ["pending", "running"],
            )
            # A's worker is alive (it holds the run's lock): B's recovery leaves its run alone.
            self.assertFalse(jobs_b._recover_dead_jobs())
        finally:
            if claimed_a:
                jobs_a._release_unstarted(claimed_a)
            for cr in (cr_a, cr_b):
                cr.rollback()
                cr.close()


class TestRecordingNeverLeavesHalfStates(RealTransactions):
    def test_final_commit_failing_on_a_concurrent_edit_ends_failed_and_retried(self):
        (integration_id,) = self.create_committed_integrations(1, sleep_seconds=1.5)
        with self.transaction() as env:
            integration = env["ihub.integration"].browse(integration_id)
            integration.state = "active"
            integration.get_action_date("ihub_scheduled_until").date = datetime(2026, 1, 1)
            job_id = env["ihub.job"]._enqueue(integration, "scheduled", advances_watermark=True).id
        outcome = {}

        def worker():
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                job = env["ihub.job"]._claim_next(env["ihub.integration"].browse(integration_id))
                env["ihub.job"]._commit()
                outcome["claimed"] = job.id
                with (
                    self.assertLogs("odoo.sql_db", "ERROR"),  # the failed UPDATE, logged by Odoo
                    self.assertLogs("odoo.addons.ihub.models.ihub_job", "WARNING") as logged,
                ):
                    job._run()
                outcome["logged"] = logged.output

        thread = threading.Thread(target=worker)
        thread.start()
        time.sleep(0.7)  # the run is in its sleep: a manager corrects the watermark meanwhile
        with self.transaction() as env:
            integration = env["ihub.integration"].browse(integration_id)
            integration.get_action_date("ihub_scheduled_until").date = datetime(2026, 2, 1)
        thread.join(timeout=60)
        self.assertEqual(outcome.get("claimed"), job_id)
        self.assertIn("recording its end failed", outcome["logged"][0])
        with self.transaction() as env:
            job = env["ihub.job"].browse(job_id)
            self.assertEqual(job.state, "failed", "ended, not left running")
            self.assertIn("serialize", job.error_message)
            self.assertEqual(job.child_job_ids.trigger, "retry")
            self.assertEqual(
                job.integration_id.get_action_date("ihub_scheduled_until").date,
                datetime(2026, 2, 1),
                "the manager's correction stands",
            )


class TestLockSession(RealTransactions):
    """The run locks' connection: one per worker thread, reconnecting once it broke."""

    def test_lock_is_refused_while_held_and_taken_again_after_the_connection_broke(self):
        dbname = self.env.cr.dbname
        session = lock_session(f"test-{dbname}", lambda: connect(dbname))
        lock = RunLock(session.cursor, 987654)
        self.assertTrue(lock.acquire())
        other = RunLock(LockSession(lambda: connect(dbname)).cursor, 987654)  # another worker
        self.assertFalse(other.acquire(), "held by the session")
        # The server ends the session's connection (a restart, an idle timeout): the lock
        # goes with it, giving it back raises nothing, and the session connects again.
        with connect(dbname) as admin, admin.cursor() as cr:
            cr.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND classid = %s AND objid = %s",
                [RUN_LOCK_SPACE, 987654],
            )
        admin.close()
        time.sleep(0.2)
        lock.release()
        again = RunLock(session.cursor, 987654)
        self.assertTrue(again.acquire())
        again.release()
        self.assertTrue(other.acquire(), "given back")
        other.release()
        self.assertIs(lock_session(f"test-{dbname}", None), session, "one per thread")


class TestTwoServers(ServerCase):
    """Two real Odoo servers race on the same integrations, threaded and prefork."""

    def test_every_due_window_runs_exactly_once(self):
        self.run_two_servers(workers=0)

    def test_every_due_window_runs_exactly_once_in_prefork_servers(self):
        self.run_two_servers(workers=2)

    def run_two_servers(self, workers):
        ids = self.create_committed_integrations(4, sleep_seconds=0.2, interval_type="minutes")
        (refused_id,) = self.create_committed_integrations(1, raise_permanent=True)
        with self.transaction() as env:
            integrations = env["ihub.integration"].browse(ids)
            (integrations | integrations.browse(refused_id)).action_start()
            for integration in integrations:
                for day in range(1, MANUAL_JOBS_PER_INTEGRATION + 1):
                    integration._run_manually(datetime(2026, 1, day), datetime(2026, 1, day + 1))

        with tempfile.TemporaryFile("w+") as log:
            servers = [self.start_server(log, workers=workers) for _ in range(2)]
            # Editing, stopping and running integrations by hand while their runs execute
            # never meets a locked cron (the crons only queue runs).
            for integration_id in ids[:2]:
                with self.transaction() as env:
                    # As the web client's request would: retried when the integration's cron
                    # ran meanwhile (its row changed since the transaction began).
                    retrying(
                        lambda env=env, i=integration_id: (
                            env["ihub.integration"]
                            .browse(i)
                            .write({"name": f"Edited {i}", "interval_number": 2})
                        ),
                        env,
                    )
            self.wait_for(
                lambda env: self.all_done(env, ids) and self.failed(env, refused_id),
                servers,
                timeout=240,
                message=f"every run done\n{self.read_log(log)[-3000:]}",
            )
            # What the servers logged while serving (stopping a threaded server closes the
            # connections of cron threads still at work, which Odoo logs too).
            server_log = self.read_log(log)
            for server in servers:
                self.stop_server(server)

        with self.transaction() as env:
            jobs = env["ihub.job"].search([("integration_id", "in", ids)])
            self.assertNotIn("could not serialize", server_log)
            self.assertEqual(self.ihub_errors(server_log), [])
            for sub in env["ihub.integration"].browse(ids).sub_id:
                own = jobs.filtered(lambda j, sub=sub: j.integration_id == sub.super_id)
                self.check_integration(sub, own)
            # A permanent error: failed at once, not retried, its cron switched off.
            refused = env["ihub.integration"].browse(refused_id)
            self.assertEqual(refused.state, "failed")
            self.assertEqual(refused.job_ids.mapped("state"), ["failed"])
            self.assertTrue(refused.activity_ids)
            workers_seen = set(jobs.mapped("worker"))
            _logger.info("%s runs on %s worker process(es)", len(jobs), len(workers_seen))
            if workers:
                self.assertGreater(len(workers_seen), 1, "prefork cron workers shared the runs")

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

    @staticmethod
    def all_done(env, ids):
        states = env["ihub.job"].search([("integration_id", "in", ids)]).mapped("state")
        expected = len(ids) * (MANUAL_JOBS_PER_INTEGRATION + 1)
        return len(states) == expected and set(states) == {"done"}

    @staticmethod
    def failed(env, integration_id):
        return env["ihub.integration"].browse(integration_id).state == "failed"


class TestDeadAndLiveWorkers(ServerCase):
    """Killed, paused and time-limited workers; recovery never trusts a clock."""

    def queue_scheduled_run(self, **vals):
        (integration_id,) = self.create_committed_integrations(1, **vals)
        with self.transaction() as env:
            integration = env["ihub.integration"].browse(integration_id)
            integration.state = "active"  # started, without a cron of its own to race with
            job_id = env["ihub.job"]._enqueue(integration, "scheduled", advances_watermark=True).id
        return integration_id, job_id

    @staticmethod
    def state(env, job_id):
        return env["ihub.job"].browse(job_id).state

    def test_killed_worker_run_is_recovered_by_another_server(self):
        integration_id, job_id = self.queue_scheduled_run(sleep_seconds=120)
        with tempfile.TemporaryFile("w+") as log:
            doomed = self.start_server(log)
            self.wait_for(lambda env: self.state(env, job_id) == "running", [doomed])
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait()
            killed_at = time.monotonic()
            survivor = self.start_server(log)
            self.wait_for(lambda env: self.state(env, job_id) == "failed", [survivor])
            recovered_after = time.monotonic() - killed_at
            server_log = self.read_log(log)
        with self.transaction() as env:
            job = env["ihub.job"].browse(job_id)
            self.assertIn("stopped", job.error_message)
            self.assertEqual(job.child_job_ids.trigger, "retry", "retried like any failure")
            self.assertFalse(
                job.integration_id.get_action_date("ihub_scheduled_until").date,
                "the schedule did not move",
            )
        self.assertEqual(self.ihub_errors(server_log), [])
        _logger.info("run of a killed worker recovered %.1f s after the kill", recovered_after)

    def test_paused_worker_keeps_its_run_whatever_the_recoverer_clock_says(self):
        integration_id, job_id = self.queue_scheduled_run(sleep_seconds=4)
        with tempfile.TemporaryFile("w+") as log:
            server = self.start_server(log)
            self.wait_for(lambda env: self.state(env, job_id) == "running", [server])
            os.killpg(server.pid, signal.SIGSTOP)
            try:
                # A recoverer whose clock is days ahead, looking while the worker is frozen.
                with freeze_time(datetime.now() + timedelta(days=3)), self.transaction() as env:
                    self.assertFalse(env["ihub.job"]._recover_dead_jobs())
                time.sleep(5)  # longer than the whole run would take
                with self.transaction() as env:
                    self.assertFalse(env["ihub.job"]._recover_dead_jobs())
                    self.assertEqual(self.state(env, job_id), "running")
            finally:
                os.killpg(server.pid, signal.SIGCONT)
            self.wait_for(lambda env: self.state(env, job_id) == "done", [server])
            server_log = self.read_log(log)
        with self.transaction() as env:
            sub = env["ihub.integration"].browse(integration_id).sub_id
            self.assertEqual(len(sub.calls.splitlines()), 1, "ran once, never twice")
            self.assertEqual(
                len(env["ihub.job"].search([("integration_id", "=", integration_id)])), 1
            )
        self.assertEqual(self.ihub_errors(server_log), [])

    # Odoo's prefork cron workers ping their watchdog only between two polls (up to 60 s
    # apart): a limit_time_real_cron under about 70 s kills idle workers too. The tests keep
    # Odoo's limits realistic and kill the worker themselves, as the master does.

    def test_prefork_worker_killed_mid_run_is_recovered_within_seconds(self):
        integration_id, job_id = self.queue_scheduled_run(sleep_seconds=120, max_attempts=2)
        with tempfile.TemporaryFile("w+") as log:
            server = self.start_server(log, workers=2, cron_workers=2)
            self.wait_for(lambda env: self.state(env, job_id) == "running", [server])
            with self.transaction() as env:
                worker_pid = int(env["ihub.job"].browse(job_id).worker.rsplit(":", 1)[1])
            self.assertNotEqual(worker_pid, server.pid, "runs execute in a cron worker process")
            time.sleep(11)  # long enough to be watched from outside its worker
            os.kill(worker_pid, signal.SIGKILL)  # what the master does at limit_time_real_cron
            killed_at = time.monotonic()
            self.wait_for(lambda env: self.state(env, job_id) == "failed", [server], timeout=50)
            recovered_after = time.monotonic() - killed_at
            server_log = self.read_log(log)
        with self.transaction() as env:
            job = env["ihub.job"].browse(job_id)
            self.assertIn("stopped", job.error_message)
            self.assertEqual(job.child_job_ids.trigger, "retry")
        _logger.info(
            "prefork: killed worker's run recovered %.1f s after the kill", recovered_after
        )
        self.assertLess(recovered_after, 30, "woken by the watch, not by the next poll (60 s)")
        self.assertEqual(self.ihub_errors(server_log), [])

    def test_prefork_batched_run_pauses_within_its_budget_and_resumes_from_its_checkpoint(self):
        integration_id, job_id = self.queue_scheduled_run(batch_count=4, batch_sleep_seconds=1.5)
        self.set_param("ihub.runner_time_budget", "2.5")
        with tempfile.TemporaryFile("w+") as log:
            server = self.start_server(log, workers=2, cron_workers=1)
            self.wait_for(lambda env: self.state(env, job_id) == "done", [server], timeout=120)
            server_log = self.read_log(log)
        with self.transaction() as env:
            job = env["ihub.job"].browse(job_id)
            sub = env["ihub.integration"].browse(integration_id).sub_id
            self.assertEqual(sub.batches_done, 4, "each batch once: resumed, not started over")
            self.assertEqual((job.checkpoint, job.processed_count), ("4", 40))
            self.assertIn("Paused: the worker's time was up", job.note or "")
            self.assertEqual(
                env["ihub.job"].search_count([("integration_id", "=", integration_id)]),
                1,
                "one run, paused and resumed: never killed",
            )
        self.assertEqual(self.ihub_errors(server_log), [])


class TestEditsWaitForTheirCron(RealTransactions):
    def test_an_edit_waits_for_the_executing_cron_instead_of_failing(self):
        (integration_id,) = self.create_committed_integrations(1)
        with self.transaction() as env:
            integration = env["ihub.integration"].browse(integration_id)
            integration.action_start()
            cron_id = integration.cron_id.id
        scheduler = connect(self.env.cr.dbname)
        self.addCleanup(scheduler.close)
        # What Odoo's scheduler holds while the integration's cron executes.
        scheduler.cursor().execute(
            "SELECT id FROM ir_cron WHERE id = %s FOR NO KEY UPDATE", [cron_id]
        )

        def finish_once_the_edit_waits():
            watcher = connect(self.env.cr.dbname)
            try:
                for _attempt in range(300):
                    with watcher.cursor() as cr:
                        cr.execute(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                        if cr.fetchone()[0]:
                            break
                    watcher.rollback()
                    time.sleep(0.1)
            finally:
                watcher.close()
                scheduler.commit()

        cron_run = threading.Thread(target=finish_once_the_edit_waits)
        cron_run.start()
        try:
            with self.transaction() as env:
                env["ihub.integration"].browse(integration_id).write(
                    {"name": "Edited while its cron ran", "interval_number": 3}
                )
        finally:
            cron_run.join(timeout=60)
        with self.transaction() as env:
            cron = env["ir.cron"].browse(cron_id)
            self.assertEqual(cron.interval_number, 3)
            self.assertIn("Edited while its cron ran", cron.name)
