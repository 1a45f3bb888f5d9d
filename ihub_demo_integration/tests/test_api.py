"""The demo's own REST API operations (``api_endpoints``), over real HTTP."""

from openapi_spec_validator import validate

from odoo.tests import new_test_user, tagged

from odoo.addons.ihub.tests.common import IHubHttpCase

SETTINGS = "/ihub/api/v1/integrations/{}/demo/settings"


@tagged("post_install", "-at_install")
class TestDemoApi(IHubHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(cls.env, login="demo_api_user", groups="ihub.group_ihub_user")
        cls.manager = new_test_user(
            cls.env, login="demo_api_manager", groups="ihub.group_ihub_manager"
        )
        Keys = cls.env["res.users.apikeys"]
        cls.keys = {
            user: Keys.with_user(user).sudo()._generate("ihub", "demo", None)
            for user in (cls.user, cls.manager)
        }
        cls.demo = (
            cls.env["ihub.integration.demo"]
            .with_user(cls.manager)
            .create({"name": "API demo", "a_custom_field": "before"})
        )

    def call(self, user, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.keys[user]}"}
        return self.opener.request(
            method, f"{self.base_url()}{path}", headers=headers, timeout=30, **kwargs
        )

    def test_read_and_write_the_setting(self):
        url = SETTINGS.format(self.demo.super_id.id)
        response = self.call(self.user, "GET", url)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["data"], {"a_custom_field": "before"})
        # iHub users only read demo integrations: the ORM refuses, the API says 403.
        response = self.call(self.user, "POST", url, json={"a_custom_field": "by user"})
        self.assertEqual(response.status_code, 403, response.text)
        self.assertEqual(self.demo.a_custom_field, "before")
        response = self.call(self.manager, "POST", url, json={"a_custom_field": "by manager"})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["data"], {"a_custom_field": "by manager"})
        self.assertEqual(self.demo.a_custom_field, "by manager")

    def test_the_body_is_checked_first(self):
        url = SETTINGS.format(self.demo.super_id.id)
        response = self.call(self.manager, "POST", url, json={"a_custom_field": "x" * 101})
        self.assertEqual(response.status_code, 422, response.text)
        self.assertEqual(response.json()["error"]["details"][0]["field"], "a_custom_field")
        response = self.call(self.manager, "POST", url, json={})
        self.assertEqual(response.status_code, 422, response.text)
        self.assertEqual(self.demo.a_custom_field, "before")

    def test_they_are_in_the_document(self):
        document = self.url_open("/ihub/api/v1/openapi.json").json()
        validate(document)
        operations = document["paths"]["/integrations/{id}/demo/settings"]
        self.assertEqual(
            (operations["get"]["operationId"], operations["post"]["operationId"]),
            ("getDemoSettings", "postDemoSettings"),
        )
        self.assertEqual(
            operations["post"]["requestBody"]["content"]["application/json"]["schema"]["required"],
            ["a_custom_field"],
        )
