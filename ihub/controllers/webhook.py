"""``/ihub/hook/<token>``: where other systems push to an integration.

Order of the checks, cheapest and safest first: the token (404), a synchronous handshake the
type may answer, the integration's state (503), the method (405), the size before reading the
body (413), the token's rate (429), the signature over the raw bytes (401), and only then the
JSON (400). The event is inserted and **committed before** the 2xx is returned; a delivery id
already stored answers 200 at once. Nothing is stored for a request that fails a check: only
its outcome is counted (``ihub.webhook.counter``).

The route commits explicitly, at a known point before the answer, in a READ COMMITTED
transaction: on the request's cursor when Odoo has not used it before the route (the usual
case: a pooled connection fewer per push), else on a cursor of its own.
"""

import json
import logging

from psycopg2.extensions import STATUS_READY
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import SUPERUSER_ID, api, http
from odoo.http import request

from odoo.addons.ihub.lib import webhooks
from odoo.addons.ihub.lib.isolation import begin_read_committed
from odoo.addons.ihub.lib.redact import redact_headers
from odoo.addons.ihub.lib.webhook_signature import SignatureError

_logger = logging.getLogger(__name__)

MAX_BODY_PARAM = "ihub.webhook_max_body_bytes"
RATE_PARAM = "ihub.webhook_rate_limit_per_minute"
DEFAULT_RATE = 600
RETRY_AFTER_STOPPED = 60
TIMESTAMP_CODES = ("stale_timestamp", "future_timestamp", "bad_timestamp")


