import functools
import logging
from datetime import timedelta

from requests.auth import HTTPBasicAuth

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, config, format_date

from odoo.addons.ihub.lib import auth as ihub_auth
from odoo.addons.ihub.lib import lifecycle, secrets
from odoo.addons.ihub.lib import progress as run_progress
from odoo.addons.ihub.lib.exceptions import IHubPermanentError

_logger = logging.getLogger(__name__)

KINDS = [
    ("basic", "Username and Password"),
    ("api_key", "API Key"),
    ("bearer", "Bearer Token"),
    ("oauth2", "OAuth2"),
    ("hmac", "Signing Secret"),
]
KIND_HELP = {
    "basic": "The user name and password of an account on the other system.",
    "api_key": "The key the other system issued for this integration.",
    "bearer": "A static token, sent as 'Authorization: Bearer <token>'.",
    "oauth2": "An OAuth2 client registered at the other system: enter its client id and "
    "secret, then press Connect (or Get Token for the client credentials grant).",
    "hmac": "The secret shared with the other system to sign and check messages.",
}
# The user-facing secret fields and the columns holding them (ciphertext when a key is set).
SECRET_FIELDS = {
    "secret": "secret_store",
    "client_secret": "client_secret_store",
    "access_token": "access_token_store",
    "refresh_token": "refresh_token_store",
}
# Writes made on a run's behalf (refreshed tokens): not a change a person made.
INTERNAL_WRITE = "ihub_credential_internal"


@functools.lru_cache(maxsize=8)
def _keys_for(value):
    return secrets.parse_keys(value)


def encryption_keys():
    """The server's ``MultiFernet`` (``ihub_encryption_key``), or None when no key is set."""
    return _keys_for(config.get("ihub_encryption_key") or "")


def _secret_field(inverse, **kwargs):
    """A secret, encrypted in ``secret_store`` (see ``_compute_secrets``): read and written by
    iHub managers only, never copied nor exported."""
    return fields.Char(
        compute="_compute_secrets",
        inverse=inverse,
        groups="ihub.group_ihub_manager",
        copy=False,
        exportable=False,
        **kwargs,
    )


def check_export(env, paths):
    """Refuse an export of any secret (also through a relation, e.g. credential_ids/secret)."""
    for path in paths:
        if any(part in SECRET_FIELDS or part.endswith("_store") for part in path.split("/")):
            raise AccessError(env._("Secrets are never exported."))


