import logging

from markupsafe import Markup, escape

from odoo import _, http
from odoo.http import request

from odoo.addons.ihub.lib import oauth2

_logger = logging.getLogger(__name__)


class IHubOAuthController(http.Controller):
    @http.route("/ihub/oauth/callback", type="http", auth="user", methods=["GET"])
    def oauth_callback(self, state=None, code=None, error=None, error_description=None, **_kw):
        """Where the provider sends the user back: check the state, exchange the code.

        Whatever goes wrong, the user gets a page saying what, and nothing is stored; the
        state is used up either way (it is deleted before anything else is checked).
        """
        pending, problem = request.env["ihub.oauth.state"]._consume(state, request.session)
        if problem:
            return self._page(_("Connection refused"), problem, status=400)
        credential = pending["credential"].sudo()
        back = f"/odoo/ihub/{credential.integration_id.id}"
        if error:
            reason = f"{error}: {error_description}" if error_description else error
            return self._page(
                _("The provider refused the connection"),
                _(
                    "Credential '%(name)s' was not connected: %(reason)s",
                    name=credential.name,
                    reason=credential._redact(reason),
                ),
                back=back,
                status=400,
            )
        try:
            with request.env.cr.savepoint():
                credential._oauth2_store_code(
                    code, pending["code_verifier"], pending["redirect_uri"]
                )
        except oauth2.OAuth2Failure as failure:
            return self._page(
                _("The connection failed"),
                _(
                    "Credential '%(name)s' was not connected: %(reason)s",
                    name=credential.name,
                    reason=credential._redact(str(failure)),
                ),
                back=back,
                status=400,
            )
        integration = credential.integration_id
        if integration.state == "active":
            problem = integration.with_user(request.env.user)._ihub_try_hook("activate")
            if problem:
                return self._page(
                    _("Connected, but not activated"),
                    _(
                        "Credential '%(name)s' is connected, but activating '%(integration)s' "
                        "failed: %(reason)s",
                        name=credential.name,
                        integration=integration.name,
                        reason=problem,
                    ),
                    back=back,
                    status=200,
                )
        return request.redirect(back, code=303, local=True)

    def _page(self, title, message, back=None, status=400):
        link = (
            Markup('<p><a href="%s">%s</a></p>') % (back, _("Back to the integration"))
            if back
            else Markup("")
        )
        body = Markup(
            "<!DOCTYPE html><html><head><meta charset='utf-8'/><title>%s</title></head>"
            "<body style='font-family: sans-serif; margin: 3em;'><h1>%s</h1>"
            "<p class='o_ihub_oauth_message'>%s</p>%s</body></html>"
        ) % (title, title, escape(message), link)
        return request.make_response(
            str(body), headers=[("Content-Type", "text/html; charset=utf-8")], status=status
        )
