import base64
from datetime import datetime

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools.misc import file_path

from odoo.addons.ihub.lib import journal
from odoo.addons.ihub.tests.common import run_integration


# After the install: iHub guards run_from_to once the registry is loaded (Odoo's own runner
# runs untagged tests while the addon installs, before that).
@tagged("post_install", "-at_install")
class TestDemoIntegration(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(journal.forget, cls.cr)
        cls.user = new_test_user(cls.env, login="demo_ihub_user", groups="ihub.group_ihub_user")
        cls.manager = new_test_user(
            cls.env,
            login="demo_ihub_manager",
            groups="ihub.group_ihub_manager",
            tz="Europe/Brussels",
        )
        cls.demo = (
            cls.env["ihub.integration.demo"]
            .with_user(cls.manager)
            .create({"name": "My demo", "a_custom_field": "value"})
        )

    def test_installing_adds_the_demo_type_with_the_addon_icon(self):
        demo_type = self.env.ref("ihub_demo_integration.integration_type_demo")
        self.assertEqual(demo_type.model_name, "ihub.integration.demo")
        self.assertEqual(self.demo.type_id, demo_type)
        with open(file_path("ihub_demo_integration/static/description/icon.png"), "rb") as icon:
            self.assertEqual(demo_type.icon, base64.b64encode(icon.read()))
        self.assertIn("demo", demo_type.summary)

    def test_demo_data_has_one_integration_ready_to_start(self):
        demo = self.env.ref("ihub_demo_integration.ihub_integration_demo_1")
        self.assertEqual(demo.state, "draft")
        self.assertTrue(demo.super_id.is_job)

    def test_run_logs_an_info_naming_the_window(self):
        start, end = datetime(2026, 5, 1, 8, 0), datetime(2026, 5, 1, 9, 0)
        job = self.demo.super_id.with_user(self.user)._run_manually(start, end)
        self.env["ihub.job"]._cron_run_due_jobs()
        self.assertEqual(job.state, "done")
        (log,) = self.demo.log_ids
        # A successful run is no reason for a warning (a healthy card would show a triangle).
        self.assertEqual(log.level, "info")
        # In the run user's time zone, named.
        self.assertIn(
            "May 1, 2026, 10:00:00 AM – May 1, 2026, 11:00:00 AM (Europe/Brussels)", log.summary
        )
        self.assertIn('"custom_field": "value"', log.details)

    def test_run_summary_is_in_the_run_users_zone_not_utc(self):
        # Far from UTC: 12:00 UTC on June 1 is midnight on June 2 in Auckland.
        self.manager.tz = "Pacific/Auckland"
        start, end = datetime(2026, 6, 1, 11, 0), datetime(2026, 6, 1, 12, 0)
        self.demo.super_id.with_user(self.user)._run_manually(start, end)
        self.env["ihub.job"]._cron_run_due_jobs()
        (log,) = self.demo.log_ids
        self.assertIn(
            "Jun 1, 2026, 11:00:00 PM – Jun 2, 2026, 12:00:00 AM (Pacific/Auckland)", log.summary
        )
        self.assertNotIn("11:00:00 AM", log.summary)
        # The details keep the stored values, saying they are UTC.
        self.assertIn('"to": "2026-06-01T12:00:00+00:00"', log.details)

    def test_run_fails_when_fail_run_is_set(self):
        self.demo.with_user(self.manager).fail_run = True
        job = self.demo.super_id.with_user(self.user)._run_manually(
            datetime(2026, 5, 1), datetime(2026, 5, 2)
        )
        self.env["ihub.job"]._cron_run_due_jobs()
        self.assertEqual(job.state, "failed")
        self.assertIn("failed because 'Fail Runs' is set", job.error_message)
        self.assertEqual(
            self.demo.log_ids.mapped("level"),
            ["error"],
            "the demo's own error, not a second one for the run",
        )

    def test_run_from_to_only_runs_through_the_runner(self):
        with self.assertRaisesRegex(AccessError, "only runs through iHub's runner"):
            self.demo.with_user(self.user).run_from_to(datetime(2026, 5, 1), datetime(2026, 5, 2))
        self.assertFalse(self.demo.log_ids, "nothing ran")
        job = run_integration(
            self.demo.with_user(self.user), datetime(2026, 5, 1), datetime(2026, 5, 2)
        )
        self.assertEqual(job.state, "done")
        self.assertEqual(self.demo.log_ids.job_id, job)

    def test_shipped_cron_logs_a_heartbeat_for_active_demos(self):
        self.demo.super_id.with_user(self.user).action_start()
        cron = self.env.ref("ihub_demo_integration.ir_cron_demo_heartbeat")
        cron.method_direct_trigger()
        self.assertEqual(self.demo.log_ids.mapped("summary"), ["Demo heartbeat"])

    def test_settings_open_the_demo_form(self):
        action = self.demo.super_id.with_user(self.user).action_open_settings()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("ihub.integration.demo", self.demo.id)
        )
        # Titled Settings after the integration's name; no New button of its own.
        settings = self.demo.with_user(self.user).with_context(**action["context"])
        self.assertEqual(settings.display_name, "Settings")
        self.assertEqual(self.demo.with_user(self.user).display_name, "My demo")
        self.assertIs(action["context"]["create"], False)

    def test_settings_form_edits_name_and_responsible_only_when_adding(self):
        arch = (
            self.env["ihub.integration.demo"]
            .with_user(self.manager)
            .get_view(view_type="form")["arch"]
        )
        for name in ("name", "user_id"):
            self.assertRegex(arch, rf'<field name="{name}"[^>]*readonly="super_id"')
        self.assertNotIn("For integration authors", arch, "no developer note for users")
        self.assertIn('name="action_open_integration"', arch)