class _Refusal(Exception):
    """A refused push: its status, error code and message, and what to count it as."""

    def __init__(self, status, code, message, integration_id=None, counter=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.integration_id = integration_id
        self.counter = counter or code
        self.headers = headers or {}


class IHubWebhookController(http.Controller):
    @http.route(
        "/ihub/hook/<string:token>",
        type="http",
        auth="none",
        methods=None,
        csrf=False,
        save_session=False,
        # Not the default readonly of auth="none": the intake writes.
        readonly=False,
        # The body is read here, size first: Odoo must not parse a form body before (ir_http.py).
        ihub_raw_body=True,
    )
    def ihub_hook(self, token, **_params):
        """Receive a push (see the module docstring for the order of the checks)."""
        if not request.db:
            return _json(404, "not_found", "Unknown webhook URL.")
        cr = request.env.cr
        if _unused(cr):
            return self._intake(cr, token)
        # Odoo used the request's transaction before the route: it cannot be READ COMMITTED.
        with request.env.registry.cursor() as own_cr:
            return self._intake(own_cr, token)

    def _intake(self, cr, token):
        integration_id = None
        try:
            _begin_read_committed(cr)
            env = api.Environment(cr, SUPERUSER_ID, {})
            integration_id, response = self._receive(env, token)
            return response
        except _Refusal as refusal:
            cr.rollback()  # a refused push takes nothing (its rate-limit share included)
            self._count(
                request.env.registry, refusal.integration_id or integration_id, refusal.counter
            )
            return _json(refusal.status, refusal.code, refusal.message, refusal.headers)

    def _receive(self, env, token):
        httprequest = request.httprequest
        integration = self._integration(env, token)
        sub = env[integration.model_name].browse(integration._ihub_sub_id())
        args = dict(httprequest.args)
        handshake = sub._ihub_webhook_handshake(httprequest.method, httprequest.headers, args, None)
        if handshake:
            status, content_type, text = handshake
            self._count_in(env, integration.id, "handshake")
            return integration.id, request.make_response(
                text, headers=[("Content-Type", content_type)], status=status
            )
        if not integration._ihub_webhook_accepting():
            raise _Refusal(
                503,
                "unavailable",
                "The integration is not active; retry later.",
                headers={"Retry-After": str(RETRY_AFTER_STOPPED)},
                integration_id=integration.id,
            )
        if httprequest.method != "POST":
            raise _Refusal(
                405,
                "method_not_allowed",
                "Webhooks are sent with POST.",
                headers={"Allow": "POST"},
                integration_id=integration.id,
            )
        body = self._read_body(env, integration.id)
        headers = Headers(httprequest.headers)
        try:
            delivery_id = sub._ihub_webhook_verify(headers, body)
        except SignatureError as error:
            timestamp = error.code in TIMESTAMP_CODES
            raise _Refusal(
                401,
                "invalid_timestamp" if timestamp else "invalid_signature",
                str(error),
                counter="stale_timestamp" if timestamp else "unauthorized",
                integration_id=integration.id,
            ) from None
        if not delivery_id:
            raise _Refusal(
                401,
                "invalid_signature",
                "The request carries no delivery id.",
                counter="unauthorized",
                integration_id=integration.id,
            )
        try:
            payload = json.loads(body)
        except ValueError:
            raise _Refusal(
                400,
                "malformed_json",
                "The body is not valid JSON.",
                counter="bad_request",
                integration_id=integration.id,
            ) from None
        self._check_rate(env, integration)
        stored_headers = redact_headers(
            {k: v for k, v in httprequest.headers.items() if k.lower() != "cookie"},
            integration._ihub_webhook_secrets(),
        )
        event_id = env["ihub.webhook.event"]._ihub_store(
            integration.id, str(delivery_id)[:256], stored_headers, body, payload
        )
        if event_id is None:
            self._count_in(env, integration.id, "duplicate")
            env.cr.commit()  # pylint: disable=invalid-commit
            return integration.id, _json(200, None, None, status_text="duplicate")
        job, queued = env["ihub.job"]._ihub_lane_job(integration.id, "webhook")
        webhooks.kill_point("before_commit")
        # The answer promises the event is kept: commit first.
        env.cr.commit()  # pylint: disable=invalid-commit
        webhooks.kill_point("after_commit")
        if not queued:
            self._ensure_not_missed(env, integration.id, job.id)
        return integration.id, _json(202, None, None, status_text="accepted", event=event_id)

    def _integration(self, env, token):
        Integration = env["ihub.integration"].with_context(active_test=False)
        # Only the columns the checks read: a full read of an integration computes related
        # and chatter fields, which cost more than the rest of the intake.
        integration = (
            Integration.search_fetch(
                [("webhook_token", "=", token)], ["active", "state", "model_name"], limit=1
            )
            if token
            else None
        )
        if not (
            integration
            and integration.active
            and env["ihub.integration.type"]._model_flag(integration.model_name, "accepts_webhooks")
        ):
            previous = (
                Integration.search([("webhook_token_previous", "=", token)], limit=1)
                if token
                else None
            )
            raise _Refusal(
                404,
                "not_found",
                "Unknown webhook URL.",
                integration_id=previous.id if previous else None,
            )
        return integration

    def _read_body(self, env, integration_id):
        """The raw body, refused (413) before it is read when it is over the limit."""
        limit = int(
            env["ir.config_parameter"].get_param(MAX_BODY_PARAM) or webhooks.DEFAULT_MAX_BODY
        )
        httprequest = request.httprequest
        too_large = _Refusal(
            413,
            "payload_too_large",
            f"The body is larger than {limit} bytes.",
            integration_id=integration_id,
        )
        length = httprequest.content_length
        if length is not None and length > limit:
            raise too_large
        # Werkzeug stops reading a body without Content-Length (chunked) at max_content_length,
        # silently when it ends exactly there: one byte more tells a body over the limit.
        httprequest.max_content_length = limit + 1
        try:
            body = httprequest.get_data()
        except RequestEntityTooLarge:
            raise too_large from None
        if len(body) > limit:
            raise too_large
        return body

    def _check_rate(self, env, integration):
        """At most ``ihub.webhook_rate_limit_per_minute`` pushes a minute per token (0: no
        limit), paced in PostgreSQL so that all workers and servers share the count."""
        limit = int(env["ir.config_parameter"].get_param(RATE_PARAM, DEFAULT_RATE) or 0)
        if limit <= 0:
            return
        decision = env["ihub.rate"]._ihub_take("webhook", integration.id, limit, 60)
        if not decision.allowed:
            raise _Refusal(
                429,
                "rate_limited",
                "Too many requests for this webhook URL.",
                integration_id=integration.id,
                headers={"Retry-After": str(decision.retry_after)},
            )

    def _ensure_not_missed(self, env, integration_id, job_id):
        """The lane job found pending before the commit (queued by another transaction) may
        have been claimed meanwhile, and may have looked for events before this one was
        committed: then queue another. A job queued with the event is claimed after it."""
        _begin_read_committed(env.cr)
        env.cr.execute("SELECT state FROM ihub_job WHERE id = %s", [job_id])
        row = env.cr.fetchone()
        if not row or row[0] != "pending":
            env["ihub.job"]._ihub_ensure_lane_job(integration_id, "webhook")
            env.cr.commit()  # pylint: disable=invalid-commit

    def _count_in(self, env, integration_id, code):
        env["ihub.webhook.counter"]._ihub_count(env.cr, integration_id, code)

    def _count(self, registry, integration_id, code):
        try:
            with registry.cursor() as cr:
                api.Environment(cr, SUPERUSER_ID, {})["ihub.webhook.counter"]._ihub_count(
                    cr, integration_id, code
                )
        except Exception:
            _logger.warning("iHub could not count a webhook answer (%s)", code, exc_info=True)


def _is_test_cursor(cr):
    # Tests share one transaction: its isolation is theirs, and any of its cursors may be used.
    return cr.__class__.__name__ == "TestCursor"


def _unused(cr):
    """Whether ``cr`` has run no statement yet (a test's cursor always may be used)."""
    return _is_test_cursor(cr) or cr.connection.status == STATUS_READY


def _begin_read_committed(cr):
    # Each statement sees what other requests committed: the unique index's ON CONFLICT and
    # the lane job's look depend on it. Tests share one transaction and cannot change it.
    if not _is_test_cursor(cr):
        begin_read_committed(cr)


def _json(status, code, message, headers=None, status_text=None, **extra):
    if code:
        body = webhooks.error_body(code, message)
    else:
        body = json.dumps({"status": status_text, **extra})
    response_headers = [("Content-Type", "application/json")]
    response_headers += list((headers or {}).items())
    return request.make_response(body, headers=response_headers, status=status)
