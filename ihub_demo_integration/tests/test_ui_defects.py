"""Defects a user met in the browser (issue 9, items 1, 4 and 7), checked in real Chromium
through Odoo's tours (ihub/static/src/tours/ihub_user_tours.js), at desktop and phone width."""

from odoo.tests import new_test_user, tagged

from odoo.addons.ihub.tests.common import IHubHttpCase


@tagged("post_install", "-at_install")
class TestUserDefectsTour(IHubHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="ihub_ui_manager",
            name="iHub UI Manager",
            groups="base.group_user,ihub.group_ihub_manager",
        )
        cls.user = new_test_user(
            cls.env,
            login="ihub_ui_user",
            name="iHub UI User",
            groups="base.group_user,ihub.group_ihub_user",
        )
        cls.demo = (
            cls.env["ihub.integration.demo"]
            .with_user(cls.manager)
            .create({"name": "UI Demo", "user_id": cls.manager.id})
        ).super_id

    def integration_url(self, integration):
        return f"/odoo/action-ihub.ihub_integration_action/{integration.id}"

    def test_an_ihub_error_is_a_readable_warning(self):
        self.demo.write({"user_id": False, "run_user_id": False})
        # Odoo logs the UserError it answers the browser with.
        with self.assertLogs("odoo.http", "WARNING") as logged:
            self.start_tour(
                self.integration_url(self.demo), "ihub_readable_error_tour", login=self.user.login
            )
        self.assertIn("has no responsible user", logged.output[0])
        self.assertEqual(self.demo.state, "draft")

    def test_catalogue_add_then_discard_leaves_nothing(self):
        before = self.env["ihub.integration"].with_context(active_test=False).search([])
        self.start_tour(
            "/odoo/action-ihub.ihub_integration_action",
            "ihub_catalogue_discard_tour",
            login=self.manager.login,
        )
        after = self.env["ihub.integration"].with_context(active_test=False).search([])
        self.assertEqual(after, before, "no stray draft behind")

    def test_plain_user_is_offered_what_they_may_do(self):
        self.start_tour(
            self.integration_url(self.demo), "ihub_plain_user_tour", login=self.user.login
        )
        note = self.demo.message_ids.filtered(lambda m: "moves servers" in (m.body or ""))
        self.assertEqual(note.author_id, self.user.partner_id)


@tagged("post_install", "-at_install")
class TestUserDefectsPhoneTour(TestUserDefectsTour):
    """The same at phone width, with touch."""

    browser_size = "390x844"
    touch_enabled = True
