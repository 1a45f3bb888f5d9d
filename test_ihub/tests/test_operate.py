"""Operating integrations as the users who do it (issue 9, items 4, 7, 8, 9 and 10): what a
plain iHub user is offered, starting parents, Run Manually's rules, the catalogue, types in
use. Browser checks of the same are in ihub_demo_integration/tests/test_ui_defects.py."""

from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form

from .common import IHubCase

NOW = datetime(2026, 6, 1, 12, 0, 0)


class TestPlainUser(IHubCase):
    """Item 7: a plain iHub user is offered only what they may do."""

    def setUp(self):
        super().setUp()
        self.integration = self.create_test_integration(name="Orders").super_id

    def form_arch(self, user):
        return self.env["ihub.integration"].with_user(user).get_view(view_type="form")["arch"]

    def test_they_post_in_the_chatter_of_integrations_they_operate(self):
        as_user = self.integration.with_user(self.ihub_user)
        message = as_user.message_post(body="Stopped it: the shop is moving servers.")
        self.assertEqual(message.author_id, self.ihub_user.partner_id)
        # Before, only writers could post (Odoo's default): this raised an AccessError.
        self.assertIn(message, self.integration.message_ids)

    def test_archive_and_duplicate_are_not_offered(self):
        # The form's Actions menu offers Archive when the "active" field is in the view, and
        # Duplicate unless the view says duplicate="0".
        user_arch = self.form_arch(self.ihub_user)
        self.assertNotIn('name="active"', user_arch)
        self.assertIn('duplicate="0"', user_arch)
        manager_arch = self.form_arch(self.manager)
        self.assertIn('name="active"', manager_arch, "managers archive")
        self.assertIn('duplicate="0"', manager_arch, "nobody duplicates: copy() refuses")
        list_arch = (
            self.env["ihub.integration"].with_user(self.manager).get_view(view_type="list")["arch"]
        )
        self.assertIn('duplicate="0"', list_arch)
        # "Delete Anyway" is bound to managers only.
        bindings = (
            self.env["ir.actions.actions"]
            .with_user(self.ihub_user)
            .get_bindings("ihub.integration")
        )
        self.assertNotIn("Delete Anyway", [a["name"] for a in bindings.get("action", [])])

    def test_the_schedule_reads_as_a_sentence(self):
        self.assertNotIn('name="interval_number"', self.form_arch(self.ihub_user))
        self.assertIn('name="interval_label"', self.form_arch(self.ihub_user))
        self.assertIn('name="interval_number"', self.form_arch(self.manager))
        self.assertEqual(self.integration.interval_label, "Every hour")
        self.integration.write({"interval_number": 15, "interval_type": "minutes"})
        self.assertEqual(self.integration.interval_label, "Every 15 minutes")


class TestStartParent(IHubCase):
    """Item 8: starting a parent does not restart children stopped on purpose."""

    def setUp(self):
        super().setUp()
        self.parent = self.create_test_integration(name="Connector").super_id
        self.kept = self.create_test_integration(name="Kept", parent_id=self.parent.id).super_id
        self.paused = self.create_test_integration(name="Paused", parent_id=self.parent.id).super_id
        self.below = self.create_test_integration(
            name="Below Paused", parent_id=self.paused.id
        ).super_id

    def test_children_stopped_by_a_user_stay_stopped(self):
        operator = self.parent.with_user(self.ihub_user)
        operator.action_start()
        self.assertEqual(set((self.kept | self.paused | self.below).mapped("state")), {"active"})
        self.paused.with_user(self.ihub_user).action_stop()  # on purpose
        operator.action_stop()
        self.assertEqual(self.kept.state, "stopped")
        result = operator.action_start()
        self.assertEqual(self.parent.state, "active")
        self.assertEqual(self.kept.state, "active", "stopped with its parent: started with it")
        self.assertEqual(self.paused.state, "stopped", "stopped by a user: left alone")
        self.assertEqual(self.below.state, "stopped", "nor what is below it")
        # The user is told, not left to find out.
        self.assertEqual(result["tag"], "display_notification")
        self.assertIn("Paused", result["params"]["message"])
        # Starting the child itself is what starts it.
        self.paused.with_user(self.ihub_user).action_start()
        self.assertEqual(self.paused.state, "active")

    def test_failed_children_are_not_started_by_their_parent(self):
        self.kept.with_user(self.ihub_user).fail("credentials refused")
        self.parent.with_user(self.ihub_user).action_start()
        self.assertEqual(self.kept.state, "failed", "Reset first: the parent does not")
        self.assertEqual(self.paused.state, "active")


