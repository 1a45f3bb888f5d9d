"""Live runs (bus messages), the dashboard's health figures and the "stale" alert."""

from datetime import timedelta

from odoo import SUPERUSER_ID, Command, fields
from odoo.tests import new_test_user

from odoo.addons.ihub.tests.common import run_messages

from .common import IHubCase


class TestLiveRuns(IHubCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Sees the other company only: it must hear nothing of the first company's runs.
        cls.other_user = new_test_user(
            cls.env,
            login="ihub_other_company_user",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set([cls.other_company.id])],
            company_id=cls.other_company.id,
        )
        # Each has Odoo open in a browser (the bus's presence); the test below closes it.
        cls.env["bus.presence"].create(
            [
                {"user_id": user.id, "status": "online"}
                for user in (cls.ihub_user, cls.manager, cls.other_user, cls.internal_user)
            ]
        )

    def setUp(self):
        super().setUp()
        self.sub = self.create_test_integration(name="Live", company_id=self.company.id)
        self.integration = self.sub.super_id
        self.commit_bus()  # what setting up queued is not what the tests look at

    def commit_bus(self):
        """What a commit does first: the precommit hooks, which write the bus messages."""
        self.env.cr.precommit.run()

    def messages(self, user):
        return run_messages(self.env, user)

    def test_a_run_is_announced_at_commit_to_those_who_see_it(self):
        job = self.integration.with_user(self.ihub_user)._run_manually(None, fields.Datetime.now())
        self.assertEqual(self.messages(self.ihub_user), [], "nothing is sent before the commit")
        self.commit_bus()
        for user in (self.ihub_user, self.manager):
            self.assertEqual(
                self.messages(user),
                [{"integration_ids": [self.integration.id], "job_ids": [job.id]}],
                user.login,
            )
        self.assertEqual(self.messages(self.other_user), [], "cannot see the integration")
        self.assertEqual(self.messages(self.internal_user), [], "not an iHub user")

    def test_no_message_to_those_without_odoo_open(self):
        self.env["bus.presence"].search([("user_id", "=", self.ihub_user.id)]).status = "offline"
        job = self.integration._run_manually(None, fields.Datetime.now())
        self.commit_bus()
        self.assertEqual(self.messages(self.ihub_user), [], "nobody to show it to")
        self.assertEqual(
            self.messages(self.manager),
            [{"integration_ids": [self.integration.id], "job_ids": [job.id]}],
        )

    def test_start_progress_and_end_are_announced(self):
        self.sub.batch_count = 2
        job = self.integration._run_manually(None, fields.Datetime.now())
        self.commit_bus()
        before = len(self.messages(self.ihub_user))
        self.run_due_jobs()
        self.assertEqual(job.state, "done")
        self.commit_bus()
        after = self.messages(self.ihub_user)[before:]
        # Savepoints (one per batch in tests) run the precommit hooks early: a message per
        # batch here, all sent with the transaction's commit.
        self.assertTrue(after)
        self.assertEqual(
            {i for message in after for i in message["integration_ids"]}, {self.integration.id}
        )
        self.assertEqual({j for message in after for j in message["job_ids"]}, {job.id})
        self.assertEqual(self.messages(self.other_user), [])

    def test_state_changes_are_announced(self):
        self.integration.with_user(self.ihub_user).action_start()
        self.commit_bus()
        self.assertEqual(
            self.messages(self.ihub_user)[-1],
            {"integration_ids": [self.integration.id], "job_ids": []},
        )
        self.assertEqual(self.messages(self.other_user), [])

    def test_integrations_of_no_company_are_announced_to_every_ihub_user(self):
        global_sub = self.as_manager("ihub.integration.test.global").create(
            {"name": "Everywhere", "user_id": self.manager.id}
        )
        self.commit_bus()
        global_sub.super_id.with_user(self.manager)._run_manually(None, fields.Datetime.now())
        self.commit_bus()
        self.assertTrue(self.messages(self.other_user))
        self.assertEqual(self.messages(self.internal_user), [])

    def test_run_manually_notice_links_to_the_runs(self):
        self.sub.batch_count = 0
        action = self.integration.with_user(self.ihub_user).action_run_manually()
        if action.get("res_model") == "ihub.run.wizard":
            wizard = (
                self.env["ihub.run.wizard"]
                .with_user(self.ihub_user)
                .with_context(default_integration_id=self.integration.id)
                .create({})
            )
            action = wizard.action_run()
        self.assertEqual(action["tag"], "ihub_run_queued")
        self.assertEqual(action["params"]["integration_id"], self.integration.id)
        self.assertTrue(action["params"]["link_label"])


