"""Who runs an integration: never the superuser or a portal user, always an iHub user, and only
a settings administrator makes it run as someone else."""

from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user

from odoo.addons.ihub.tests.common import run_integration

from .common import IHubCase


class TestRunAs(IHubCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env, login="ihub_sysadmin", groups="base.group_system,ihub.group_ihub_manager"
        )
        cls.portal = new_test_user(cls.env, login="ihub_portal", groups="base.group_portal")

    def setUp(self):
        super().setUp()
        self.integration = self.create_test_integration(name="Guarded").super_id

    def test_the_creator_runs_it_by_default(self):
        self.assertEqual(self.integration.run_user_id, self.manager)
        self.assertEqual(self.integration._run_user(), self.manager)

    def test_a_manager_cannot_make_it_run_as_someone_else(self):
        integration = self.integration.with_user(self.manager)
        for user in (self.env.ref("base.user_admin"), self.ihub_user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                integration.run_user_id = user
        # Nor through the responsible, when Run As is empty.
        integration.run_user_id = False
        with self.assertRaisesRegex(AccessError, "Only settings administrators"):
            integration.user_id = self.env.ref("base.user_admin")
        integration.run_user_id = self.manager  # themselves: fine
        integration.user_id = self.ihub_user  # who is told: fine while they run it
        self.assertEqual(self.integration._run_user(), self.manager)

    def test_a_settings_administrator_chooses_any_ihub_user(self):
        self.integration.with_user(self.admin).run_user_id = self.ihub_user
        self.assertEqual(self.integration._run_user(), self.ihub_user)

    def test_never_the_superuser_a_portal_user_or_a_user_outside_ihub(self):
        integration = self.integration.with_user(self.admin)
        cases = {
            "superuser": (self.env.ref("base.user_root"), "never run as the superuser"),
            "portal": (self.portal, "portal user"),
            "internal": (self.internal_user, "is not an iHub user"),
        }
        for name, (user, message) in cases.items():
            with self.subTest(name), self.assertRaisesRegex(ValidationError, message):
                integration.run_user_id = user

    def test_rights_are_checked_again_when_it_runs(self):
        self.integration.with_user(self.admin).run_user_id = self.ihub_user
        self.ihub_user.groups_id = [Command.unlink(self.env.ref("ihub.group_ihub_user").id)]
        job = run_integration(self.integration, datetime(2026, 1, 1), datetime(2026, 1, 2))
        self.assertEqual(job.state, "failed")
        self.assertIn("is not an iHub user", job.error_message)
        self.assertFalse(self.integration.sub_id.calls, "nothing ran")

    def test_a_run_user_who_cannot_read_the_integration_fails_the_run(self):
        self.integration.with_user(self.admin).run_user_id = self.ihub_user
        # A record rule hides this integration's own record from iHub users.
        self.env["ir.rule"].create(
            {
                "name": "Hide one test integration",
                "model_id": self.env["ir.model"]._get_id("ihub.integration.test"),
                "domain_force": f"[('id', '!=', {self.integration.sub_id.id})]",
                "groups": [Command.link(self.env.ref("ihub.group_ihub_user").id)],
            }
        )
        job = run_integration(self.integration, datetime(2026, 1, 1), datetime(2026, 1, 2))
        self.assertEqual(job.state, "failed")
        self.assertIn("Test Integration", job.error_message)
        self.assertFalse(self.integration.sub_id.calls, "nothing ran")

    def test_the_cron_only_queues_runs(self):
        self.integration.with_user(self.ihub_user).action_start()
        self.assertEqual(self.integration.cron_id.user_id, self.env.ref("base.user_root"))
        self.env["ihub.integration"]._cron_run_scheduled(self.integration.id)
        (job,) = self.integration.job_ids
        self.assertEqual(job.state, "pending", "queued for the runner, not run by the cron")
