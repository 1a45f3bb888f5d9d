"""A small client of Odoo's external JSON-RPC API (``/jsonrpc``), over an iHub session.

The other Odoo authenticates each call with a login and an API key (created by its user under
Preferences → Account Security → New API Key), which Odoo accepts in place of the password.
"""

import itertools

from odoo.addons.ihub.lib.exceptions import IHubError, IHubPermanentError

# Odoo answers these when the login or the key is wrong or lacks rights: a retry cannot help.
PERMANENT_ERRORS = ("AccessDenied", "AccessError", "odoo.exceptions.AccessDenied")


class OdooRPC:
    """Calls models of another Odoo database as one of its users."""

    def __init__(self, session, database, login, api_key):
        self.session, self.database, self.login, self.api_key = session, database, login, api_key
        self._ids = itertools.count(1)
        self._uid = None

    def call(self, service, method, *args):
        answer = self.session.post_json(
            "/jsonrpc",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": service, "method": method, "args": list(args)},
                "id": next(self._ids),
            },
        )
        if not isinstance(answer, dict):
            raise IHubError(f"The other Odoo answered {service}.{method} with no JSON-RPC object")
        error = answer.get("error")
        if error:
            data = error.get("data") or {}
            message = data.get("message") or error.get("message") or "unknown error"
            name = data.get("name") or ""
            error_class = IHubPermanentError if name.endswith(PERMANENT_ERRORS) else IHubError
            raise error_class(f"The other Odoo refused {service}.{method}: {message}")
        return answer.get("result")

    @property
    def uid(self):
        if self._uid is None:
            uid = self.call("common", "authenticate", self.database, self.login, self.api_key, {})
            if not uid:
                raise IHubPermanentError(
                    f"The other Odoo refused the login '{self.login}' on database "
                    f"'{self.database}': check the login and the API key."
                )
            self._uid = uid
        return self._uid

    def execute(self, model, method, *args, **kwargs):
        return self.call(
            "object", "execute_kw", self.database, self.uid, self.api_key, model, method,
            list(args), kwargs,
        )  # fmt: skip
