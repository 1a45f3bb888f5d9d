"""The runner's pure pieces: time budget, the liveness lock, delayed calls (no database)."""

import threading

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.liveness import RUN_LOCK_SPACE, DelayedCalls, RunLock
from odoo.addons.ihub.lib.progress import (
    RunProgress,
    executing,
    executing_sub,
    progress_by_job,
    running_job_id,
)
from odoo.addons.ihub.lib.schedule import runner_budget


class FakeLockCursor:
    """A connection's cursor that answers pg_try_advisory_lock as told."""

    def __init__(self, granted, log):
        self.granted, self.log = granted, log

    def execute(self, query, params):
        self.log.append((query.split("(")[0], tuple(params)))

    def fetchone(self):
        return (self.granted,)

    def commit(self):
        self.log.append(("COMMIT", ()))

    def close(self):
        self.log.append(("CLOSE", ()))


class TestRunnerBudget(BaseCase):
    def test_budget_leaves_room_before_the_time_limit(self):
        self.assertEqual(runner_budget(None), 50.0)
        self.assertEqual(runner_budget(120), 50.0)
        self.assertEqual(runner_budget(6), 3.0)
        self.assertEqual(runner_budget(1), 1.0)


class TestRunLock(BaseCase):
    def test_lock_is_taken_outside_a_transaction_and_given_back(self):
        log = []
        lock = RunLock(lambda: FakeLockCursor(True, log), 42)
        self.assertTrue(lock.acquire())
        self.assertEqual(
            log, [("SELECT pg_try_advisory_lock", (RUN_LOCK_SPACE, 42)), ("COMMIT", ())]
        )
        lock.release()
        lock.release()
        self.assertEqual(
            log[2:],
            [("SELECT pg_advisory_unlock", (RUN_LOCK_SPACE, 42)), ("COMMIT", ()), ("CLOSE", ())],
        )

    def test_lock_held_elsewhere_is_refused_and_its_connection_closed(self):
        log = []
        lock = RunLock(lambda: FakeLockCursor(False, log), 7)
        self.assertFalse(lock.acquire())
        self.assertEqual(log[-1], ("CLOSE", ()))


class TestRunningRegistry(BaseCase):
    def test_only_runs_of_this_thread_count(self):
        jobs = progress_by_job()
        self.addCleanup(jobs.clear)
        jobs[5] = RunProgress(integration_id=9)
        self.assertEqual(running_job_id(9), 5)
        self.assertIsNone(running_job_id(8))
        self.assertFalse(executing(9), "claimed, not inside run_from_to")
        jobs[5].executing = True
        self.assertTrue(executing(9))

    def test_the_sub_record_of_an_executing_run_is_known_without_reading_it(self):
        jobs = progress_by_job()
        self.addCleanup(jobs.clear)
        jobs[5] = RunProgress(integration_id=9, sub=("ihub.integration.shop", 3))
        self.assertFalse(executing_sub("ihub.integration.shop", 3), "claimed, not executing")
        jobs[5].executing = True
        self.assertTrue(executing_sub("ihub.integration.shop", 3))
        self.assertFalse(executing_sub("ihub.integration.shop", 4))
        self.assertFalse(executing_sub("ihub.integration.bank", 3))
        # Another thread's runs are not this thread's.
        seen = []
        thread = threading.Thread(
            target=lambda: seen.append(executing_sub("ihub.integration.shop", 3))
        )
        thread.start()
        thread.join()
        self.assertEqual(seen, [False])


class TestDelayedCalls(BaseCase):
    def test_calls_run_in_order_cancelled_ones_do_not_and_a_failure_is_survived(self):
        calls = DelayedCalls(granularity=0.01)
        done = threading.Event()
        seen = []

        def boom():
            seen.append("boom")
            raise RuntimeError("a watch failed to start")

        calls.call_later(0.05, lambda: seen.append("second"))
        calls.call_later(0.01, lambda: seen.append("first"))
        calls.call_later(0.02, lambda: seen.append("cancelled")).cancel()
        calls.call_later(0.03, boom)
        calls.call_later(0.08, done.set)
        with self.assertLogs("odoo.addons.ihub.lib.liveness", "ERROR"):
            self.assertTrue(done.wait(5))
        self.assertEqual(seen, ["first", "boom", "second"])
