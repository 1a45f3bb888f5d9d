"""The link to the other system, on ``ihub.integration``: credentials and lifecycle hooks.

Kept apart from ihub_integration.py (scheduling and runs) so that each file reads on its own.
"""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.ihub.lib import lifecycle
from odoo.addons.ihub.lib import progress as run_progress

from .ihub_credential import INTERNAL_WRITE, KINDS, check_export, encryption_keys

_logger = logging.getLogger(__name__)

# Context flag: delete (or stop) even when deactivate() fails; the failure is kept as an event.
FORCE_UNLINK = "ihub_force_unlink"
# Context flag: deactivate() was called for the integrations being deleted.
DEACTIVATED = "ihub_deactivated"


class IHubIntegration(models.Model):
    _inherit = "ihub.integration"

    credential_ids = fields.One2many("ihub.credential", "integration_id", string="Credentials")
    secrets_encrypted = fields.Boolean(compute="_compute_secrets_encrypted")

    def _compute_secrets_encrypted(self):
        self.secrets_encrypted = bool(encryption_keys())

    def export_data(self, fields_to_export):
        check_export(self.env, fields_to_export)
        return super().export_data(fields_to_export)

    # ---- Credentials

    def _sub_class(self):
        return self.env.registry[self.model_name] if self.model_name in self.env.registry else None

    def _required_credential_kinds(self):
        return tuple(getattr(self._sub_class(), "credential_kinds", ()) or ())

    def _ihub_ensure_credentials(self):
        """Create an empty credential for each kind the type needs and the integration lacks."""
        Credential = self.env["ihub.credential"].sudo().with_context(**{INTERNAL_WRITE: True})
        labels = dict(KINDS)
        for integration in self.sudo():
            sub_class = integration._sub_class()
            have = set(integration.with_context(active_test=False).credential_ids.mapped("kind"))
            for kind in integration._required_credential_kinds():
                if kind in have:
                    continue
                values = {"integration_id": integration.id, "kind": kind, "name": labels[kind]}
                if kind == "oauth2":
                    defaults = dict(getattr(sub_class, "oauth2", None) or {})
                    for key in ("authorize_url", "token_url", "scope", "grant_type"):
                        if defaults.get(key):
                            values[key] = defaults[key]
                Credential.create(values)

    def _ihub_credential(self, kind=None):
        """The active credential of ``kind`` (the first credential when None), maybe empty."""
        self.ensure_one()
        credentials = self.sudo().credential_ids
        if kind:
            credentials = credentials.filtered(lambda c: c.kind == kind)
        return credentials[:1].with_env(self.env)

    def _ihub_request_credential(self):
        """The credential ``ihub_http()`` sends: of the first kind the type needs that goes
        with requests (a signing secret does not), in ``self``'s environment; maybe empty."""
        self.ensure_one()
        for kind in self._required_credential_kinds():
            if kind != "hmac":
                return self._ihub_credential(kind)
        return self.env["ihub.credential"]

    def _ihub_check_credentials(self):
        """Refuse (UserError naming them) while a credential the type needs is not usable."""
        self._ihub_ensure_credentials()
        problems = []
        for integration in self:
            for kind in integration._required_credential_kinds():
                credential = integration._ihub_credential(kind).sudo()
                if not credential or credential.status in ("missing", "reconnect"):
                    label = credential.name or dict(KINDS)[kind]
                    why = _("reconnect needed") if credential.needs_reconnect else _("not set")
                    problems.append(
                        _(
                            "%(integration)s: %(credential)s (%(why)s)",
                            integration=integration.name,
                            credential=label,
                            why=why,
                        )
                    )
        if problems:
            raise UserError(
                _(
                    "Fill in the missing credentials first (an iHub manager can, on the "
                    "Credentials page):\n%(problems)s",
                    problems="\n".join(problems),
                )
            )

    def ihub_secret(self, kind=None, field="secret"):
        """The clear-text secret of this integration's credential, for code that needs it raw.

        ``kind``: the credential kind (``"api_key"``, ``"hmac"``, …; the first credential
        when None); ``field``: ``"secret"``, ``"client_secret"``, ``"access_token"``,
        ``"refresh_token"``, or ``"username"`` (the login of a ``basic`` credential, which goes
        with its secret). Returns False when it is not set. Allowed for iHub managers and,
        for anyone else, only inside a run of this integration (``run_from_to``) or a
        lifecycle hook iHub calls; else AccessError. Never read the ``secret`` fields
        directly: they are for managers only, and an integration's runs are not managers.
        Never write a secret into events, logs or error messages.
        """
        self.ensure_one()
        self.check_access("read")
        if not (
            self.env.su
            or self.env.user.has_group("ihub.group_ihub_manager")
            or run_progress.executing(self.id)
            or lifecycle.is_calling(self.id)
        ):
            raise AccessError(
                _(
                    "Secrets of '%(name)s' are only read inside its runs or by iHub managers.",
                    name=self.name,
                )
            )
        credential = self._ihub_credential(kind)
        if not credential:
            raise UserError(
                _("'%(name)s' has no %(kind)s credential.", name=self.name, kind=kind or "")
            )
        if field == "username":
            return credential.sudo().username or False
        return credential.sudo()._secret_value(field)

    # ---- Lifecycle hooks of the sub-record

    def _ihub_call_hook(self, method):
        """Call ``method`` (activate, deactivate, test_connection) of each sub-record."""
        result = None
        for integration in self:
            sub = integration.sub_id
            if not sub:
                continue
            with lifecycle.calling(integration.id, method):
                result = getattr(sub, method)()
        return result

    def _ihub_try_hook(self, method):
        """Call the hook; return None, or the reason it failed (readable, secrets redacted)."""
        try:
            with self.env.cr.savepoint():
                self._ihub_call_hook(method)
        except Exception as error:  # noqa: BLE001 - the author's code may raise anything
            reason = self._ihub_redact(str(error) or type(error).__name__)
            if not isinstance(error, UserError | AccessError):
                # No traceback: its frames and message could hold a secret.
                _logger.info(
                    "iHub: %s of integration %s failed: %s: %s",
                    method,
                    self.ids,
                    type(error).__name__,
                    reason,
                )
            return reason
        return None

    def _ihub_redact(self, text):
        return self.sudo().credential_ids._redact(text)

    def action_test_connection(self):
        """Managers check the link: the sub-model's ``test_connection()``; show the outcome."""
        self.ensure_one()
        if not (self.env.su or self.env.user.has_group("ihub.group_ihub_manager")):
            raise AccessError(_("Only iHub managers test connections."))
        problem = self._ihub_try_hook("test_connection")
        if problem:
            raise UserError(
                _(
                    "Connection test of '%(name)s' failed: %(problem)s",
                    name=self.name,
                    problem=problem,
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("Connection test of '%(name)s' succeeded.", name=self.name),
            },
        }

    def action_start(self):
        starting = self._with_descendants().filtered(
            lambda i: (i.is_job or i.accepts_webhooks) and i.state in ("draft", "stopped")
        )
        starting._ihub_check_credentials()
        result = super().action_start()
        for integration in starting.filtered(lambda i: i.state == "active"):
            problem = integration._ihub_try_hook("activate")
            if problem:
                raise UserError(
                    _(
                        "'%(name)s' could not be activated: %(problem)s",
                        name=integration.name,
                        problem=problem,
                    )
                )
        return result

    def action_stop(self):
        active = self._with_descendants().filtered(lambda i: i.state == "active")
        active._ihub_deactivate()
        return super().action_stop()

    def _ihub_deactivate(self):
        """Call ``deactivate()``; a failure stops everything unless FORCE_UNLINK is set."""
        for integration in self:
            problem = integration._ihub_try_hook("deactivate")
            if not problem:
                continue
            if self.env.context.get(FORCE_UNLINK):
                # Not attached to the integration, which is about to go (its events with it).
                self.env["ihub.integration"].sudo().ihub_warning(
                    _(
                        "'%(name)s' was deleted although undoing its set-up at the other "
                        "system failed: %(problem)s",
                        name=integration.name,
                        problem=problem,
                    ),
                    integration=False,
                )
                continue
            raise UserError(
                _(
                    "Undoing the set-up of '%(name)s' at the other system failed: %(problem)s\n"
                    "Fix the cause, or use Actions > Delete Anyway to delete it all the same.",
                    name=integration.name,
                    problem=problem,
                )
            )

    def unlink(self):
        if not self.env.context.get(DEACTIVATED):
            # Undo what was set up remotely while the credentials still exist.
            self._ihub_deactivate()
        return super(IHubIntegration, self.with_context(**{DEACTIVATED: True})).unlink()

    def action_force_unlink(self):
        """Delete even when ``deactivate()`` fails (the failure is kept as an event)."""
        self.check_access("unlink")
        return self.with_context(**{FORCE_UNLINK: True}).unlink()

    @api.model_create_multi
    def create(self, vals_list):
        integrations = super().create(vals_list)
        integrations._ihub_ensure_credentials()
        return integrations