class TestRunManually(IHubCase):
    """Item 9: the rules live in _run_manually, which the wizard and the API call."""

    def setUp(self):
        super().setUp()
        self.integration = self.create_test_integration(name="Orders").super_id
        self.operator = self.integration.with_user(self.ihub_user)

    @freeze_time(NOW)
    def test_an_exact_duplicate_of_a_queued_run_is_refused(self):
        period = (NOW - timedelta(days=1), NOW)
        first = self.operator._run_manually(*period)
        with self.assertRaisesRegex(UserError, "already waiting to start"):
            self.operator._run_manually(*period)
        with self.assertRaisesRegex(UserError, "already waiting to start"):
            self.operator._run_manually(*period, allow_overlap=True)
        self.assertEqual(self.integration.job_ids, first)
        # Once it ran, the same period may run again.
        self.run_due_jobs()
        self.assertEqual(first.state, "done")
        self.assertTrue(self.operator._run_manually(*period))

    @freeze_time(NOW)
    def test_an_overlap_is_refused_unless_the_user_accepted_the_warning(self):
        self.operator._run_manually(NOW - timedelta(days=2), NOW - timedelta(days=1))
        overlapping = (NOW - timedelta(days=1, hours=6), NOW)
        with self.assertRaisesRegex(UserError, "covers part of this period"):
            self.operator._run_manually(*overlapping)
        # The wizard shows the warning before Run; Run then queues it.
        wizard = Form(
            self.env["ihub.run.wizard"]
            .with_user(self.ihub_user)
            .with_context(default_integration_id=self.integration.id)
        )
        wizard.date_from, wizard.date_to = overlapping
        self.assertIn("covers part of this period", wizard.overlap_warning)
        wizard.save().action_run()
        self.assertEqual(len(self.integration.job_ids), 2)
        # Touching periods do not overlap: no warning.
        wizard = Form(
            self.env["ihub.run.wizard"]
            .with_user(self.ihub_user)
            .with_context(default_integration_id=self.integration.id)
        )
        wizard.date_from, wizard.date_to = NOW - timedelta(days=3), NOW - timedelta(days=2)
        self.assertFalse(wizard.overlap_warning)

    @freeze_time(NOW)
    def test_a_period_entirely_in_the_future_is_refused(self):
        self.ihub_user.tz = "Europe/Brussels"
        # Read at once beside the period's fields, in the user's zone: not named.
        with self.assertRaisesRegex(
            UserError, r"starts at [^(]*4:00:00 PM, which is still to come"
        ):
            self.operator._run_manually(NOW + timedelta(hours=2), NOW + timedelta(hours=3))
        wizard = (
            self.env["ihub.run.wizard"]
            .with_user(self.ihub_user)
            .create(
                {
                    "integration_id": self.integration.id,
                    "date_from": NOW + timedelta(hours=2),
                    "date_to": NOW + timedelta(hours=3),
                }
            )
        )
        with self.assertRaisesRegex(UserError, "still to come"):
            wizard.action_run()
        self.assertFalse(self.integration.job_ids)
        # A period that has begun may reach into the future.
        self.assertTrue(
            self.operator._run_manually(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
        )


class TestCatalogueAndTypes(IHubCase):
    """Items 4 and 10: Add opens an unsaved form; a type in use explains why it stays."""

    def test_add_opens_an_unsaved_form_of_the_types_model(self):
        before = self.env["ihub.integration"].search_count([])
        action = self.type_test.with_user(self.manager).action_create_integration()
        self.assertEqual(action["res_model"], "ihub.integration.test")
        self.assertNotIn("res_id", action)
        self.assertEqual(self.env["ihub.integration"].search_count([]), before, "nothing saved")
        form = Form(
            self.env[action["res_model"]].with_user(self.manager).with_context(**action["context"])
        )
        self.assertEqual(form.name, self.type_test.name)
        form.setting = "required by this kind of integration"
        sub = form.save()
        self.assertEqual(sub.type_id, self.type_test)
        self.assertEqual(sub.user_id, self.manager)
        opened = sub.action_open_integration()
        # The dashboard's address (its action's path) with the integration.
        path = self.env.ref("ihub.ihub_integration_action").path
        self.assertEqual(opened["url"], f"/odoo/{path}/{sub.super_id.id}")

    def test_deleting_a_type_in_use_says_why_in_words(self):
        self.create_test_integration(name="Orders").super_id.active = False
        with self.assertRaisesRegex(UserError, "used by Orders. Delete those integrations first"):
            self.type_test.unlink()
