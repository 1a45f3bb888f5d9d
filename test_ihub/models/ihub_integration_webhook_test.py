"""A sub-model that only accepts pushes, for the webhook tests."""

import time

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.ihub.lib import webhook_signature


class WebhookTestIntegration(models.Model):
    """Records each ``hook`` call; can fail, sleep, or answer a GET handshake."""

    _name = "ihub.integration.test.webhook"
    _inherit = "ihub.abstract_integration"
    _description = "Webhook Test Integration"

    is_job = False
    is_manually_runnable = False
    accepts_webhooks = True

    hook_calls = fields.Text(default="", help="One line per call: delivery id|type|run user")
    fail_hook = fields.Boolean(help="Every hook call fails.")
    hook_sleep = fields.Float(help="Seconds each hook call takes.")
    github_style = fields.Boolean(help="Check pushes as GitHub signs them, not Standard Webhooks.")

    def hook(self, event):
        time.sleep(self.hook_sleep)
        if self.fail_hook:
            raise UserError(f"refused {event.delivery_id}")
        self.sudo().hook_calls += (
            f"{event.delivery_id}|{event.payload.get('type')}|{self.env.uid}\n"
        )

    def _ihub_webhook_verify(self, headers, body):
        # The documented small override: a sender with a scheme of its own (GitHub's).
        if not self.github_style:
            return super()._ihub_webhook_verify(headers, body)
        webhook_signature.verify_hmac_header(
            self.ihub_secret("hmac"), body, headers.get("X-Hub-Signature-256"), prefix="sha256="
        )
        return headers.get("X-GitHub-Delivery")

    def _ihub_webhook_handshake(self, method, headers, args, body):
        # A sender that checks the URL first: GET ?challenge=x is answered with x.
        if method == "GET" and args.get("challenge"):
            return 200, "text/plain", args["challenge"]
        return None
