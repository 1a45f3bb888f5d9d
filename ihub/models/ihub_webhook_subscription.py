from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from odoo.addons.ihub.lib import netguard, webhook_signature
from odoo.addons.ihub.lib.exceptions import IHubError


class IHubWebhookSubscription(models.Model):
    """Another system subscribed to changes of Odoo records, through an integration.

    When a record of ``model_id`` is created, written (one of ``trigger_field_ids``, or any
    field when empty) or deleted and matches ``filter_domain``, a signed delivery
    (``ihub.webhook.delivery``) is written in the same transaction — a rolled-back change
    sends nothing — and sent after the commit by the integration's "Outgoing Webhooks" lane,
    in order per record. Capture happens in ``models/base.py``'s create/write/unlink.
    """

    _name = "ihub.webhook.subscription"
    _description = "Webhook Subscription"
    _order = "integration_id, sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    model_id = fields.Many2one(
        "ir.model",
        string="Model",
        required=True,
        ondelete="cascade",
        domain=[("transient", "=", False), ("model", "not like", "ihub.%")],
    )
    model_name = fields.Char(related="model_id.model", store=True, index=True, string="Model Name")
    on_create = fields.Boolean(string="Created", default=True)
    on_write = fields.Boolean(string="Updated", default=True)
    on_unlink = fields.Boolean(string="Deleted")
    trigger_field_ids = fields.Many2many(
        "ir.model.fields",
        "ihub_webhook_subscription_trigger_field_rel",
        string="When These Fields Change",
        domain="[('model_id', '=', model_id), ('store', '=', True)]",
        help="Updates send a webhook only when one of these fields changes (empty: any).",
    )
    payload_field_ids = fields.Many2many(
        "ir.model.fields",
        "ihub_webhook_subscription_payload_field_rel",
        string="Fields Sent",
        domain="[('model_id', '=', model_id)]",
        help="The fields of the record the webhook carries (empty: only its id and name).",
    )
    filter_domain = fields.Char(
        string="Only Records Matching", default="[]", help="A domain the record must match."
    )
    target_url = fields.Char(string="Target URL", required=True)
    credential_id = fields.Many2one(
        "ihub.credential",
        string="Signing Secret",
        domain="[('integration_id', '=', integration_id), ('kind', '=', 'hmac')]",
        help="The whsec_ secret deliveries are signed with (Standard Webhooks).",
    )
    disabled_reason = fields.Char(readonly=True, copy=False)
    delivery_ids = fields.One2many("ihub.webhook.delivery", "subscription_id")
    delivery_count = fields.Integer(compute="_compute_delivery_count")
    secret_shown = fields.Char(
        string="New Signing Secret",
        compute="_compute_secret_shown",
        help="Shown once, right after it was generated: give it to the receiver now.",
    )

    @api.depends("delivery_ids")
    def _compute_delivery_count(self):
        counts = dict(
            self.env["ihub.webhook.delivery"]._read_group(
                [("subscription_id", "in", self.ids)], ["subscription_id"], ["__count"]
            )
        )
        for subscription in self:
            subscription.delivery_count = counts.get(subscription, 0)

    @api.depends_context("ihub_webhook_secret_shown")
    def _compute_secret_shown(self):
        # "<id>:<secret>", only in the answer to the button that generated it.
        record_id, _sep, secret = (
            self.env.context.get("ihub_webhook_secret_shown") or ""
        ).partition(":")
        for subscription in self:
            subscription.secret_shown = secret if record_id == str(subscription.id) else False

    @api.constrains("target_url", "integration_id")
    def _check_target_url(self):
        for subscription in self:
            try:
                netguard.check_url(
                    subscription.target_url or "",
                    allow_private=subscription.integration_id.allow_private_network,
                )
            except IHubError as error:
                raise ValidationError(
                    _("The target URL cannot be used: %(error)s", error=error)
                ) from None

    @api.constrains("filter_domain", "model_id")
    def _check_filter_domain(self):
        for subscription in self:
            try:
                domain = safe_eval(subscription.filter_domain or "[]")
                self.env[subscription.model_name].sudo().search_count(domain, limit=1)
            except Exception as error:
                raise ValidationError(
                    _("The filter is not a valid domain: %(error)s", error=error)
                ) from None

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        self.env.registry.clear_cache()
        return subscriptions

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    # ---- Capture (called from base create/write/unlink)

    @api.model
    @tools.ormcache()
    def _ihub_subscribed_models(self):
        """The models with an active subscription, cached per registry: every create, write and
        unlink of every model asks."""
        self.env.cr.execute(
            """
            SELECT DISTINCT s.model_name
              FROM ihub_webhook_subscription s
              JOIN ihub_integration i ON i.id = s.integration_id
             WHERE s.active AND i.active
            """
        )
        return frozenset(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _ihub_capture(self, records, event, changed=()):
        """Queue deliveries of ``event`` for ``records`` to the matching subscriptions."""
        subscriptions = self.sudo().search(
            [("model_name", "=", records._name), ("integration_id.active", "=", True)]
        )
        Delivery = self.env["ihub.webhook.delivery"].sudo()
        for subscription in subscriptions:
            if not subscription._ihub_wants(event, changed):
                continue
            matching = subscription._ihub_matching(records)
            if matching:
                Delivery._ihub_queue(subscription, event, matching)

    def _ihub_wants(self, event, changed):
        if event == "create":
            return self.on_create
        if event == "unlink":
            return self.on_unlink
        if not self.on_write:
            return False
        names = set(self.trigger_field_ids.mapped("name"))
        return not names or bool(names & set(changed))

    def _ihub_matching(self, records):
        domain = safe_eval(self.filter_domain or "[]")
        if not domain:
            return records
        return records.sudo().with_context(active_test=False).filtered_domain(domain)

    def _ihub_payload(self, record, event):
        names = [name for name in self.payload_field_ids.mapped("name") if name in record._fields]
        data = {"id": record.id, "display_name": record.display_name}
        if names:
            values = record.sudo().read(names)[0]
            data.update({k: (v if not isinstance(v, bytes) else None) for k, v in values.items()})
        return {"type": f"{record._name}.{event}", "model": record._name, "data": data}

    # ---- Buttons

    def action_generate_secret(self):
        """Create a new signing secret for this subscription and show it once."""
        self.ensure_one()
        secret = webhook_signature.generate_secret()
        credential = self.env["ihub.credential"].create(
            {
                "integration_id": self.integration_id.id,
                "kind": "hmac",
                "name": _("Webhook secret for %(name)s", name=self.name),
                "secret": secret,
            }
        )
        self.credential_id = credential
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "current",
            "context": {"ihub_webhook_secret_shown": f"{self.id}:{secret}"},
        }

    def action_send_test_event(self):
        """Queue a signed test delivery to the target URL; see it under Deliveries."""
        self.ensure_one()
        if not self.active:
            raise UserError(_("Activate the subscription first."))
        self.env["ihub.webhook.delivery"].sudo()._ihub_queue_test(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": _("A test webhook is on its way: see Deliveries."),
            },
        }

    def action_open_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ihub.ihub_webhook_delivery_action")
        action["domain"] = [("subscription_id", "=", self.id)]
        return action

    def _ihub_disable(self, reason):
        """The receiver said it is gone (410): stop sending and tell the responsible."""
        self.sudo().write({"active": False, "disabled_reason": reason})
        integration = self.integration_id.sudo()
        if integration.user_id:
            integration._notify(
                lambda i: i.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=i.user_id.id,
                    summary=_("Webhook subscription %(name)s disabled", name=self.name),
                    note=reason,
                )
            )
