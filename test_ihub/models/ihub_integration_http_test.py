from odoo import fields, models


class HttpTestIntegration(models.Model):
    """GETs ``path`` below its base URL with its API key, as an author's run would."""

    _name = "ihub.integration.httptest"
    _inherit = "ihub.abstract_integration"
    _description = "HTTP Test Integration"

    has_time_period = False
    credential_kinds = ("api_key",)
    api_key_param = "api_key"

    path = fields.Char(default="/echo")
    calls = fields.Integer(default=1)

    def run_from_to(self, _from, _to):
        http = self.ihub_http()
        for _call in range(self.calls):
            http.get_json(self.path)
