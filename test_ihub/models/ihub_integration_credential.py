"""Sub-models with credentials and link lifecycle hooks, for the credential tests."""

import requests

from odoo import fields, models
from odoo.exceptions import UserError


class CredentialTestIntegration(models.Model):
    """Needs an API key; records its hook calls and can make one of them fail."""

    _name = "ihub.integration.test.credential"
    _inherit = "ihub.abstract_integration"
    _description = "Credential Test Integration"

    credential_kinds = ("api_key",)
    api_key_header = "X-Test-Key"

    hook_calls = fields.Text(default="")
    fail_hook = fields.Char(help="Name of the hook that raises.")
    api_url = fields.Char(help="test_connection GETs this URL with the credential.")
    secret_length = fields.Integer(help="Length of the secret the last run read.")

    def _record(self, hook):
        self.sudo().hook_calls += f"{hook}\n"
        if self.fail_hook == hook:
            raise UserError(f"{hook} refused by the other system (key {self.ihub_secret()})")

    def activate(self):
        self._record("activate")

    def deactivate(self):
        self._record("deactivate")

    def test_connection(self):
        self._record("test_connection")
        if self.api_url:
            credential = self._ihub_credential()
            response = requests.get(self.api_url, auth=credential._requests_auth(), timeout=5)
            if response.status_code != 200:
                raise UserError(f"{self.api_url} answered {response.status_code}")

    def run_from_to(self, _from, _to):
        self.sudo().secret_length = len(self.ihub_secret("api_key") or "")


class OAuthTestIntegration(models.Model):
    """Needs an OAuth2 credential; fetches a protected URL in its runs."""

    _name = "ihub.integration.test.oauth"
    _inherit = "ihub.abstract_integration"
    _description = "OAuth2 Test Integration"

    credential_kinds = ("oauth2",)
    oauth2 = {"scope": "contacts", "grant_type": "authorization_code"}

    hook_calls = fields.Text(default="")
    api_url = fields.Char()
    answers = fields.Text(default="")

    def activate(self):
        self.sudo().hook_calls += "activate\n"

    def deactivate(self):
        self.sudo().hook_calls += "deactivate\n"

    def run_from_to(self, _from, _to):
        auth = self._ihub_credential("oauth2")._requests_auth()
        response = requests.get(self.api_url, auth=auth, timeout=5)
        self.sudo().answers += f"{response.status_code}\n"
        response.raise_for_status()
