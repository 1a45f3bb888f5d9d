"""One integration from start to finish in real Chromium, for a manager and for a plain iHub
user, and at phone width (issue 9, "Browser tests"). The tours are in
ihub/static/src/tours/ihub_e2e_tour.js; their named steps make the README's screenshots
(``python3 scripts/dev.py screenshots``)."""

from odoo.tests import new_test_user, tagged

from odoo.addons.ihub.models.ihub_integration_notice import FAILURE_ACTIVITY
from odoo.addons.ihub.tests.common import IHubHttpCase, run_messages

from .screenshots import SCREENSHOT_DIR, TourScreens, readme_screenshots

TZ = "Europe/Brussels"
NAME = "Shop Orders"
DASHBOARD = "/odoo/action-ihub.ihub_integration_action"


class EndToEndCase(IHubHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The tours run queued runs through test_ihub's test-only route: without it they
        # would wait forever, so say why at once.
        assert "test_ihub" in cls.env.registry._init_modules, "the tours need test_ihub"
        cls.manager = new_test_user(
            cls.env,
            login="ihub_e2e_manager",
            name="Iris Manager",
            groups="base.group_user,ihub.group_ihub_manager",
            tz=TZ,
        )
        cls.user = new_test_user(
            cls.env,
            login="ihub_e2e_user",
            name="Paul User",
            groups="base.group_user,ihub.group_ihub_user",
            tz=TZ,
        )

    @classmethod
    def set_up_for_user(cls, **values):
        """What an administrator prepares for a plain user, who operates it."""
        return (
            cls.env["ihub.integration.demo"]
            .create(
                {
                    "name": NAME,
                    "a_custom_field": "Web shop",
                    "user_id": cls.user.id,
                    "max_attempts": 1,
                    **values,
                }
            )
            .super_id
        )

    def tour(self, screens, name, login):
        with screens:
            self.start_tour(DASHBOARD, name, login=login, timeout=120)

    def assert_readme_shows_what_tours_make(self, screens, phone):
        """A picture in README.md that no tour step makes any more fails here."""
        shown = {n for n in readme_screenshots() if n.endswith("_phone") == phone}
        self.assertTrue(shown, "README.md shows screenshots")
        self.assertLessEqual(shown, set(screens.names))
        for name in shown:
            self.assertTrue((SCREENSHOT_DIR / f"{name}.png").is_file(), f"{name}.png is committed")


@tagged("post_install", "-at_install")
class TestEndToEndTour(EndToEndCase):
    # A wide desktop (the chatter beside the form, as Odoo shows it from 1534 px), tall enough
    # for a form's notebook: what the pictures show.
    browser_size = "1600x1000"

    def assert_went_end_to_end(self, integration, responsible):
        """Failed once, reset, retried: healthy again, the notice closed."""
        self.assertEqual(integration.state, "active")
        self.assertEqual(integration.user_id, responsible)
        jobs = integration.job_ids.sorted("id")
        self.assertEqual(
            [(j.trigger, j.state) for j in jobs],
            [("manual", "done"), ("scheduled", "failed"), ("retry", "done")],
        )
        self.assertIn("failed because 'Fail Runs' is set", jobs[1].error_message)
        self.assertEqual(jobs[2].parent_job_id, jobs[1])
        bot = self.env.ref("base.partner_root")
        notices = integration.message_ids.filtered(
            lambda m: m.author_id == bot and "stopped at" in (m.body or "")
        )
        # The notice itself, and the to-do marked done (its feedback names the episode's end).
        notice = notices.filtered(lambda m: not m.mail_activity_type_id)
        self.assertEqual(len(notice), 1, "one notice for the one failure")
        self.assertIn(responsible.partner_id, notice.partner_ids)
        self.assertIn(f"({TZ})", notice.body, "the time in the responsible's zone")
        self.assertFalse(integration._open_failure_activities(), "the to-do is done")
        done = integration.message_ids.filtered(
            lambda m: m.mail_activity_type_id == self.env.ref(FAILURE_ACTIVITY)
        )
        self.assertEqual(len(done), 1)
        self.assertIn("Healthy again", done.body)
        self.assertTrue(run_messages(self.env, responsible), "the runs were sent to the screen")

    def test_manager_adds_runs_breaks_and_mends_an_integration(self):
        before = self.env["ihub.integration"].with_context(active_test=False).search([])
        screens = TourScreens(TZ)
        self.tour(screens, "ihub_e2e_manager_tour", self.manager.login)
        added = self.env["ihub.integration"].with_context(active_test=False).search([]) - before
        self.assertEqual(added.mapped("name"), [NAME], "the discarded one left nothing")
        self.assertEqual(added.sub_id.a_custom_field, "Web shop")
        self.assertFalse(added.sub_id.fail_run)
        self.assertEqual(added.max_attempts, 1)
        self.assert_went_end_to_end(added, self.manager)
        self.assert_readme_shows_what_tours_make(screens, phone=False)

    def test_plain_user_operates_an_integration_set_up_for_them(self):
        integration = self.set_up_for_user()
        # The README's pictures are the manager's: nothing saved here.
        screens = TourScreens(TZ, directory="")
        self.tour(screens, "ihub_e2e_user_run_tour", self.user.login)
        self.assertEqual(integration.job_ids.mapped("state"), ["done"])
        # The shop goes down.
        integration.sub_id.fail_run = True
        self.tour(screens, "ihub_e2e_user_failure_tour", self.user.login)
        self.assertEqual(integration.state, "failed")
        self.assertTrue(integration._open_failure_activities())
        # The shop is back.
        integration.sub_id.fail_run = False
        self.tour(screens, "ihub_e2e_user_recover_tour", self.user.login)
        self.assert_went_end_to_end(integration, self.user)
        self.assertEqual(set(screens.names), {"integration", "run", "failure_notice", "dashboard"})


@tagged("post_install", "-at_install")
class TestEndToEndPhoneTour(EndToEndCase):
    """At phone width, with touch: the dashboard and the form are usable."""

    browser_size = "390x844"
    touch_enabled = True

    def test_dashboard_and_form_at_phone_width(self):
        integration = self.set_up_for_user()
        integration.with_user(self.user).action_start()
        screens = TourScreens(TZ)
        self.tour(screens, "ihub_e2e_phone_tour", self.user.login)
        self.assertEqual([(j.trigger, j.state) for j in integration.job_ids], [("manual", "done")])
        self.assertTrue(run_messages(self.env, self.user))
        self.assert_readme_shows_what_tours_make(screens, phone=True)
