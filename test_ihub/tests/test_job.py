from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import new_test_user

from odoo.addons.ihub.lib.exceptions import IHubError
from odoo.addons.ihub.models.ihub_integration import WATERMARK_KEY

from .common import IHubCase

NOW = datetime(2026, 6, 1, 12, 0, 0)


class TestSchedule(IHubCase):
    """Start/stop, the scheduled window, the watermark, retries."""

    def setUp(self):
        super().setUp()
        self.sub = self.create_test_integration(name="Scheduled")
        self.integration = self.sub.super_id

    def tick(self, at):
        """The integration's cron fires at ``at`` (then the runner runs what is due)."""
        with freeze_time(at):
            self.env["ihub.integration"]._cron_run_scheduled(self.integration.id)
            self.run_due_jobs()

    def windows(self):
        return [line.split("|")[:2] for line in self.sub.calls.splitlines()]

    def watermark(self):
        return self.integration.get_action_date(WATERMARK_KEY).date

    def test_start_creates_a_visible_cron_stop_deactivates_it(self):
        self.integration.interval_number = 15
        self.integration.interval_type = "minutes"
        self.integration.with_user(self.ihub_user).action_start()
        cron = self.integration.cron_id
        self.assertTrue(cron.active)
        self.assertTrue(
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]),
            "the first run is triggered at once",
        )
        self.assertEqual((cron.interval_number, cron.interval_type), (15, "minutes"))
        self.assertIn(cron, self.env["ir.cron"].search([]), "listed in Scheduled Actions")
        self.assertEqual(cron.user_id, self.env.ref("base.user_root"), "the cron only queues runs")
        self.assertEqual(self.integration._run_user(), self.manager, "runs as the run user")
        self.assertEqual(self.integration.state, "active")
        self.integration.with_user(self.manager).interval_number = 2
        self.assertEqual(cron.interval_number, 2, "editing the integration edits its cron")
        self.integration.with_user(self.ihub_user).action_stop()
        self.assertFalse(cron.active)
        self.assertEqual(self.integration.state, "stopped")
        self.integration.with_user(self.ihub_user).action_start()
        self.assertEqual(self.integration.cron_id, cron, "restarting reuses the cron")
        self.assertTrue(cron.active)
        self.integration.unlink()
        self.assertFalse(cron.exists())

    def test_scheduled_windows_follow_each_other_and_move_the_watermark(self):
        self.integration.action_start()
        self.tick(NOW)
        self.tick(NOW + timedelta(hours=1))
        self.assertEqual(
            self.windows(),
            [
                ["2026-06-01 11:00:00", "2026-06-01 11:59:30"],  # one interval back, to now - delay
                ["2026-06-01 11:59:30", "2026-06-01 12:59:30"],
            ],
        )
        self.assertEqual(self.watermark(), datetime(2026, 6, 1, 12, 59, 30))
        jobs = self.integration.job_ids
        self.assertEqual(jobs.mapped("state"), ["done", "done"])
        self.assertEqual(set(jobs.mapped("trigger")), {"scheduled"})

    def test_first_run_starts_at_the_start_date(self):
        self.integration.start_date = datetime(2026, 5, 1)
        self.integration.action_start()
        self.tick(NOW)
        self.assertEqual(self.windows()[0], ["2026-05-01 00:00:00", "2026-06-01 11:59:30"])

    def test_overlap_reaches_back(self):
        self.integration.overlap_minutes = 10
        self.integration.action_start()
        self.tick(NOW)
        self.tick(NOW + timedelta(hours=1))
        self.assertEqual(self.windows()[1][0], "2026-06-01 11:49:30")

    def test_empty_window_is_skipped_and_says_so(self):
        self.integration.start_date = NOW + timedelta(days=1)
        self.integration.action_start()
        self.tick(NOW)
        job = self.integration.job_ids
        self.assertEqual(job.state, "cancelled")
        self.assertIn("empty", job.note)
        self.assertFalse(self.sub.calls)

    def test_failed_run_keeps_the_watermark_and_retry_covers_the_missed_time(self):
        self.integration.action_start()
        self.tick(NOW)
        self.sub.raise_error = True
        self.tick(NOW + timedelta(hours=1))
        failed = self.integration.job_ids.filtered(lambda j: j.state == "failed")
        self.assertEqual(failed.error_message, "test failure")
        self.assertIn("ValueError: test failure", failed.error_traceback)
        self.assertEqual(self.watermark(), datetime(2026, 6, 1, 11, 59, 30), "not moved")
        retry = failed.child_job_ids
        self.assertEqual((retry.trigger, retry.state, retry.attempt), ("retry", "pending", 2))
        wait = (retry.eta - (NOW + timedelta(hours=1))).total_seconds()
        self.assertTrue(54 <= wait <= 66, f"about a minute with jitter, got {wait}")
        # A cron tick while the retry waits does not start a second run.
        self.tick(NOW + timedelta(hours=1, seconds=30))
        self.assertEqual(len(self.integration.job_ids), 3, "done, failed, and its retry")
        self.sub.raise_error = False
        self.tick(NOW + timedelta(hours=1, minutes=5))
        self.assertEqual(retry.state, "done")
        self.assertEqual(retry.date_from, datetime(2026, 6, 1, 11, 59, 30))
        self.assertEqual(retry.date_to, datetime(2026, 6, 1, 13, 4, 30))
        self.assertEqual(self.watermark(), datetime(2026, 6, 1, 13, 4, 30))
        self.assertEqual(self.integration.state, "active")

    def test_retries_back_off_then_the_integration_fails_with_an_activity(self):
        self.integration.max_attempts = 3
        self.sub.raise_error = True
        self.integration.action_start()
        moment = NOW
        for _attempt in range(3):
            self.tick(moment)
            moment += timedelta(hours=1)
        jobs = self.integration.job_ids.sorted("id")
        self.assertEqual(jobs.mapped("attempt"), [1, 2, 3])
        self.assertEqual(jobs.mapped("trigger"), ["scheduled", "retry", "retry"])
        self.assertEqual(set(jobs.mapped("state")), {"failed"})
        waits = [(jobs[i + 1].eta - jobs[i].ended_at).total_seconds() for i in range(2)]
        self.assertTrue(54 <= waits[0] <= 66 and 270 <= waits[1] <= 330, waits)
        self.assertEqual(self.integration.state, "failed")
        self.assertFalse(self.integration.cron_id.active, "a failed integration stops running")
        activity = self.integration.activity_ids
        self.assertEqual(activity.user_id, self.manager)
        self.assertIn("has stopped", activity.summary)
        self.assertFalse(self.watermark())

    def test_stop_cancels_the_queued_retry_and_archiving_stops(self):
        self.integration.action_start()
        self.sub.raise_error = True
        self.tick(NOW)
        retry = self.integration.job_ids.filtered(lambda j: j.state == "pending")
        self.integration.with_user(self.ihub_user).action_stop()
        self.assertEqual(retry.state, "cancelled")
        self.assertFalse(self.integration.cron_id.active)
        self.integration.action_start()
        self.integration.with_user(self.manager).active = False
        self.assertEqual(self.integration.state, "stopped")
        self.assertFalse(self.integration.cron_id.active)

    def test_a_run_needs_someone_to_run_as(self):
        self.integration.write({"user_id": False, "run_user_id": False})
        job = self.integration._run_manually(NOW, NOW)
        self.run_due_jobs()
        self.assertEqual(job.state, "failed")
        self.assertIn("no responsible user", job.error_message)
        with self.assertRaisesRegex(IHubError, "no responsible user"):
            self.integration.action_start()

    def test_a_failing_notification_does_not_undo_the_failure(self):
        # Fault injection: a mail failure cannot be caused for real here (no mail server is
        # involved in posting), so message_post is made to raise.
        self.sub.raise_permanent = True
        self.integration.action_start()
        Integration = type(self.env["ihub.integration"])
        with (
            patch.object(Integration, "message_post", side_effect=RuntimeError("mail is down")),
            self.assertLogs("odoo.addons.ihub.models.ihub_integration_notice", "ERROR") as logged,
        ):
            self.tick(NOW)
        self.assertIn("could not notify", logged.output[0])
        (job,) = self.integration.job_ids
        self.assertEqual(job.state, "failed")
        self.assertEqual(self.integration.state, "failed", "the failure stands")
        self.assertFalse(self.integration.sudo().cron_id.active)
        self.assertTrue(self.integration.activity_ids, "the to-do still reaches its user")

    def test_permanent_error_is_not_retried(self):
        self.sub.raise_permanent = True
        self.integration.action_start()
        self.tick(NOW)
        job = self.integration.job_ids
        self.assertEqual(job.state, "failed")
        self.assertFalse(job.child_job_ids)
        self.assertEqual(self.integration.state, "failed")
        self.assertTrue(self.integration.activity_ids)

    def test_manual_run_over_a_period_leaves_the_watermark(self):
        self.integration.action_start()
        self.tick(NOW)
        with freeze_time(NOW + timedelta(minutes=5)):
            job = self.integration.with_user(self.ihub_user)._run_manually(
                datetime(2026, 1, 1), datetime(2026, 2, 1)
            )
            self.run_due_jobs()
        self.assertEqual((job.trigger, job.state, job.user_id), ("manual", "done", self.ihub_user))
        self.assertEqual(self.windows()[1], ["2026-01-01 00:00:00", "2026-02-01 00:00:00"])
        self.assertEqual(self.watermark(), datetime(2026, 6, 1, 11, 59, 30))

    def test_manual_run_refused_while_running(self):
        job = self.integration._run_manually(datetime(2026, 1, 1), datetime(2026, 1, 2))
        self.claim(job)
        self.assertEqual(job.state, "running")
        with self.assertRaisesRegex(UserError, "is running now"):
            self.integration.with_user(self.ihub_user).action_run_manually()
        with self.assertRaisesRegex(UserError, "is running now"):
            self.integration.with_user(self.ihub_user)._run_manually(NOW, NOW)

    def test_cron_tick_while_a_manual_run_is_running_queues_the_scheduled_run(self):
        self.integration.action_start()
        manual = self.integration._run_manually(datetime(2026, 1, 1), datetime(2026, 1, 2))
        self.claim(manual)
        with freeze_time(NOW):
            self.env["ihub.integration"]._cron_run_scheduled(self.integration.id)
        scheduled = self.integration.job_ids.filtered(lambda j: j.trigger == "scheduled")
        self.assertEqual(scheduled.state, "pending", "re-queued, not run beside the manual run")
        manual._run()
        with freeze_time(NOW):
            self.run_due_jobs()
        self.assertEqual(scheduled.state, "done")

    def test_user_retries_and_cancels_from_the_ui(self):
        self.sub.raise_error = True
        manual = self.integration._run_manually(datetime(2026, 1, 1), datetime(2026, 1, 2))
        self.run_due_jobs()
        self.assertEqual(manual.state, "failed")
        self.assertFalse(manual.child_job_ids, "manual runs are not retried by themselves")
        retry = manual.with_user(self.ihub_user).action_retry()
        self.assertEqual((retry.state, retry.date_from), ("pending", manual.date_from))
        with self.assertRaisesRegex(UserError, "already being retried"):
            manual.with_user(self.ihub_user).action_retry()
        retry.with_user(self.ihub_user).action_cancel()
        self.assertEqual(retry.state, "cancelled")
        with self.assertRaises(UserError):
            retry.with_user(self.ihub_user).action_cancel()
        self.sub.raise_error = False
        again = retry.with_user(self.ihub_user).action_retry()
        self.run_due_jobs()
        self.assertEqual(again.state, "done")
        with self.assertRaises(UserError):
            again.action_retry()

    def test_run_of_a_dead_worker_is_recovered_and_retried(self):
        self.integration.action_start()
        self.tick(NOW)
        # A worker claims the next scheduled run, then dies: its run lock goes with it.
        with freeze_time(NOW + timedelta(hours=1)):
            job = self.env["ihub.job"]._enqueue(
                self.integration, "scheduled", advances_watermark=True
            )
            self.claim(job)
        self.assertEqual(job.state, "running")
        job.write({"processed_count": 7})  # what it had committed
        self.assertFalse(self.env["ihub.job"]._recover_dead_jobs(), "its worker lives")
        self.kill_worker(job)
        with self.assertLogs("odoo.addons.ihub.models.ihub_job", "WARNING") as logged:
            recovered = self.env["ihub.job"]._recover_dead_jobs()
        self.assertIn("The worker running this job stopped", logged.output[0])
        self.assertEqual(recovered, job)
        self.assertEqual(job.state, "failed")
        self.assertEqual(job.processed_count, 7, "committed work kept")
        retry = job.child_job_ids
        self.assertEqual((retry.trigger, retry.attempt), ("retry", 2))
        self.assertEqual(self.watermark(), datetime(2026, 6, 1, 11, 59, 30), "unchanged")

    def test_run_killed_after_a_checkpoint_resumes_there_without_spending_an_attempt(self):
        self.integration.action_start()
        self.sub.batch_count = 3
        job = self.env["ihub.job"]._enqueue(self.integration, "scheduled", advances_watermark=True)
        self.claim(job)
        job.write({"checkpoint": "2", "processed_count": 20})  # committed before the kill
        self.kill_worker(job)
        with self.assertLogs("odoo.addons.ihub.models.ihub_job", "WARNING"):
            self.env["ihub.job"]._recover_dead_jobs()
        retry = job.child_job_ids
        self.assertEqual((retry.trigger, retry.attempt, retry.state), ("retry", 1, "pending"))
        self.assertLessEqual(retry.eta, datetime.now(), "resumes at once")
        self.run_due_jobs()
        self.assertEqual(retry.state, "done")
        self.assertEqual(self.sub.batches_done, 1, "only the batch after the checkpoint ran")


