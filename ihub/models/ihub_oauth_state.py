import hashlib
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.http import request

from odoo.addons.ihub.lib import oauth2

CALLBACK_PATH = "/ihub/oauth/callback"
# Long enough to log in at the provider, short enough that a leaked link is soon useless.
STATE_LIFETIME = timedelta(minutes=15)


def session_fingerprint(session):
    """A hash of the browser session's id: binds a state to it without storing the id."""
    return hashlib.sha256((session.sid or "").encode()).hexdigest()


class IHubOAuthState(models.Model):
    """A pending OAuth2 authorization: the ``state`` sent to the provider and what the
    callback needs (PKCE code verifier, redirect URI), bound to one user's browser session.

    Single use: the callback deletes it before anything else. Only iHub's own code (as
    superuser) reads or writes these records.
    """

    _name = "ihub.oauth.state"
    _description = "Pending OAuth2 Authorization"

    state = fields.Char(required=True, index=True)
    credential_id = fields.Many2one("ihub.credential", required=True, ondelete="cascade")
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    session_hash = fields.Char(required=True)
    code_verifier = fields.Char(required=True)
    redirect_uri = fields.Char(required=True)
    expires_at = fields.Datetime(required=True)

    _sql_constraints = [("state_unique", "UNIQUE(state)", "An OAuth2 state is used once.")]

    @api.model
    def _begin(self, credential):
        """Record a new authorization of ``credential``; return the provider's URL."""
        if request is None or not request.session.sid:
            raise oauth2.OAuth2Failure("Connect works from a browser session.")
        redirect_uri = request.httprequest.url_root.rstrip("/") + CALLBACK_PATH
        state = secrets.token_urlsafe(32)
        source = credential.sudo()
        url, verifier = oauth2.authorization_request(
            source.client_id, source.authorize_url, redirect_uri, source.scope, state
        )
        self.sudo()._gc_expired()
        self.sudo().create(
            {
                "state": state,
                "credential_id": credential.id,
                "user_id": self.env.uid,
                "session_hash": session_fingerprint(request.session),
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
                "expires_at": fields.Datetime.now() + STATE_LIFETIME,
            }
        )
        return url

    @api.model
    def _consume(self, state, session):
        """The pending authorization ``state`` names, deleted now; or (None, why not)."""
        pending = self.sudo().search([("state", "=", state or "")], limit=1) if state else None
        if not pending:
            return None, _(
                "This authorization is unknown or was already used. Press Connect again."
            )
        # Locked then deleted: a replay, even a concurrent one, finds nothing.
        self.env.cr.execute(
            "SELECT id FROM ihub_oauth_state WHERE id = %s FOR UPDATE NOWAIT", [pending.id]
        )
        values = {
            "credential": pending.credential_id,
            "user_id": pending.user_id.id,
            "session_hash": pending.session_hash,
            "code_verifier": pending.code_verifier,
            "redirect_uri": pending.redirect_uri,
            "expires_at": pending.expires_at,
        }
        pending.unlink()
        if values["user_id"] != self.env.uid or values["session_hash"] != session_fingerprint(
            session
        ):
            return None, _(
                "This authorization was started in another session. Press Connect again "
                "from this browser."
            )
        if values["expires_at"] < fields.Datetime.now():
            return None, _("This authorization has expired. Press Connect again.")
        return values, None

    @api.model
    def _gc_expired(self):
        self.search([("expires_at", "<", fields.Datetime.now())]).unlink()
