"""iHub's REST API v1 over HTTP: API keys, rate limit, dispatch, audit (see ``api_routes.py``).

One Odoo route takes every path under ``/ihub/api/v1`` so that each answer, a refusal included,
is iHub's JSON envelope (``lib/api.py``): Odoo's own 404, 405 and error pages are HTML. Routes
are ``auth="none"`` and check the ``Authorization: Bearer <key>`` header themselves against
Odoo's API keys; a browser session is never used. The work then runs as the key's user.
"""

import json
import logging
import time

import psycopg2
from markupsafe import Markup, escape
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import SUPERUSER_ID, http
from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.base.models.res_users import INDEX_SIZE, KEY_CRYPT_CONTEXT
from odoo.addons.ihub.lib import api, api_spec

from .api_routes import SCHEMAS, route_table

_logger = logging.getLogger(__name__)

PREFIX = "/ihub/api/v1"
# System parameter: the largest request body accepted, in bytes.
MAX_BODY_PARAM = "ihub.api_max_body_bytes"
# System parameters: requests allowed per API key per period (seconds).
RATE_LIMIT_PARAM = "ihub.api_rate_limit"
RATE_PERIOD_PARAM = "ihub.api_rate_period"
RATE_LIMIT = 120
RATE_PERIOD = 60
MAX_BODY_BYTES = 1024 * 1024
# API keys of scope "ihub" (or without scope) open the API.
KEY_SCOPE = "ihub"
VERSION = "1.0.0"


