"""What a user meets when an integration fails, and once it is healthy again (issue 9, items 2,
5 and 6): one plain notice per failure episode, from OdooBot, closed after Reset and a
successful run; one event per failure; no traceback for users."""

import importlib.util
from datetime import datetime, timedelta
from pathlib import Path

from freezegun import freeze_time

from odoo.addons.ihub.models.ihub_integration_notice import FAILURE_ACTIVITY

from .common import IHubCase

NOW = datetime(2026, 6, 1, 12, 0, 0)


class TestFailureNotice(IHubCase):
    def setUp(self):
        super().setUp()
        self.manager.tz = "Europe/Brussels"  # UTC+2 in June
        self.sub = self.create_test_integration(name="Shop Orders", max_attempts=2)
        self.integration = self.sub.super_id
        self.bot = self.env.ref("base.partner_root")

    def tick(self, at):
        with freeze_time(at):
            self.env["ihub.integration"]._cron_run_scheduled(self.integration.id)
            self.run_due_jobs()

    def failure_activities(self):
        return self.integration._open_failure_activities()

    def notices(self):
        return self.integration.sudo().message_ids.filtered(
            lambda m: (
                m.author_id == self.bot
                and "stopped at" in (m.body or "")
                and not m.mail_activity_type_id
            )  # not the to-do marked done
        )

    def fail_scheduled_runs(self, start):
        """Run the schedule until the integration fails (max_attempts runs)."""
        moment = start
        for _attempt in range(self.integration.max_attempts):
            self.tick(moment)
            moment += timedelta(hours=1)
        self.assertEqual(self.integration.state, "failed")
        return moment

    def test_one_plain_notice_from_odoobot_per_episode_closed_when_healthy(self):
        self.integration.with_user(self.ihub_user).action_start()
        self.sub.raise_error = True
        moment = self.fail_scheduled_runs(NOW)
        (notice,) = self.notices()
        # From OdooBot, so that Odoo sends it to the responsible (never to the author).
        self.assertEqual(notice.author_id, self.bot)
        self.assertIn(self.manager.partner_id, notice.partner_ids)
        self.assertIn("Shop Orders stopped at", notice.body)
        self.assertIn("failed 2 times in a row; the last error was: test failure", notice.body)
        self.assertNotIn("time(s)", notice.body)
        # The time of the failure (the second attempt, 13:00 UTC plus its retry delay) is in
        # the responsible's zone, which the text names.
        self.assertIn("(Europe/Brussels)", notice.body)
        self.assertRegex(notice.body, r"\b3:0\d:\d\d PM\b", "13:0x UTC is 3:0x PM in Brussels")
        (activity,) = self.failure_activities()
        self.assertEqual(activity.user_id, self.manager)
        self.assertEqual(activity.create_uid, self.env.ref("base.user_root"))
        self.assertIn("Shop Orders has stopped", activity.summary)
        self.assertTrue(self.integration.last_error_date)

        # The same episode goes on (the author's code fails it again): no second notice.
        with freeze_time(moment):
            self.sub.with_user(self.ihub_user).fail("still broken")
        self.assertEqual(len(self.notices()), 1)
        self.assertEqual(len(self.failure_activities()), 1)

        # Reset says the cause is fixed; a successful run shows it: the to-do is done.
        self.sub.raise_error = False
        self.integration.with_user(self.ihub_user).action_reset()
        self.assertTrue(self.failure_activities(), "Reset alone proves nothing yet")
        self.integration.with_user(self.ihub_user).action_start()
        self.tick(moment)
        self.assertEqual(self.integration.job_ids.sorted("id")[-1].state, "done")
        self.assertFalse(self.failure_activities(), "closed once healthy")
        done = self.env["mail.message"].search(
            [
                ("model", "=", "ihub.integration"),
                ("res_id", "=", self.integration.id),
                ("mail_activity_type_id", "=", self.env.ref(FAILURE_ACTIVITY).id),
            ]
        )
        self.assertTrue(done, "the done to-do is kept in the chatter")
        self.integration.invalidate_recordset(["last_error_date"])
        self.assertFalse(self.integration.last_error_date, "a healthy card shows no error")

        # A new failure is a new episode: a new notice and a new to-do.
        self.sub.raise_permanent = True
        self.tick(moment + timedelta(hours=1))
        self.assertEqual(self.integration.state, "failed")
        self.assertEqual(len(self.notices()), 2)
        self.assertEqual(len(self.failure_activities()), 1)

    def test_a_failed_scheduled_run_writes_one_error_event_and_no_traceback_for_users(self):
        self.integration.max_attempts = 1
        self.integration.action_start()
        self.sub.raise_error = True
        self.tick(NOW)
        errors = self.integration.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(len(errors), 1, errors.mapped("summary"))
        self.assertEqual(errors.summary, "Run failed: test failure")
        self.assertFalse(errors.details, "no traceback in the event users read")
        (job,) = self.integration.job_ids
        # An unexpected error keeps its traceback, for managers only.
        self.assertIn("ValueError: test failure", job.sudo().error_traceback)
        self.assertNotIn(
            "error_traceback", self.env["ihub.job"].with_user(self.ihub_user).fields_get()
        )

    def test_a_deliberate_error_is_its_message_only(self):
        self.integration.max_attempts = 1
        self.integration.action_start()
        self.sub.raise_permanent = True  # IHubPermanentError("credentials refused")
        self.tick(NOW)
        (job,) = self.integration.job_ids
        self.assertEqual(job.error_message, "credentials refused")
        self.assertFalse(job.sudo().error_traceback, "no server paths for a business error")
        errors = self.integration.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(len(errors), 1)

    def test_an_error_logged_by_ihub_error_is_not_logged_twice(self):
        with freeze_time(NOW):
            job = self.integration.with_user(self.ihub_user)._run_manually(
                NOW - timedelta(hours=1), NOW
            )
        self.sub.raise_logged_error = True
        self.run_due_jobs()
        self.assertEqual(job.state, "failed")
        errors = self.integration.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(errors.mapped("summary"), ["the shop refused order 42"])

    def test_scheduled_runs_name_no_requester(self):
        self.integration.with_user(self.ihub_user).action_start()
        self.sub.raise_error = True
        self.tick(NOW)
        self.tick(NOW + timedelta(hours=1))
        scheduled = self.integration.job_ids.filtered(lambda j: j.trigger in ("scheduled", "retry"))
        self.assertEqual(len(scheduled), 2)
        self.assertFalse(scheduled.user_id)
        with freeze_time(NOW + timedelta(hours=2)):
            manual = self.integration.with_user(self.ihub_user)._run_manually(
                NOW, NOW + timedelta(hours=1)
            )
        self.assertEqual(manual.user_id, self.ihub_user, "a manual run names who asked")

    def test_the_state_change_is_odoobots_not_the_run_users(self):
        # A run failing the integration runs as its run user (here the responsible): the
        # chatter must not say the responsible failed it.
        self.integration.with_user(self.ihub_user).action_start()
        self.sub.with_user(self.manager).fail("the shop is down")
        (change,) = self.integration.sudo().message_ids.filtered(
            lambda m: "Failed" in m.tracking_value_ids.mapped("new_value_char")
        )
        self.assertEqual(change.author_id, self.bot)

    def test_a_to_do_opened_before_the_upgrade_is_still_closed_when_healthy(self):
        self.integration.max_attempts = 1
        self.integration.action_start()
        self.sub.raise_error = True
        self.tick(NOW)
        self.assertTrue(self.failure_activities())
        # A database from before 18.0.1.3.0: the to-do is open, the flag never set.
        self.integration.failure_notice_open = False
        self.env.flush_all()
        migration = Path(__file__).parents[2] / "ihub/migrations/18.0.1.3.0/post-migrate.py"
        spec = importlib.util.spec_from_file_location("ihub_post_migrate_18_0_1_3_0", migration)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.2.0")
        self.integration.invalidate_recordset(["failure_notice_open"])
        self.assertTrue(self.integration.failure_notice_open)

        self.sub.raise_error = False
        self.integration.action_reset()
        self.integration.action_start()
        self.tick(NOW + timedelta(hours=1))
        self.assertEqual(self.integration.job_ids.sorted("id")[-1].state, "done")
        self.assertFalse(self.failure_activities(), "closed once healthy")
        self.assertFalse(self.integration.failure_notice_open)