class TestRunContext(IHubCase):
    def test_run_happens_in_the_integration_company_as_the_run_user(self):
        sub = self.create_test_integration(company_id=self.other_company.id)
        integration = sub.super_id
        job = integration._run_manually(NOW, NOW + timedelta(hours=1))
        self.run_due_jobs()
        _from, _to, company, context_integration = sub.calls.splitlines()[0].split("|")[:4]
        self.assertEqual(int(company), self.other_company.id)
        self.assertEqual(int(context_integration), integration.id, "the super's id")
        log = integration.log_ids.filtered(lambda log: log.summary == "test run")
        self.assertEqual(log.job_id, job, "events of a run link to their job")
        self.assertIn(f'"user": {self.manager.id}', log.details)
        integration.sudo().run_user_id = self.ihub_user
        integration._run_manually(NOW, NOW + timedelta(hours=1))
        self.run_due_jobs()
        last_run = self.env["ihub.log"].search([("integration_id", "=", integration.id)], limit=1)
        self.assertIn(f'"user": {self.ihub_user.id}', last_run.details)

    def test_run_user_not_allowed_in_the_company_fails_clearly(self):
        sub = self.create_test_integration(company_id=self.other_company.id)
        one_company_user = new_test_user(
            self.env, login="ihub_user_home_only", groups="ihub.group_ihub_user"
        )
        sub.super_id.sudo().run_user_id = one_company_user
        job = sub.super_id._run_manually(NOW, NOW)
        self.run_due_jobs()
        self.assertEqual(job.state, "failed")
        self.assertIn("is not allowed in", job.error_message)