class IHubApiController(http.Controller):
    @http.route(
        [PREFIX, f"{PREFIX}/<path:subpath>"],
        type="http",
        auth="none",
        csrf=False,
        save_session=False,
        # Every call writes: its quota and its audit row.
        readonly=False,
    )
    def ihub_api(self, subpath="", **_kw):
        started = time.monotonic()
        call = {"method": request.httprequest.method, "path": f"{PREFIX}/{subpath}".rstrip("/")}
        if call["method"] == "GET" and subpath in ("openapi.json", "docs"):
            # The document is public (other systems read it before they have a key); its
            # reads are audited like the rest.
            call.update(status=200, remote_addr=request.httprequest.remote_addr)
            _system_env()["ihub.api.call"]._ihub_record(call)
            return self._public(subpath)
        headers = {}
        try:
            user_id, key = self._authenticate()
            call.update(user_id=user_id, key_name=key["name"])
            decision = self._take_quota(key["id"])
            headers.update(decision.headers())
            if not decision.allowed:
                raise api.ApiError(
                    429, "rate_limited", "Too many requests with this API key: slow down."
                )
            status, body, extra = self._dispatch(user_id, subpath)
            headers.update(extra)
        except api.ApiError as error:
            status, body = error.status, error.body()
            headers.update(error.headers)
        call.update(
            status=status,
            error_code=(body or {}).get("error", {}).get("code"),
            query=request.httprequest.query_string.decode("utf-8", "replace"),
            remote_addr=request.httprequest.remote_addr,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        _system_env()["ihub.api.call"]._ihub_record(call)
        if status == 204:
            return request.make_response(b"", headers=list(headers.items()), status=204)
        return request.make_json_response(body, headers=list(headers.items()), status=status)

    # ---- Steps

    def _take_quota(self, key_id):
        env = _system_env()
        params = env["ir.config_parameter"]
        limit = int(params.get_param(RATE_LIMIT_PARAM, RATE_LIMIT))
        period = int(params.get_param(RATE_PERIOD_PARAM, RATE_PERIOD))
        return env["ihub.rate"]._ihub_take("api", key_id, limit, period)

    def _authenticate(self):
        """The (user id, key row) of the request's bearer key, or a 401."""
        header = request.httprequest.headers.get("Authorization", "")
        scheme, _sep, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise self._unauthorized("Send an API key: 'Authorization: Bearer <key>'.")
        Keys = request.env["res.users.apikeys"]
        try:
            user_id = Keys._check_credentials(scope=KEY_SCOPE, key=key)
        except AccessDenied:
            user_id = None
        if not user_id:
            raise self._unauthorized("This API key is unknown, expired or revoked.")
        # Which of the user's keys it is: its quota and the audit name it. The key was just
        # verified: hashing it again is only needed to tell apart keys sharing its index.
        request.env.cr.execute(
            "SELECT id, name, key FROM res_users_apikeys WHERE user_id = %s AND index = %s",
            (user_id, key[:INDEX_SIZE]),
        )
        rows = request.env.cr.fetchall()
        for key_id, name, hashed in rows:
            if len(rows) == 1 or KEY_CRYPT_CONTEXT.verify(key, hashed):
                return user_id, {"id": key_id, "name": name}
        raise self._unauthorized("This API key is unknown, expired or revoked.")

    @staticmethod
    def _unauthorized(message):
        return api.ApiError(
            401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="ihub"'}
        )

    def _dispatch(self, user_id, subpath):
        """Run the operation as the key's user: (status, body, headers)."""
        request.update_env(user=user_id)
        user = request.env.user
        request.update_context(lang=user.lang or "en_US", tz=user.tz or "UTC")
        env = request.env
        if not user.has_group("ihub.group_ihub_user"):
            raise api.ApiError(403, "forbidden", "This API key's user is not an iHub user.")
        route, args = route_table(env).match(request.httprequest.method, subpath)
        query = list(request.httprequest.args.items(multi=True))
        values = api.parse_query(route.all_params, query)
        if route.body or request.httprequest.method in ("POST", "PUT", "PATCH"):
            values.update(api.parse_body(route.body, self._json_body()))
        try:
            with env.cr.savepoint():
                data, meta = route.handler(env, args, values)
        except api.ApiError:
            raise
        except (AccessError, AccessDenied) as error:
            raise api.ApiError(403, "forbidden", self._message(error)) from None
        except MissingError as error:
            raise api.ApiError(404, "not_found", self._message(error)) from None
        except ValidationError as error:
            raise api.ApiError(422, "invalid", self._message(error)) from None
        except UserError as error:
            raise api.ApiError(409, "refused", self._message(error)) from None
        except psycopg2.OperationalError:
            raise  # a concurrency error: Odoo retries the whole request
        except Exception:
            _logger.exception("iHub API: %s %s failed", route.method, route.path)
            raise api.ApiError(500, "internal_error", "The server failed; see its log.") from None
        headers = {}
        if route.location:
            headers["Location"] = PREFIX + route.location.format(**data)
        return route.status, api.data_body(data, meta), headers

    def _json_body(self):
        """The request's JSON body (None when empty), read only if it fits the limit."""
        httprequest = request.httprequest
        limit = int(_system_env()["ir.config_parameter"].get_param(MAX_BODY_PARAM, MAX_BODY_BYTES))
        if (httprequest.content_length or 0) > limit:
            raise api.ApiError(413, "too_large", f"The body is larger than {limit} bytes.")
        # Werkzeug then stops reading a body without Content-Length (chunked) at the limit.
        httprequest.max_content_length = limit
        try:
            raw = httprequest.get_data(cache=False)
        except RequestEntityTooLarge:
            raise api.ApiError(
                413, "too_large", f"The body is larger than {limit} bytes."
            ) from None
        if not raw.strip():
            return None
        if httprequest.mimetype != "application/json":
            raise api.ApiError(415, "unsupported_media_type", "Send the body as application/json.")
        try:
            return json.loads(raw)
        except ValueError as error:
            raise api.ApiError(400, "malformed_json", f"The body is not JSON: {error}") from None

    @staticmethod
    def _message(error):
        return error.args[0] if error.args else str(error)

    # ---- The document and its page

    def _public(self, subpath):
        document = openapi_document(request.env)
        if subpath == "openapi.json":
            return request.make_json_response(document)
        return request.make_response(
            docs_page(document), headers=[("Content-Type", "text/html; charset=utf-8")]
        )


def _system_env():
    """iHub's own bookkeeping (quota, audit), whoever calls; never the operation itself."""
    return request.env(user=SUPERUSER_ID, su=True)


def openapi_document(env):
    """The OpenAPI 3.1 document of the API as this database serves it."""
    table = route_table(env)
    table.add(
        api.Route(
            "GET",
            "/openapi.json",
            None,
            "This OpenAPI document",
            "getOpenApi",
            tag="documentation",
            public=True,
        )  # fmt: skip
    )
    return api_spec.build(
        table,
        SCHEMAS,
        title="iHub API",
        version=VERSION,
        description="Drive iHub's integrations from other systems. Every answer is "
        '{"data", "meta"} or {"error": {"code", "message", "details"}}.',
        server_url=PREFIX,
    )


def docs_page(document):
    """A self-contained page listing the operations (no scripts, nothing from the internet)."""
    rows = Markup("").join(
        Markup("<tr><td><code>%s</code></td><td><code>%s</code></td><td>%s</td></tr>")
        % (method.upper(), f"{PREFIX}{path}", operation["summary"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    )
    page = Markup(
        "<!DOCTYPE html><html><head><meta charset='utf-8'/><title>%s</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'/>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "td{padding:.3em .8em;border-bottom:1px solid #ddd;vertical-align:top}"
        "code{white-space:nowrap}</style></head><body><h1>%s</h1><p>%s</p>"
        "<p>Authenticate with an Odoo API key: <code>Authorization: Bearer &lt;key&gt;</code>. "
        "The machine-readable document: <a href='%s/openapi.json'>openapi.json</a>.</p>"
        "<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th></tr></thead>"
        "<tbody>%s</tbody></table></body></html>"
    ) % (
        document["info"]["title"],
        document["info"]["title"],
        escape(document["info"]["description"]),
        PREFIX,
        rows,
    )
    return str(page)