class IHubCredential(models.Model):
    """A credential an integration uses to authenticate to the other system.

    Secrets (``secret``, ``client_secret``, ``access_token``, ``refresh_token``) are readable
    and writable by iHub managers only, encrypted at rest when the server sets
    ``ihub_encryption_key``. Code that needs a raw secret on a run's behalf uses
    ``integration.ihub_secret()``, never the fields.
    """

    _name = "ihub.credential"
    _description = "Integration Credential"
    _order = "integration_id, sequence, id"

    integration_id = fields.Many2one(
        "ihub.integration",
        string="Integration",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="integration_id.company_id", store=True, index=True)
    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    kind = fields.Selection(KINDS, required=True, default="api_key")
    help_text = fields.Char(compute="_compute_help_text", string="How It Is Used")
    username = fields.Char(help="For a user name and password: the user name.")
    secret = _secret_field("_inverse_secret", help="The password, key, token or signing secret.")
    expires_on = fields.Date(
        help="When the key or token expires, if it does: the responsible user is warned ahead."
    )

    # ---- OAuth2
    grant_type = fields.Selection(
        [
            ("authorization_code", "Authorization Code (with PKCE)"),
            ("client_credentials", "Client Credentials"),
        ],
        default="authorization_code",
        help="Authorization Code: a person connects once with Connect. Client Credentials: "
        "the integration gets its tokens by itself with the client id and secret.",
    )
    client_id = fields.Char()
    client_secret = _secret_field("_inverse_client_secret")
    authorize_url = fields.Char(string="Authorization URL")
    token_url = fields.Char(string="Token URL")
    scope = fields.Char(help="Space-separated scopes to ask for.")
    access_token = _secret_field("_inverse_access_token")
    refresh_token = _secret_field("_inverse_refresh_token")
    token_expires_at = fields.Datetime(string="Access Token Expires", copy=False, readonly=True)
    refresh_token_expires_at = fields.Datetime(
        string="Refresh Token Expires", copy=False, readonly=True
    )
    needs_reconnect = fields.Boolean(
        copy=False,
        readonly=True,
        help="The provider refused the refresh token: press Connect again.",
    )
    expiry_warned_on = fields.Date(
        copy=False,
        readonly=True,
        help="The expiry date the responsible user was last warned about.",
    )

    # ---- Storage: ciphertext (or clear text while no key is set). Only this model's code
    # uses them; settings administrators, who can read the database anyway, may see them.
    secret_store = fields.Char(
        copy=False, exportable=False, prefetch=False, groups="base.group_system"
    )
    client_secret_store = fields.Char(
        copy=False, exportable=False, prefetch=False, groups="base.group_system"
    )
    access_token_store = fields.Char(
        copy=False, exportable=False, prefetch=False, groups="base.group_system"
    )
    refresh_token_store = fields.Char(
        copy=False, exportable=False, prefetch=False, groups="base.group_system"
    )

    # ---- What every iHub user may know about a credential: whether it is usable.
    is_set = fields.Boolean(compute="_compute_status", string="Set", compute_sudo=True)
    status = fields.Selection(
        [
            ("missing", "Missing"),
            ("set", "Set"),
            ("expired", "Expired"),
            ("reconnect", "Reconnect Needed"),
        ],
        compute="_compute_status",
        compute_sudo=True,
    )
    encrypted = fields.Boolean(compute="_compute_encrypted", string="Encrypted at Rest")

    # ---- Computes

    @api.depends("kind", "integration_id.model_name")
    def _compute_help_text(self):
        for credential in self:
            text = KIND_HELP.get(credential.kind, "")
            if credential.kind == "api_key":
                sub_class = credential._sub_class()
                header = getattr(sub_class, "api_key_header", None)
                param = getattr(sub_class, "api_key_param", None)
                if header:
                    text += " " + _("Sent in the header %(header)s.", header=header)
                elif param:
                    text += " " + _("Sent as query parameter %(param)s.", param=param)
            credential.help_text = text

    @api.depends(*SECRET_FIELDS.values())
    @api.depends_context("uid")
    def _compute_secrets(self):
        # The fields' groups keep them out of read/export for others; this keeps them empty
        # on any other path (a related field, an export through the integration, …).
        allowed = self.env.su or self.env.user.has_group("ihub.group_ihub_manager")
        keys = encryption_keys() if allowed else None
        for credential in self:
            stored = credential.sudo()
            for name, store in SECRET_FIELDS.items():
                credential[name] = allowed and secrets.decrypt(stored[store], keys) or False

    def _inverse(self, name):
        keys = encryption_keys()
        for credential in self:
            credential.sudo()[SECRET_FIELDS[name]] = (
                secrets.encrypt(credential[name], keys) or False
            )

    def _inverse_secret(self):
        self._inverse("secret")

    def _inverse_client_secret(self):
        self._inverse("client_secret")

    def _inverse_access_token(self):
        self._inverse("access_token")

    def _inverse_refresh_token(self):
        self._inverse("refresh_token")

    @api.depends(
        "kind",
        "username",
        "secret_store",
        "client_id",
        "client_secret_store",
        "token_url",
        "authorize_url",
        "grant_type",
        "access_token_store",
        "refresh_token_store",
        "needs_reconnect",
        "expires_on",
        "refresh_token_expires_at",
    )
    def _compute_status(self):
        today = fields.Date.context_today(self)
        now = fields.Datetime.now()
        for credential in self:
            credential.is_set = credential._is_complete()
            if credential.needs_reconnect:
                credential.status = "reconnect"
            elif not credential.is_set:
                credential.status = "missing"
            elif (credential.expires_on and credential.expires_on < today) or (
                credential.refresh_token_expires_at and credential.refresh_token_expires_at < now
            ):
                credential.status = "expired"
            else:
                credential.status = "set"

    def _compute_encrypted(self):
        self.encrypted = bool(encryption_keys())

    def _is_complete(self):
        """Whether everything this kind needs is filled in (read as superuser by callers)."""
        self.ensure_one()
        if self.kind == "basic":
            return bool(self.username and self.secret_store)
        if self.kind == "oauth2":
            if not (self.client_id and self.token_url):
                return False
            if self.grant_type == "client_credentials":
                return bool(self.client_secret_store)
            return bool(
                self.authorize_url and (self.refresh_token_store or self.access_token_store)
            )
        return bool(self.secret_store)

    def _sub_class(self):
        model_name = self.integration_id.sudo().model_name
        return self.env.registry[model_name] if model_name in self.env.registry else None

    # ---- CRUD: changes are told in the integration's chatter, by field name only.

    @api.model_create_multi
    def create(self, vals_list):
        credentials = super().create(vals_list)
        for credential in credentials:
            credential._post_change(_("Credential '%(name)s' added.", name=credential.name))
        return credentials

    def write(self, vals):
        result = super().write(vals)
        if not self.env.context.get(INTERNAL_WRITE):
            names = sorted(
                self._fields[name].string
                for name in vals
                if name in self._fields and not name.endswith("_store")
            )
            # The inverse of a secret writes its *_store column again: nothing to tell.
            for credential in self if names else ():
                credential._post_change(
                    _(
                        "Credential '%(name)s' changed: %(fields)s.",
                        name=credential.name,
                        fields=", ".join(names),
                    )
                )
        return result

    def unlink(self):
        for credential in self:
            credential._post_change(_("Credential '%(name)s' removed.", name=credential.name))
        return super().unlink()

    def export_data(self, fields_to_export):
        check_export(self.env, fields_to_export)
        return super().export_data(fields_to_export)

    def _post_change(self, body):
        if self.env.context.get(INTERNAL_WRITE):
            return
        # Posted as the person who changed it, on the integration they may edit.
        self.integration_id.sudo().message_post(
            body=body,
            author_id=self.env.user.partner_id.id,
            message_type="notification",
            subtype_xmlid="mail.mt_note",
        )

    # ---- Secrets on a run's behalf

    def _check_secret_access(self):
        """iHub managers, and a run of the credential's integration, may use its secrets."""
        if self.env.su or self.env.user.has_group("ihub.group_ihub_manager"):
            return
        for credential in self:
            integration_id = credential.integration_id.id
            if not (run_progress.executing(integration_id) or lifecycle.is_calling(integration_id)):
                raise AccessError(
                    _(
                        "Only iHub managers, and the runs of integration '%(name)s', may use "
                        "its secrets.",
                        name=credential.integration_id.name,
                    )
                )

    def _secret_value(self, field="secret"):
        """The clear text of secret ``field`` (after ``_check_secret_access``)."""
        self.ensure_one()
        if field not in SECRET_FIELDS:
            raise ValueError(f"{field!r} is not a secret field of ihub.credential")
        self._check_secret_access()
        return secrets.decrypt(self.sudo()[SECRET_FIELDS[field]], encryption_keys()) or False

    def _ihub_secret_values(self):
        """The clear values of these credentials' secrets, for masking (call it as sudo)."""
        values = []
        keys = encryption_keys()
        for credential in self:
            for store in SECRET_FIELDS.values():
                try:
                    value = secrets.decrypt(credential[store], keys)
                except secrets.SecretKeyError:
                    continue
                if value:
                    values.append(value)
        return values

    def _redact(self, text):
        """``text`` with this credential's secrets replaced by ``***``."""
        return secrets.redact(text, self.sudo()._ihub_secret_values())

    def _requests_auth(self):
        """A ``requests.auth.AuthBase`` that authenticates requests with this credential.

        For ``basic``, ``bearer``, ``api_key`` (header or query parameter named by the
        sub-model's ``api_key_header`` / ``api_key_param``) and ``oauth2`` (access token
        renewed before expiry and once on a 401). Refused like ``ihub_secret`` outside a run
        for non-managers.
        """
        self.ensure_one()
        self._check_secret_access()
        if not self.sudo()._is_complete():
            raise IHubPermanentError(
                _(
                    "Credential '%(name)s' of '%(integration)s' is not filled in.",
                    name=self.name,
                    integration=self.integration_id.name,
                )
            )
        if self.kind == "basic":
            return HTTPBasicAuth(self.sudo().username, self._secret_value())
        if self.kind == "bearer":
            return ihub_auth.BearerAuth(self._secret_value())
        if self.kind == "api_key":
            sub_class = self._sub_class()
            header = getattr(sub_class, "api_key_header", None)
            param = getattr(sub_class, "api_key_param", None)
            if header:
                return ihub_auth.HeaderAuth(header, self._secret_value())
            if param:
                return ihub_auth.QueryParamAuth(param, self._secret_value())
            raise UserError(
                _(
                    "The type of '%(integration)s' sets neither api_key_header nor "
                    "api_key_param: iHub does not know how to send its API key.",
                    integration=self.integration_id.name,
                )
            )
        if self.kind == "oauth2":
            return self._oauth2_requests_auth()
        raise UserError(
            _(
                "A %(kind)s credential is not sent with requests: read it with "
                "integration.ihub_secret() and sign the messages in the integration's code.",
                kind=dict(KINDS)[self.kind],
            )
        )

    # ---- Key rotation

    @api.model
    def _ihub_reencrypt_all(self):
        """Rewrite every stored secret with the first configured key; return how many.

        Clear text stored before a key was set is encrypted too. Backs the
        ``odoo-bin ihub_reencrypt`` command; superuser only.
        """
        if not self.env.su:
            raise AccessError(_("Only the superuser re-encrypts secrets."))
        keys = encryption_keys()
        if keys is None:
            raise UserError(_("Set ihub_encryption_key in the server configuration first."))
        self.flush_model()
        columns = list(SECRET_FIELDS.values())
        self.env.cr.execute(
            SQL(
                "SELECT id, %s FROM ihub_credential FOR UPDATE",
                SQL(", ").join(SQL.identifier(column) for column in columns),
            )
        )
        count = 0
        for row in self.env.cr.fetchall():
            changed = {}
            for column, value in zip(columns, row[1:], strict=True):
                new = secrets.reencrypt(value, keys)
                if new:
                    changed[column] = new
            for column, new in changed.items():
                self.env.cr.execute(
                    SQL(
                        "UPDATE ihub_credential SET %s = %s WHERE id = %s",
                        SQL.identifier(column),
                        new,
                        row[0],
                    )
                )
            count += len(changed)
        self.invalidate_model()
        return count

    # ---- Expiry warnings

    @api.model
    def _cron_warn_expiring(self):
        """Give the responsible user of each integration a to-do before a credential expires.

        Once per credential and expiry date, ``ihub.credential_expiry_warning_days`` ahead.
        """
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("ihub.credential_expiry_warning_days", 14)
        )
        today = fields.Date.context_today(self)
        horizon = today + timedelta(days=days)
        credentials = self.sudo().search(
            [
                "|",
                ("expires_on", "<=", horizon),
                ("refresh_token_expires_at", "<=", fields.Datetime.to_datetime(horizon)),
            ]
        )
        for credential in credentials:
            # The day it expires for the responsible, who reads the to-do.
            expiry = credential._expiry_date(credential.integration_id.user_id)
            if not expiry or expiry > horizon or credential.expiry_warned_on == expiry:
                continue
            integration = credential.integration_id
            if integration.user_id:
                summary = _("Credential '%(name)s' expires", name=credential.name)
                note = _(
                    "Credential '%(name)s' of integration '%(integration)s' expires on "
                    "%(date)s: renew it before then.",
                    name=credential.name,
                    integration=integration.name,
                    # Written for the responsible: in their language's date format.
                    date=format_date(self.env, expiry, lang_code=integration.user_id.lang),
                )
                integration._notify(
                    lambda i, s=summary, n=note, e=expiry: i.activity_schedule(
                        "mail.mail_activity_data_todo",
                        date_deadline=max(e, today),
                        user_id=i.user_id.id,
                        summary=s,
                        note=n,
                    )
                )
            credential.with_context(**{INTERNAL_WRITE: True}).expiry_warned_on = expiry

    def _expiry_date(self, user):
        """The first day this credential is expired, on ``user``'s calendar."""
        dates = [self.expires_on] if self.expires_on else []
        if self.refresh_token_expires_at:
            tz, _own = self._ihub_reader_tz(user)
            local = fields.Datetime.context_timestamp(
                self.with_context(tz=tz), self.refresh_token_expires_at
            )
            dates.append(local.date())
        return min(dates) if dates else None