class TestBatches(IHubCase):
    def test_progress_is_counted_and_kept_when_a_later_batch_fails(self):
        sub = self.create_test_integration(batch_count=3)
        job = sub.super_id._run_manually(NOW, NOW)
        self.run_due_jobs()
        self.assertEqual(job.state, "done")
        self.assertEqual(
            (job.processed_count, job.succeeded_count, job.failed_count, job.checkpoint),
            (30, 27, 3, "3"),
        )
        sub.write({"batches_done": 0, "fail_at_batch": 3, "batch_count": 4})
        failed = sub.super_id._run_manually(NOW, NOW)
        self.run_due_jobs()
        self.assertEqual(failed.state, "failed")
        self.assertEqual(sub.batches_done, 2, "batches 1 and 2 committed, batch 3 rolled back")
        self.assertEqual(
            (failed.processed_count, failed.checkpoint), (20, "2"), "what was committed counts"
        )
        # The retry resumes after the last committed batch.
        sub.fail_at_batch = 0
        retry = failed.action_retry()
        self.run_due_jobs()
        self.assertEqual(retry.state, "done")
        self.assertEqual(sub.batches_done, 4, "batches 3 and 4 only")


class TestMultiLevel(IHubCase):
    def test_parent_starts_stops_and_fans_out_to_children(self):
        parent = self.as_manager("ihub.integration.test.parent").create({"name": "Connector"})
        children = self.create_test_integration(
            name="Shop A", parent_id=parent.super_id.id
        ) | self.create_test_integration(name="Shop B", parent_id=parent.super_id.id)
        parent.super_id.with_user(self.ihub_user).action_start()
        self.assertEqual(set(children.mapped("state")), {"active"})
        self.assertTrue(all(children.mapped("cron_id.active")))
        parent_job = parent.super_id._run_manually(NOW, NOW + timedelta(hours=1))
        self.run_due_jobs()
        self.assertEqual(parent_job.state, "done")
        fanned = parent_job.child_job_ids
        self.assertEqual(fanned.integration_id, children.super_id)
        self.assertEqual(set(fanned.mapped("state")), {"done"})
        self.assertEqual(set(fanned.mapped("trigger")), {"fanout"})
        for child in children:
            self.assertEqual(
                child.calls.split("|")[:2], ["2026-06-01 12:00:00", "2026-06-01 13:00:00"]
            )
        parent.super_id.with_user(self.ihub_user).action_stop()
        self.assertEqual(set(children.mapped("state")), {"stopped"})
