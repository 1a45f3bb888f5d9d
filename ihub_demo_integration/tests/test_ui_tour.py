from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestIHubTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Only what an iHub manager has: no settings, no administration rights.
        cls.manager = new_test_user(
            cls.env,
            login="ihub_tour_manager",
            name="iHub Tour Manager",
            groups="base.group_user,ihub.group_ihub_manager",
        )

    def test_ihub_tour(self):
        self.start_tour(
            "/odoo/action-ihub.ihub_integration_action", "ihub_tour", login=self.manager.login
        )
        Integration = self.env["ihub.integration"]
        started = Integration.search([("name", "=", "Tour Demo Integration")])
        self.assertEqual(len(started), 1)
        self.assertEqual(started.state, "active")
        self.assertEqual(started.model_name, "ihub.integration.demo")
        self.assertEqual(started.create_uid, self.manager)
        added = Integration.search([("name", "=", "Second Tour Integration")])
        self.assertEqual(len(added), 1, "the form's New created one integration")
        self.assertEqual(added.state, "draft")
        self.assertEqual(added.type_id, started.type_id)
        self.assertEqual(len(added.sub_id), 1)
