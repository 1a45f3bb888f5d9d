import base64

from odoo.exceptions import ValidationError
from odoo.tools.misc import file_path

from .common import IHubCase


class TestIntegrationType(IHubCase):
    def test_types_are_registered_by_their_addon(self):
        self.assertEqual(self.type_test.model_name, "ihub.integration.test")
        self.assertEqual(self.type_test.code, "test")
        self.assertEqual(self.type_singleton.parent_id, self.type_test)
        self.assertIn(self.type_singleton, self.type_test.child_ids)

    def test_icon_is_loaded_from_the_addon_that_defines_the_model(self):
        with open(file_path("test_ihub/static/description/icon.png"), "rb") as icon:
            expected = base64.b64encode(icon.read())
        self.assertEqual(self.type_test.icon, expected)

    def test_icon_set_by_the_record_wins(self):
        with open(file_path("test_ihub/static/custom_icon.png"), "rb") as icon:
            expected = base64.b64encode(icon.read())
        self.assertEqual(self.type_global.icon, expected)
        self.assertNotEqual(self.type_global.icon, self.type_test.icon)

    def test_flags_and_summary_come_from_the_model(self):
        self.assertTrue(self.type_singleton.is_singleton)
        self.assertFalse(self.type_test.is_singleton)
        self.assertFalse(self.type_passive.is_manually_runnable)
        self.assertIn("Used by the tests", self.type_test.summary)
        self.assertIn("One per company", self.type_singleton.summary)

    def test_a_type_needs_an_installed_integration_model(self):
        Type = self.env["ihub.integration.type"]
        with self.assertRaisesRegex(ValidationError, "not installed"):
            Type.create({"name": "X", "code": "x", "model_name": "no.such.model"})
        with self.assertRaisesRegex(ValidationError, "must inherit"):
            Type.create({"name": "X", "code": "x", "model_name": "res.partner"})

    def test_catalogue_opens_a_new_integration_of_the_type(self):
        # Nothing is saved before the user saves (test_operate.TestCatalogueAndTypes).
        action = self.type_test.with_user(self.manager).action_create_integration()
        self.assertEqual(action["res_model"], "ihub.integration.test")
        self.assertEqual(action["context"]["default_type_id"], self.type_test.id)
        self.assertEqual(self.type_test.integration_count, 0)

    def test_sub_model_without_a_type_gets_a_clear_error(self):
        from odoo.exceptions import UserError

        self.type_test.model_name = "ihub.integration.test.passive"
        with self.assertRaisesRegex(UserError, "No integration type uses the model"):
            self.env["ihub.integration.test"].create({"name": "orphan"})
