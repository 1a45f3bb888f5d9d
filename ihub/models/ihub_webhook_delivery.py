import json
import time
import uuid
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, json_default

from odoo.addons.ihub.lib import webhook_signature, webhooks
from odoo.addons.ihub.lib.exceptions import IHubError
from odoo.addons.ihub.lib.http import build_session
from odoo.addons.ihub.lib.redact import redact_headers, redact_text

STATES = [
    ("pending", "Pending"),
    ("done", "Delivered"),
    ("failed", "Failed, Will Retry"),
    ("dead", "Given Up"),
]
ATTEMPTS_PARAM = "ihub.webhook_delivery_attempts"
HOURS_PARAM = "ihub.webhook_delivery_hours"
TIMEOUT_PARAM = "ihub.webhook_delivery_timeout"
BATCH = 100


class IHubWebhookDelivery(models.Model):
    """One message to a subscriber, and how sending it went (the last attempt).

    ``webhook_id`` stays the same across attempts and redeliveries, so that the receiver can
    drop a repeat. Deliveries of one record to one subscription go out in the order they were
    captured: a later one waits while an earlier one is still being retried.
    """

    _name = "ihub.webhook.delivery"
    _description = "Webhook Delivery"
    _order = "id desc"
    _rec_name = "webhook_id"

    subscription_id = fields.Many2one(
        "ihub.webhook.subscription", required=True, ondelete="cascade", readonly=True, index=True
    )
    integration_id = fields.Many2one(
        "ihub.integration", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True)
    event = fields.Char(readonly=True, help="create, write, unlink or test")
    res_model = fields.Char(string="Model", readonly=True)
    res_id = fields.Integer(string="Record", readonly=True)
    webhook_id = fields.Char(string="Webhook Id", readonly=True, index=True)
    payload = fields.Text(readonly=True)
    state = fields.Selection(STATES, default="pending", required=True, readonly=True)
    attempt = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    sent_at = fields.Datetime(string="Last Attempt", readonly=True)
    request_headers = fields.Text(readonly=True, help="Secrets masked.")
    response_status = fields.Integer(readonly=True)
    response_body = fields.Text(string="Response (Excerpt)", readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    error = fields.Text(readonly=True)
    job_id = fields.Many2one("ihub.job", string="Run", readonly=True, ondelete="set null")

    def init(self):
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS ihub_webhook_delivery_due_index
                ON ihub_webhook_delivery (integration_id, id)
             WHERE state IN ('pending', 'failed')
            """
        )

    # ---- Queueing (in the transaction that changed the records)

    @api.model
    def _ihub_queue(self, subscription, event, records):
        deliveries = self.create(
            [
                {
                    "subscription_id": subscription.id,
                    "integration_id": subscription.integration_id.id,
                    "event": event,
                    "res_model": record._name,
                    "res_id": record.id,
                    "webhook_id": f"msg_{uuid.uuid4().hex}",
                    "payload": json.dumps(
                        subscription._ihub_payload(record, event), default=json_default
                    ),
                }
                for record in records
            ]
        )
        self.env["ihub.job"]._ihub_ensure_lane_job(subscription.integration_id.id, "delivery")
        return deliveries

    @api.model
    def _ihub_queue_test(self, subscription):
        payload = {"type": "ihub.test", "data": {"subscription": subscription.name}}
        delivery = self.create(
            {
                "subscription_id": subscription.id,
                "integration_id": subscription.integration_id.id,
                "event": "test",
                "webhook_id": f"msg_{uuid.uuid4().hex}",
                "payload": json.dumps(payload),
            }
        )
        self.env["ihub.job"]._ihub_ensure_lane_job(subscription.integration_id.id, "delivery")
        return delivery

    # ---- Sending (the "delivery" lane of the runs engine)

    @api.model
    def _ihub_process_lane(self, job, sub):
        """Send the integration's due deliveries, oldest first, each record's in order."""
        integration = job.integration_id
        tried = self.browse()
        while True:
            due = self.search(
                [
                    ("integration_id", "=", integration.id),
                    ("state", "in", ("pending", "failed")),
                    ("next_attempt_at", "<=", fields.Datetime.now()),
                    ("id", "not in", tried.ids),
                ],
                order="id",
                limit=BATCH,
            )
            if not due:
                break
            for delivery in due:
                tried |= delivery
                if delivery._ihub_waits_for_earlier():
                    continue
                delivery._ihub_send(job)
                job.commit_progress(checkpoint=delivery.id)
        next_attempt_at = self._ihub_next_attempt_at(integration)
        if next_attempt_at:
            self.env["ihub.job"]._ihub_ensure_lane_job(
                integration.id, "delivery", eta=max(next_attempt_at, fields.Datetime.now())
            )

    @api.model
    def _ihub_next_attempt_at(self, integration):
        """When the lane next has something to send: the earliest retry among the deliveries
        that wait for no earlier one. A delivery queued behind a retried one of its record is
        due on paper, but goes only after it: counting it queued a lane job due at once, again
        and again, and the runner spun until the retry."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT min(d.next_attempt_at) FROM ihub_webhook_delivery d
                 WHERE d.integration_id = %s AND d.state IN ('pending', 'failed')
                   AND NOT (COALESCE(d.res_id, 0) != 0 AND EXISTS (
                        SELECT 1 FROM ihub_webhook_delivery e
                         WHERE e.subscription_id = d.subscription_id
                           AND e.res_model = d.res_model AND e.res_id = d.res_id
                           AND e.state IN ('pending', 'failed') AND e.id < d.id))
                """,
                integration.id,
            )
        )
        return self.env.cr.fetchone()[0]

    def _ihub_waits_for_earlier(self):
        if not self.res_id:
            return False
        return bool(
            self.search_count(
                [
                    ("subscription_id", "=", self.subscription_id.id),
                    ("res_model", "=", self.res_model),
                    ("res_id", "=", self.res_id),
                    ("state", "in", ("pending", "failed")),
                    ("id", "<", self.id),
                ],
                limit=1,
            )
        )

    def _ihub_send(self, job):
        """One attempt: sign, POST, and record what happened."""
        subscription = self.subscription_id
        params = self.env["ir.config_parameter"].sudo()
        attempts = int(params.get_param(ATTEMPTS_PARAM) or webhooks.DEFAULT_DELIVERY_ATTEMPTS)
        hours = float(params.get_param(HOURS_PARAM) or webhooks.DEFAULT_DELIVERY_HOURS)
        timeout = float(params.get_param(TIMEOUT_PARAM) or webhooks.DEFAULT_TIMEOUT)
        attempt = self.attempt + 1
        values = {"attempt": attempt, "sent_at": fields.Datetime.now(), "job_id": job.id}
        if not subscription.active:
            self.write({**values, "state": "dead", "error": _("The subscription is inactive.")})
            return
        secret = (
            subscription.credential_id.sudo()._secret_value()
            if subscription.credential_id
            else None
        )
        body = self.payload.encode()
        headers = {"Content-Type": "application/json"}
        if secret:
            headers.update(webhook_signature.sign_headers(secret, self.webhook_id, body))
        else:
            headers["webhook-id"] = self.webhook_id
        values["request_headers"] = json.dumps(redact_headers(headers, [secret or ""]), indent=1)
        session = build_session(
            None,
            timeouts=(min(5.0, timeout), timeout),
            retries=0,
            allow_private=subscription.integration_id.allow_private_network,
            secrets=[secret] if secret else (),
            user_agent="iHub webhooks",
        )
        started = time.monotonic()
        status = retry_after = None
        try:
            response = session.request(
                "POST",
                subscription.target_url,
                data=body,
                headers=headers,
                expected_status=range(300, 600),
                allow_redirects=False,
                max_response_bytes=64 * 1024,
            )
            status = response.status_code
            values["response_body"] = redact_text(response.text[: webhooks.EXCERPT], [secret or ""])
            retry_after = webhooks.retry_after_seconds(response.headers.get("Retry-After"))
            values["error"] = False
        except IHubError as error:
            values["error"] = str(error)
            values["response_body"] = False
        finally:
            session.close()
        values["duration_ms"] = int((time.monotonic() - started) * 1000)
        values["response_status"] = status or 0
        if status and 200 <= status < 300:
            values.update(state="done", next_attempt_at=False)
            job.add_counts(processed=1, succeeded=1)
        elif status == 410:
            values.update(state="dead", next_attempt_at=False)
            subscription._ihub_disable(
                _(
                    "%(url)s answered 410 Gone: the receiver no longer wants these webhooks.",
                    url=subscription.target_url,
                )
            )
            job.add_counts(processed=1, failed=1)
        else:
            wait = webhooks.delivery_retry_delay(attempt, attempts, hours)
            if wait is None:
                values.update(state="dead", next_attempt_at=False)
            else:
                if status == 429 and retry_after:
                    wait = max(wait, retry_after)
                values.update(
                    state="failed",
                    next_attempt_at=fields.Datetime.now() + timedelta(seconds=wait),
                )
            job.add_counts(processed=1, failed=1)
        self.write(values)

    # ---- Buttons

    def action_redeliver(self):
        """Send these deliveries again now (same webhook id: the receiver can drop repeats)."""
        self.integration_id._check_can_operate()
        if any(not d.subscription_id.active for d in self):
            raise UserError(_("The subscription is inactive: activate it first."))
        self.sudo().write(
            {"state": "pending", "next_attempt_at": fields.Datetime.now(), "error": False}
        )
        for integration in self.sudo().integration_id:
            self.env["ihub.job"].sudo()._ihub_ensure_lane_job(integration.id, "delivery")
        return True