class TestHealth(IHubCase):
    def setUp(self):
        super().setUp()
        self.sub = self.create_test_integration(name="Health", company_id=self.company.id)
        self.integration = self.sub.super_id

    def run_once(self, fail=False):
        self.sub.raise_error = fail
        job = self.integration._run_manually(None, fields.Datetime.now())
        self.run_due_jobs()
        self.env.invalidate_all()
        return job

    def test_health_figures_follow_the_runs(self):
        integration = self.integration.with_user(self.ihub_user)
        self.assertFalse(integration.last_success_at)
        self.assertEqual(integration.health, "idle")
        self.assertEqual(integration.health_color, 0)
        done = self.run_once()
        self.assertEqual(integration.last_success_at, done.ended_at)
        self.assertEqual(integration.failure_streak, 0)
        self.run_once(fail=True)
        self.run_once(fail=True)
        self.assertEqual(integration.failure_streak, 2)
        self.assertEqual(integration.health, "failing")
        self.assertEqual(integration.health_color, 1)
        self.assertEqual(integration.runs_24h, 3)
        self.assertEqual(integration.errors_24h, 2, "one error event per failed manual run")
        self.assertIn(integration, integration.search([("health", "=", "failing")]))
        self.run_once()
        self.assertEqual(integration.failure_streak, 0)
        self.assertNotIn(integration, integration.search([("health", "=", "failing")]))

    def test_old_runs_do_not_count_in_the_last_24_hours(self):
        job = self.run_once(fail=True)
        job.queued_at = fields.Datetime.now() - timedelta(days=2)
        self.env["ihub.log"].search([("job_id", "=", job.id)]).date = job.queued_at
        self.env.invalidate_all()
        self.assertEqual(self.integration.runs_24h, 0)
        self.assertEqual(self.integration.errors_24h, 0)
        self.assertEqual(self.integration.failure_streak, 1, "still failed since")

    def test_next_run_is_the_schedule_or_a_waiting_run(self):
        integration = self.integration.with_user(self.ihub_user)
        self.assertFalse(integration.next_run_at)
        integration.action_start()
        self.env.invalidate_all()
        self.assertEqual(integration.health, "ok")
        # The start queues nothing by itself: the schedule's cron runs now.
        self.assertEqual(integration.next_run_at, self.integration.sudo().cron_id.nextcall)
        retry_at = fields.Datetime.now() - timedelta(minutes=5)
        self.env["ihub.job"]._enqueue(
            self.integration, "retry", eta=retry_at, advances_watermark=True
        )
        self.env.invalidate_all()
        self.assertEqual(integration.next_run_at, retry_at)
        integration.action_stop()
        self.env.invalidate_all()
        self.assertFalse(integration.next_run_at)

    def test_dashboard_counters_count_what_the_user_sees(self):
        first_company_user = new_test_user(
            self.env, login="ihub_first_only", groups="ihub.group_ihub_user"
        )
        Integration = self.env["ihub.integration"].with_user(first_company_user)
        before = Integration.get_dashboard_counters()
        other = self.create_test_integration(name="Elsewhere", company_id=self.other_company.id)
        other.super_id.sudo().state = "failed"
        self.integration.action_start()
        self.run_once(fail=True)
        after = Integration.get_dashboard_counters()
        changes = {key: after[key] - before[key] for key in after}
        self.assertEqual(
            changes,
            {
                "failing": 1,  # this one: its last run failed; not the other company's
                "late": 0,
                "ok": 0,
                "idle": -1,  # it was a draft
                "total": 0,
                "stopped": 0,
                "runs_24h": 1,
                "errors_24h": 1,
            },
        )
        manager_counters = self.env["ihub.integration"].with_user(self.manager)
        self.assertEqual(manager_counters.get_dashboard_counters()["total"], after["total"] + 1)


