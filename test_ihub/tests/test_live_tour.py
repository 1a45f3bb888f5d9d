from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.ihub.tests.common import run_messages


@tagged("post_install", "-at_install")
class TestLiveTour(HttpCase):
    """Runs end on screen without a reload, for a plain iHub user (real Chromium)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="ihub_live_tour_user",
            name="iHub Live Tour User",
            groups="base.group_user,ihub.group_ihub_user",
        )
        # Set up by an administrator: runs as the tour's user, who operates it.
        cls.sub = cls.env["ihub.integration.test"].create(
            {"name": "Live Tour", "user_id": cls.user.id}
        )
        other_company = cls.env["res.company"].create({"name": "Other"})
        cls.other_user = new_test_user(
            cls.env,
            login="ihub_live_tour_other",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set([other_company.id])],
            company_id=other_company.id,
        )

    def test_runs_end_on_screen(self):
        self.start_tour(
            "/odoo/action-ihub.ihub_integration_action", "ihub_live_tour", login=self.user.login
        )
        jobs = self.sub.super_id.job_ids
        self.assertEqual(jobs.mapped("state"), ["done"] * 3)
        self.assertTrue(run_messages(self.env, self.user))
        self.assertEqual(run_messages(self.env, self.other_user), [])
