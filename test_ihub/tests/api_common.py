"""Users, API keys and integrations of two companies, and a client for iHub's REST API.

Calls go over real HTTP to the test server on loopback (HttpCase's), as another system's
would.
"""

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.ihub.tests.common import IHubHttpCase

API = "/ihub/api/v1"


class ApiCase(IHubHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "iHub API Company B"})
        cls.user = new_test_user(
            cls.env, login="api_user", groups="ihub.group_ihub_user", company_id=cls.company_a.id
        )
        cls.manager = new_test_user(
            cls.env,
            login="api_manager",
            groups="ihub.group_ihub_manager",
            company_ids=[Command.set([cls.company_a.id, cls.company_b.id])],
            company_id=cls.company_a.id,
        )
        cls.user_b = new_test_user(
            cls.env,
            login="api_user_b",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set([cls.company_b.id])],
            company_id=cls.company_b.id,
        )
        cls.internal = new_test_user(cls.env, login="api_internal", groups="base.group_user")
        cls.keys = {
            user.login: cls.new_key(user)
            for user in (cls.user, cls.manager, cls.user_b, cls.internal)
        }
        Sub = cls.env["ihub.integration.test"].with_user(cls.manager)
        cls.integration_a = Sub.create({"name": "API A", "user_id": cls.manager.id}).super_id
        cls.integration_b = (
            Sub.with_company(cls.company_b)
            .create({"name": "API B", "user_id": cls.manager.id, "company_id": cls.company_b.id})
            .super_id
        )

    @classmethod
    def new_key(cls, user, name="test key"):
        """A new API key of ``user`` (scope "ihub"), as Preferences > New API Key makes one."""
        return cls.env["res.users.apikeys"].with_user(user).sudo()._generate("ihub", name, None)

    def call(self, method, path, login="api_user", key=None, **kwargs):
        """``method`` ``path`` (under /ihub/api/v1) with ``login``'s key; the response."""
        headers = dict(kwargs.pop("headers", {}))
        key = key or (self.keys[login] if login else None)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.opener.request(
            method, f"{self.base_url()}{API}{path}", headers=headers, timeout=30, **kwargs
        )

    def assertError(self, response, status, code=None, field=None):  # noqa: N802
        """``response`` is an error envelope with ``status`` (and ``code``, naming ``field``)."""
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        error = response.json()["error"]
        self.assertEqual(set(error), {"code", "message", "details"})
        if code:
            self.assertEqual(error["code"], code)
        if field:
            self.assertIn(field, [detail.get("field") for detail in error["details"]])
            self.assertIn(field, error["message"])
        return error