class TestStaleAlert(IHubCase):
    def setUp(self):
        super().setUp()
        self.sub = self.create_test_integration(
            name="Quiet", company_id=self.company.id, interval_number=1, interval_type="hours"
        )
        self.integration = self.sub.super_id
        self.integration.with_user(self.manager).action_start()

    def alerts(self):
        return self.env["mail.activity"].search(
            [("res_model", "=", "ihub.integration"), ("res_id", "=", self.integration.id)]
        )

    def test_raised_once_from_odoobot_and_closed_by_a_success(self):
        Integration = self.env["ihub.integration"]
        Integration._cron_check_stale()
        self.assertFalse(self.alerts(), "just started: not stale")
        self.integration.active_since = fields.Datetime.now() - timedelta(hours=4)
        Integration._cron_check_stale()
        Integration._cron_check_stale()
        alert = self.alerts()
        self.assertEqual(len(alert), 1, "raised once")
        self.assertEqual(alert.user_id, self.manager)
        self.assertEqual(alert.create_uid.id, SUPERUSER_ID, "from OdooBot")
        self.assertNotIn(":", alert.note.striptags(), "no time of day in the text")
        self.assertEqual(self.integration.health, "late")
        self.integration._run_manually(None, fields.Datetime.now())
        self.run_due_jobs()
        self.assertFalse(self.alerts(), "closed when it succeeds again")
        self.assertFalse(self.integration.stale_alert)
        done_message = self.integration.message_ids.filtered(
            lambda m: "succeeded again" in (m.body or "")
        )
        self.assertEqual(done_message.author_id, self.env.ref("base.partner_root"))
        self.env.invalidate_all()
        self.assertEqual(self.integration.health, "ok")

    def test_off_when_set_to_zero(self):
        self.integration.write(
            {"stale_after": 0, "active_since": fields.Datetime.now() - timedelta(days=4)}
        )
        self.env["ihub.integration"]._cron_check_stale()
        self.assertFalse(self.alerts())

    def test_closed_when_the_integration_is_stopped(self):
        self.integration.active_since = fields.Datetime.now() - timedelta(hours=4)
        self.env["ihub.integration"]._cron_check_stale()
        self.assertTrue(self.alerts())
        self.integration.with_user(self.manager).action_stop()
        self.env["ihub.integration"]._cron_check_stale()
        self.assertFalse(self.alerts())


class TestRunTimeline(IHubCase):
    def test_timeline_in_the_readers_time_zone(self):
        sub = self.create_test_integration(name="Timeline", company_id=self.company.id)
        job = sub.super_id._run_manually(None, fields.Datetime.now())
        self.run_due_jobs()
        self.ihub_user.tz = "Asia/Tokyo"  # UTC+9, no daylight saving time
        timeline = job.with_user(self.ihub_user).timeline
        for text in ("Queued", "Started", "test run", "Ended: Done"):
            self.assertIn(text, timeline)
        started_tokyo = job.started_at + timedelta(hours=9)
        # English (the test users' language): "9:12:51 PM".
        hour = int(started_tokyo.strftime("%I"))
        self.assertIn(f"{hour}:{started_tokyo:%M:%S %p}", timeline)
        self.assertLess(timeline.index("Queued"), timeline.index("Ended: Done"))
