"""Incoming webhooks on ``ihub.integration``: the push URL, its token and signing secrets.

A type accepts pushes when its sub-model sets ``accepts_webhooks = True``. Each such
integration has a URL ``/ihub/hook/<token>``; what arrives there is checked, stored as an
``ihub.webhook.event`` and processed by the sub-model's ``hook`` (see
``controllers/webhook.py`` and ``models/ihub_webhook_event.py``).
"""

import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from odoo.addons.ihub.lib import webhook_signature

HOOK_PATH = "/ihub/hook/"


def new_token():
    return secrets.token_urlsafe(32)


class IHubIntegrationWebhook(models.Model):
    _inherit = "ihub.integration"

    webhook_token = fields.Char(
        copy=False,
        readonly=True,
        groups="ihub.group_ihub_manager",
        help="The secret part of the push URL. Rotate it when the URL leaked.",
    )
    webhook_token_previous = fields.Char(
        copy=False,
        readonly=True,
        groups="ihub.group_ihub_manager",
        help="The token before the last rotation: requests with it are refused and counted.",
    )
    webhook_url = fields.Char(
        string="Push URL",
        compute="_compute_webhook_url",
        compute_sudo=True,
        groups="ihub.group_ihub_manager",
        help="Give this URL and the signing secret to the system that pushes to this integration.",
    )
    webhook_event_ids = fields.One2many(
        "ihub.webhook.event", "integration_id", string="Received Webhooks"
    )
    webhook_dead_count = fields.Integer(
        compute="_compute_webhook_dead_count", string="Dead Letters"
    )
    webhook_counter_ids = fields.One2many(
        "ihub.webhook.counter", "integration_id", string="Webhook Answers"
    )
    webhook_subscription_ids = fields.One2many(
        "ihub.webhook.subscription", "integration_id", string="Webhook Subscriptions"
    )
    webhook_secret_shown = fields.Char(
        string="New Signing Secret",
        compute="_compute_webhook_secret_shown",
        help="Shown once, right after it was generated: copy it now.",
    )

    _sql_constraints = [
        ("webhook_token_unique", "unique(webhook_token)", "A push URL token is unique."),
    ]

    @api.depends("webhook_token")
    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for integration in self:
            token = integration.webhook_token
            integration.webhook_url = f"{base}{HOOK_PATH}{token}" if token else False

    def _compute_webhook_dead_count(self):
        counts = dict(
            self.env["ihub.webhook.event"]._read_group(
                [("integration_id", "in", self.ids), ("state", "=", "dead")],
                ["integration_id"],
                ["__count"],
            )
        )
        for integration in self:
            integration.webhook_dead_count = counts.get(integration, 0)

    @api.depends_context("ihub_webhook_secret_shown")
    def _compute_webhook_secret_shown(self):
        # "<id>:<secret>", only in the answer to the button that generated it.
        record_id, _sep, secret = (
            self.env.context.get("ihub_webhook_secret_shown") or ""
        ).partition(":")
        for integration in self:
            integration.webhook_secret_shown = secret if record_id == str(integration.id) else False

    @api.model_create_multi
    def create(self, vals_list):
        integrations = super().create(vals_list)
        integrations._ihub_ensure_webhook_token()
        return integrations

    def action_start(self):
        # Integrations created before their type accepted webhooks get their URL here.
        self._with_descendants()._ihub_ensure_webhook_token()
        return super().action_start()

    def _ihub_ensure_webhook_token(self):
        for integration in self.sudo():
            if integration.accepts_webhooks and not integration.webhook_token:
                integration.webhook_token = new_token()

    # ---- Buttons (iHub managers)

    def action_rotate_webhook_token(self):
        """Give the integration a new push URL; the old one answers 404 from now on."""
        self.ensure_one()
        self.check_access("write")
        if not self.accepts_webhooks:
            raise UserError(_("'%(name)s' does not accept webhooks.", name=self.name))
        integration = self.sudo()
        integration.write(
            {"webhook_token_previous": integration.webhook_token, "webhook_token": new_token()}
        )
        self.message_post(body=_("The push URL was changed; the old one no longer works."))
        return True

    def action_generate_webhook_secret(self):
        """Add a new signing secret (``whsec_…``) and show it once.

        The existing secrets stay active, so that the sender can switch without losing
        requests; archive the old credential once it did.
        """
        self.ensure_one()
        self.check_access("write")
        secret = webhook_signature.generate_secret()
        self.env["ihub.credential"].create(
            {
                "integration_id": self.id,
                "kind": "hmac",
                # The user's today (not the server's, in UTC), as they write dates.
                "name": _(
                    "Webhook signing secret %(date)s",
                    date=format_date(self.env, fields.Date.context_today(self)),
                ),
                "secret": secret,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "ihub.integration",
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "current",
            "context": {"ihub_webhook_secret_shown": f"{self.id}:{secret}"},
        }

    def action_open_webhook_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ihub.ihub_webhook_event_action")
        action["context"] = {"search_default_integration_id": self.id}
        action["domain"] = [("integration_id", "=", self.id)]
        return action

    def action_open_webhook_dead_letters(self):
        action = self.action_open_webhook_events()
        action["context"] = {**action["context"], "search_default_dead": 1}
        return action

    # ---- Used by the intake (controllers/webhook.py), as superuser

    def _ihub_webhook_secrets(self):
        """The clear-text signing secrets of the active ``hmac`` credentials (rotation: all)."""
        credentials = self.sudo().credential_ids
        # Only the fields used, kept in the environment's cache: the intake asks twice per
        # push (check, redaction), and a full read computes fields it does not need.
        credentials.fetch(["kind", "active", "secret_store"])
        credentials = credentials.filtered(lambda c: c.kind == "hmac" and c.active)
        return [s for s in (c._secret_value() for c in credentials) if s]

    def _ihub_webhook_accepting(self):
        """Whether pushes are accepted now: the integration is active."""
        return self.state == "active"
