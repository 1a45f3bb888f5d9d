"""OAuth2 on ``ihub.credential``: Connect (authorization code with PKCE), Get Token (client
credentials), Disconnect, and access tokens renewed on a run's behalf."""

from datetime import timezone

from odoo import SUPERUSER_ID, _, api, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.ihub.lib import auth as ihub_auth
from odoo.addons.ihub.lib import oauth2
from odoo.addons.ihub.lib.exceptions import IHubPermanentError

from .ihub_credential import INTERNAL_WRITE


class IHubCredential(models.Model):
    _inherit = "ihub.credential"

    def _oauth2_requests_auth(self):
        expires_at = self.sudo().token_expires_at
        return ihub_auth.OAuth2TokenAuth(
            self._oauth2_renew,
            access_token=self._secret_value("access_token") or None,
            expires_at=expires_at.replace(tzinfo=timezone.utc).timestamp() if expires_at else None,
        )

    def _timeouts(self):
        return tuple(getattr(self._sub_class(), "http_timeouts", (5, 30)))

    def _oauth2_renew(self):
        """Get a new access token (refresh, or client credentials) and store it at once.

        The tokens are stored and committed through a cursor of their own, the credential row
        locked so that two workers do not spend the same refresh token: a run that fails
        afterwards is rolled back, the tokens it obtained are not. Returns (access token,
        expiry as epoch seconds or None).
        """
        self.ensure_one()
        self._check_secret_access()
        failure = None
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {INTERNAL_WRITE: True})
            # Bounded wait: if the caller's own transaction holds the row, waiting would never end.
            cr.execute("SET LOCAL lock_timeout = '10s'")
            cr.execute("SELECT id FROM ihub_credential WHERE id = %s FOR UPDATE", [self.id])
            credential = env["ihub.credential"].browse(self.id)
            try:
                if credential.grant_type == "client_credentials":
                    token = oauth2.client_credentials(
                        credential.token_url,
                        credential.client_id,
                        credential._secret_value("client_secret"),
                        credential.scope,
                        self._timeouts(),
                        allow_private=credential.integration_id.allow_private_network,
                    )
                else:
                    refresh_token = credential._secret_value("refresh_token")
                    if not refresh_token:
                        raise oauth2.ReconnectNeeded("no refresh token")
                    token = oauth2.refresh(
                        credential.token_url,
                        credential.client_id,
                        credential._secret_value("client_secret"),
                        refresh_token,
                        self._timeouts(),
                        allow_private=credential.integration_id.allow_private_network,
                    )
            except oauth2.ReconnectNeeded as error:
                credential._mark_reconnect(credential._redact(str(error)))
                failure = IHubPermanentError(
                    _(
                        "Credential '%(name)s' of '%(integration)s': reconnect needed, the "
                        "provider refused the refresh token (%(reason)s). Press Connect on "
                        "the credential.",
                        name=credential.name,
                        integration=credential.integration_id.name,
                        reason=credential._redact(str(error)),
                    )
                )
            except oauth2.OAuth2Failure as error:
                failure = UserError(
                    _(
                        "Credential '%(name)s' could not get a new access token: %(reason)s",
                        name=credential.name,
                        reason=credential._redact(str(error)),
                    )
                )
            else:
                values = oauth2.token_values(token)
                credential.write({**values, "needs_reconnect": False})
                expires = token.get("expires_at")
        if failure:
            raise failure
        self.invalidate_recordset()
        return values["access_token"], float(expires) if expires else None

    def _mark_reconnect(self, reason):
        self.needs_reconnect = True
        integration = self.integration_id
        if integration.user_id:
            summary = _("Reconnect credential '%(name)s'", name=self.name)
            note = _(
                "The provider refused the refresh token of credential '%(name)s' "
                "(%(reason)s). Open the integration and press Connect.",
                name=self.name,
                reason=reason,
            )
            integration._notify(
                lambda i: i.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=i.user_id.id,
                    summary=summary,
                    note=note,
                )
            )

    def _check_manager(self):
        if not (self.env.su or self.env.user.has_group("ihub.group_ihub_manager")):
            raise AccessError(_("Only iHub managers connect and disconnect credentials."))
        self.check_access("write")

    def action_oauth_connect(self):
        """Send the user to the provider's authorization page (authorization code + PKCE)."""
        self.ensure_one()
        self._check_manager()
        if self.kind != "oauth2" or self.grant_type != "authorization_code":
            raise UserError(_("Only OAuth2 credentials with the authorization code grant connect."))
        if not (self.client_id and self.authorize_url and self.token_url):
            raise UserError(
                _("Fill in the client id, the authorization URL and the token URL first.")
            )
        url = self.env["ihub.oauth.state"]._begin(self)
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def action_oauth_get_token(self):
        """Client credentials grant: get a token now (also shows that the client works)."""
        self.ensure_one()
        self._check_manager()
        if self.kind != "oauth2" or self.grant_type != "client_credentials":
            raise UserError(_("Get Token is for OAuth2 credentials with client credentials."))
        self._oauth2_renew()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("Credential '%(name)s' got an access token.", name=self.name),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_oauth_disconnect(self):
        """Undo the remote set-up (the sub-model's ``deactivate()``), then forget the tokens."""
        self._check_manager()
        for integration in self.integration_id:
            problem = integration._ihub_try_hook("deactivate")
            if problem:
                raise UserError(
                    _(
                        "Undoing the set-up of '%(name)s' at the other system failed, the "
                        "tokens are kept: %(problem)s",
                        name=integration.name,
                        problem=problem,
                    )
                )
        self.write(
            {
                "access_token": False,
                "refresh_token": False,
                "token_expires_at": False,
                "refresh_token_expires_at": False,
                "needs_reconnect": False,
            }
        )
        return True

    def _oauth2_store_code(self, code, verifier, redirect_uri):
        """Exchange an authorization code (the callback's) and store the tokens."""
        self.ensure_one()
        credential = self.sudo()
        token = oauth2.exchange_code(
            credential.token_url,
            credential.client_id,
            credential._secret_value("client_secret"),
            code,
            redirect_uri,
            verifier,
            self._timeouts(),
            allow_private=credential.integration_id.allow_private_network,
        )
        credential.with_context(**{INTERNAL_WRITE: True}).write(
            {**oauth2.token_values(token), "needs_reconnect": False}
        )
        credential._post_change(_("Credential '%(name)s' connected.", name=credential.name))
