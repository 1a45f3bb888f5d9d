from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.models import MAGIC_COLUMNS

from odoo.addons.ihub.lib import contract, lifecycle, webhook_signature
from odoo.addons.ihub.lib import progress as run_progress

from .ihub_integration import CREATING_FROM_SUB
from .ihub_integration_type import FLAGS

# Contract methods and the guard that runs before each (see lib/contract.py). Methods a sub-model
# does not define are skipped; the next ones are listed so that they are guarded once they land.
CONTRACT_GUARDS = {
    "run_from_to": "_ihub_guard_run",
    "hook": "_ihub_guard_run",
    "activate": "_ihub_guard_manage",
    "deactivate": "_ihub_guard_manage",
    "test_connection": "_ihub_guard_manage",
}

# Context key of the settings form opened by open_settings (its breadcrumb says "Settings").
SETTINGS_CONTEXT = "ihub_settings"


class AbstractIntegration(models.AbstractModel):
    """The base of every integration's own model (its *sub-model*).

    An integration is two records linked one to one: the ``ihub.integration`` record (the
    *super*: name, type, state, company, responsible, events, action dates, …) and a record of the
    sub-model, which ``_inherits`` the super through ``super_id`` and adds what only this kind of
    integration needs (its settings, its credentials, how it runs). All fields of the super are
    readable and writable on the sub-record.

    A sub-model **sets** these class attributes (defaults shown)::

        is_job = True                       # can be started: runs on a schedule
        is_manually_runnable = True         # shows "Run manually"
        has_time_period = True              # "Run manually" asks for a from/to period
        is_multi_company_compatible = False # False: the user picks the company it runs in
        is_singleton = False                # True: one integration of this type per company
                                            # (in all, if is_multi_company_compatible)
        has_dry_run = False                 # True: "Run Manually" offers a dry run (for
                                            # run_from_to that moves data with ihub_import
                                            # and ihub_export only)
        accepts_webhooks = False            # True: has a push URL /ihub/hook/<token>; what
                                            # arrives there is passed to hook(event); can be
                                            # started even when is_job is False
        delay = timedelta(minutes=1)        # a scheduled run covers up to now - delay
        description = ""                    # HTML shown to users choosing the type
        credential_kinds = ()               # credentials it needs, e.g. ("api_key",): the
                                            # form asks for them and Start refuses without
                                            # (kinds: basic, api_key, bearer, oauth2, hmac)
        api_key_header = None               # send the API key in this header ("X-API-Key")
        api_key_param = None                # ... or as this query parameter ("api_key")
        http_timeouts = (5, 30)             # connect / read timeouts in seconds
        oauth2 = None                       # OAuth2 defaults for the credential, e.g.
                                            # {"authorize_url": ..., "token_url": ...,
                                            #  "scope": "read write",
                                            #  "grant_type": "authorization_code"}
        api_endpoints = ()                  # operations it adds to the REST API, e.g.
                                            # (Endpoint("GET", "settings", "_api_settings",
                                            #  "Read the setting"),): see below

    and **implements**:

    * ``run_from_to(self, _from, _to)``: do the work for the period [_from, _to) (naive UTC
      datetimes; ``_from`` is None when the type has no time period). Log what happens with
      ``self.ihub_info/ihub_warning/ihub_error``; raise to fail the run (``IHubPermanentError``
      for errors a retry will not fix); report counts and commit batches through
      ``self.ihub_job()``.
    * ``open_settings(self)`` (optional): the action opening its settings; by default its form.
    * ``test_connection(self)``, ``activate(self)``, ``deactivate(self)`` (optional, no-ops by
      default): the link lifecycle. ``test_connection`` backs the "Test Connection" button:
      raise (a ``UserError`` with a readable message) when the other system cannot be
      reached or refuses the credentials. ``activate`` is called on Start and after an OAuth2
      Connect of an active integration (e.g. register a webhook at the other side);
      ``deactivate`` on Stop, Disconnect and before deletion, while the credentials still
      exist: undo what ``activate`` set up. A failing ``deactivate`` blocks the deletion
      until a manager uses "Delete Anyway".

    * ``hook(self, event)`` (types with ``accepts_webhooks``): handle one received
      ``ihub.webhook.event`` — ``event.payload`` (the parsed JSON), ``event.event_type``,
      ``event.delivery_id``, ``event.headers``. It runs as the run user inside a run of
      the "Incoming Webhooks" lane (not behind a long scheduled run), one call per event;
      raise to fail it: the event is retried with backoff, then kept as a dead letter that
      a user can replay. Events that arrive are signed, stored and committed before the
      sender gets its 2xx, and a repeated delivery id is not handled twice.

    **Incoming webhooks, small overrides.** By default a push is checked per Standard
    Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) with the
    integration's active ``hmac`` credentials (several during a rotation). A sender with its
    own scheme overrides ``_ihub_webhook_verify(self, headers, body)`` — return the delivery
    id, raise ``webhook_signature.SignatureError`` (``odoo.addons.ihub.lib``) when the
    signature is wrong; e.g. GitHub::

        def _ihub_webhook_verify(self, headers, body):
            webhook_signature.verify_hmac_header(
                self.ihub_secret("hmac"), body,
                headers.get("X-Hub-Signature-256"), prefix="sha256=",
            )
            return headers.get("X-GitHub-Delivery")

    A sender that checks the URL before it pushes (a GET with a challenge to echo)
    is answered synchronously by ``_ihub_webhook_handshake(self, method, headers, args,
    body)``: return ``(status, content_type, text)`` to answer, or None to go on.

    **Secrets.** Read a raw secret (an FTP password, a signing key) with
    ``self.ihub_secret(kind=None, field="secret")``, and authenticate requests with
    ``self._ihub_credential(kind)._requests_auth()`` (a ``requests`` auth object), never by
    reading the credential's ``secret`` fields: those are for iHub managers only, while a run
    executes as its run user. Never put a secret in an event, a log line or an error message.

    **REST API.** iHub's API (``/ihub/api/v1``, see the guide) lists, starts, stops and runs
    every integration. A type adds operations of its own with ``api_endpoints``, a tuple of
    ``odoo.addons.ihub.lib.api.Endpoint(method, path, handler, summary, params=(), body=(),
    schema=None, status=200)``: they are served at ``/integrations/{id}/<prefix>/<path>`` (the
    prefix is the sub-model's name without ``ihub.integration.``, dots as dashes: ``demo``)
    for integrations of this type only, and listed in the OpenAPI document. ``params`` (query)
    and ``body`` (JSON fields) are ``Param(name, kind, ...)``: values are checked (400 for an
    unknown query parameter, 422 naming the field) before ``handler`` — a private method — is
    called on the sub-record, as the key's user, with them as keyword arguments. It returns
    the answer's ``data`` (described by the JSON ``schema``) and raises like any Odoo code
    (AccessError: 403, UserError: 409, ValidationError: 422); record rules and access rights
    hold, so write what only managers may write through the ORM, not ``sudo()``.

    **Guarded contract methods.** Odoo lets any logged-in user call a model's public methods
    over RPC. iHub therefore wraps ``run_from_to`` and ``hook`` of every sub-model when the
    registry loads, whatever the override looks like: they only run when iHub's runner calls
    them in a running run of that integration (use "Run Manually" or push a webhook, or
    ``odoo.addons.ihub.tests.common`` in tests); ``activate``, ``deactivate`` and
    ``test_connection`` are wrapped too and need an iHub manager with write access. Helpers an
    author adds should be private (``_name``) so that they cannot be called from outside at
    all.

    **Names to leave alone.** A sub-model field may not reuse the name of a field of the
    integration or one of the class attributes above (``delay``, ``description``, the flags,
    and the names iHub reserves for what comes next: ``base_url``, ``credential_ids``, …): the
    registry refuses to load with an error naming the field.

    It may call ``self.fail()`` to put the integration in the failed state. Its addon defines the
    type in ``data/integration_type.xml`` (``model_name`` = the sub-model), access rights for
    both iHub groups, its form view, and may add a page to the integration form's notebook
    (``ihub.ihub_integration_view_form``, ``//notebook[@name='integration_notebook']``).
    ``odoo-bin scaffold -t <ihub>/ihub/scaffold/ihub_integration NAME DEST`` makes such an addon
    (checked against the demo by ``scripts/sync_guide.py``).
    The form view serves twice: the catalogue's Add opens it unsaved (so that the required
    settings are filled before the first save), and ``open_settings`` opens it as the
    integration's Settings. Show ``name``, ``user_id`` and ``company_id`` on it, read-only once
    ``super_id`` is set (they are edited on the integration form), and a header button
    ``action_open_integration`` (invisible while not ``super_id``) leading to the integration.

    Example (``ihub_demo_integration``, whose tests keep the two equal)::

        from datetime import timedelta

        from odoo import fields, models

        from odoo.addons.ihub.lib.api import Endpoint, Param

        SETTINGS = {
            "type": "object",
            "properties": {"a_custom_field": {"type": ["string", "null"]}},
        }


        class DemoIntegration(models.Model):

            _name = "ihub.integration.demo"
            _inherit = "ihub.abstract_integration"
            _description = "Demo Integration"

            is_job = True
            is_manually_runnable = True
            has_time_period = True
            is_multi_company_compatible = False
            is_singleton = False
            has_dry_run = False
            accepts_webhooks = True
            delay = timedelta(seconds=10)
            description = (
                "<p>A <b>demo</b> integration without functionality: each run only logs "
                "the period it was asked to cover. Use it to see how integrations are "
                "started, run and watched.</p>"
            )

            api_endpoints = (
                Endpoint("GET", "settings", "_api_settings", "Read the setting", schema=SETTINGS),
                Endpoint(
                    "POST",
                    "settings",
                    "_api_write_settings",
                    "Change the setting",
                    body=(Param("a_custom_field", required=True, max_length=100),),
                    schema=SETTINGS,
                ),
            )

            a_custom_field = fields.Char(
                string="Custom Field",
                help="An example setting that only this kind of integration has.",
            )
            fail_run = fields.Boolean(
                string="Fail Runs", help="Make every run fail, to see how a failure looks."
            )

            def run_from_to(self, _from, _to):
                self.ensure_one()
                period = self._ihub_format_period(_from, _to)
                if self.fail_run:
                    self.ihub_error(
                        f"Demo run {period} failed because 'Fail Runs' is set",
                        raise_exception=True,
                    )
                self.ihub_info(
                    f"Demo run {period}: integration just for demonstration",
                    details={"from": _from, "to": _to, "custom_field": self.a_custom_field},
                )

            def _api_settings(self):
                return {"a_custom_field": self.a_custom_field or None}

            def _api_write_settings(self, a_custom_field):
                self.a_custom_field = a_custom_field
                return self._api_settings()

            def hook(self, event):
                self.ensure_one()
                self.ihub_info(
                    f"Demo webhook {event.event_type or 'without type'} received",
                    details={"delivery_id": event.delivery_id, "payload": event.payload},
                )

            def _cron_log_heartbeat(self):
                for demo in self.search([("state", "=", "active")]):
                    demo.ihub_info("Demo heartbeat")

    ``AbstractIntegration`` is importable from ``odoo.addons.ihub.lib.integration`` for type
    checks and documentation; a sub-model uses it through ``_inherit``.
    """

    _name = "ihub.abstract_integration"
    _description = "Integration (abstract sub-model)"
    _inherit = ["ihub.data.plane"]
    _inherits = {"ihub.integration": "super_id"}

    # ---- Class attributes a sub-model overrides
    is_job = True
    is_manually_runnable = True
    has_time_period = True
    is_multi_company_compatible = False
    is_singleton = False
    has_dry_run = False
    accepts_webhooks = False
    delay = timedelta(minutes=1)
    description = ""
    credential_kinds = ()
    api_key_header = None
    api_key_param = None
    http_timeouts = (5, 30)
    oauth2 = None
    api_endpoints = ()

    super_id = fields.Many2one(
        "ihub.integration",
        string="Integration",
        required=True,
        index=True,
        ondelete="cascade",
        auto_join=True,
    )

    @api.model
    def _add_inherited_fields(self):
        self._ihub_check_field_clashes()
        # The super exposes the flags as fields for its views; a sub-model keeps them as the
        # plain class attributes its author wrote, so they must not be replaced by delegated
        # fields. Mirrors BaseModel._add_inherited_fields otherwise.
        if self._abstract or not self._inherits:
            return
        class_attributes = set(FLAGS) | {"delay", "description"}
        for parent_model, parent_field in self._inherits.items():
            for name, field in self.env[parent_model]._fields.items():
                if name in self._fields or name in class_attributes:
                    continue
                self._add_field(
                    name,
                    type(field)(
                        inherited=True,
                        inherited_field=field,
                        related=f"{parent_field}.{name}",
                        related_sudo=False,
                        copy=field.copy,
                        readonly=field.readonly,
                        export_string_translation=field.export_string_translation,
                    ),
                )

    @api.model
    def _ihub_check_field_clashes(self):
        if self._abstract or self._name == "ihub.abstract_integration":
            return
        integration_fields = self.env["ihub.integration"]._fields
        shared = {"id", "display_name", "super_id", *MAGIC_COLUMNS}
        for mixin in ("mail.thread", "mail.activity.mixin", "mail.thread.main.attachment"):
            if mixin in self.env:
                shared |= set(self.env[mixin]._fields)
        own = [name for name, field in self._fields.items() if not field.inherited]
        clashes = contract.field_clashes(own, integration_fields, allowed=shared)
        if clashes:
            raise TypeError(
                f"{self._name} ({self._original_module}): field(s) {', '.join(clashes)} hide a "
                "field of ihub.integration or a name iHub reserves (see the docstring of "
                "ihub.abstract_integration). Rename them in the sub-model."
            )

    def _register_hook(self):
        super()._register_hook()
        if not self._abstract:
            contract.guard_methods(type(self), CONTRACT_GUARDS)

    def _ihub_guard_run(self, method):
        """``run_from_to`` and ``hook`` run only inside iHub's runner, in a run of this
        integration."""
        for sub in self:
            # The sub-record first: reading super_id would cost a query after every commit.
            if run_progress.executing_sub(sub._name, sub.id):
                continue
            if not run_progress.executing(sub.super_id.id):
                raise AccessError(
                    _(
                        "%(method)s of '%(name)s' only runs through iHub's runner: use Run "
                        "Manually, or wait for its schedule.",
                        method=method,
                        name=sub.name,
                    )
                )

    def _ihub_guard_manage(self, method):
        """Managing an integration's link to the other system is for iHub managers."""
        if self.env.su:
            return
        # Start, Stop and deletion are for iHub users too: iHub calls the hooks for them.
        if all(lifecycle.is_calling(sub.super_id.id, method) for sub in self):
            return
        if not self.env.user.has_group("ihub.group_ihub_manager"):
            raise AccessError(
                _("Only iHub managers can call %(method)s on integrations.", method=method)
            )
        self.check_access("write")

    @api.depends("name")
    @api.depends_context(SETTINGS_CONTEXT)
    def _compute_display_name(self):
        if not self.env.context.get(SETTINGS_CONTEXT):
            return super()._compute_display_name()
        # The settings form's breadcrumb: the integration's name is the one before it.
        for sub in self:
            sub.display_name = _("Settings")
        return None

    # ---- CRUD

    @api.model_create_multi
    def create(self, vals_list):
        integration_type = self.env["ihub.integration.type"]._for_model(self._name)
        Integration = self.env["ihub.integration"]
        new_supers = [vals for vals in vals_list if not vals.get("super_id")]
        if new_supers:
            # The integrations are created here, with the flag telling them not to create a
            # sub-record of their own; the sub-model's create (and what it creates) never
            # sees the flag.
            super_vals_list = []
            for vals in new_supers:
                vals.setdefault("type_id", integration_type.id)
                vals.setdefault("name", integration_type.name)
                super_vals_list.append(
                    {name: vals.pop(name) for name in list(vals) if name in Integration._fields}
                )
            supers = Integration.with_context(**{CREATING_FROM_SUB: True}).create(super_vals_list)
            for vals, integration in zip(new_supers, supers, strict=True):
                vals["super_id"] = integration.id
        return super().create(vals_list)

    def unlink(self):
        if not self.env.context.get("ihub_deactivated"):
            # deactivate() needs the sub-record and the credentials: before they go.
            self.super_id._ihub_deactivate()
            return self.with_context(ihub_deactivated=True).unlink()
        integrations = self.super_id
        result = super().unlink()
        integrations.exists().unlink()
        return result

    # ---- The extension contract

    @property
    def sub_id(self):
        """A sub-record is its own sub-record (so code can use ``x.sub_id`` on either side)."""
        return self

    def run_from_to(self, _from, _to):
        """Do this integration's work for the period ``[_from, _to)``. Every sub-model implements
        it."""
        raise NotImplementedError(f"{self._name} must implement run_from_to(_from, _to)")

    def open_settings(self):
        """Return the action that opens this integration's settings (by default, its form).

        The form is titled "Settings" (the integration's name is the breadcrumb before it) and
        has no New button: integrations are added from the catalogue.
        """
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "current",
            "name": _("Settings"),
            "context": {"create": False, SETTINGS_CONTEXT: True},
        }

    def action_open_integration(self):
        """Open the integration form of this sub-record (e.g. after adding it).

        By its address, as if opened from the dashboard: the breadcrumb then reads
        "Integrations / <name>", not the name twice after the form it came from.
        """
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/odoo/ihub/{self.super_id.id}",
            "target": "self",
        }

    def test_connection(self):
        """Check that the other system answers and accepts the credentials; raise if not.

        Called by the "Test Connection" button (iHub managers); the default does nothing.
        """
        return True

    def activate(self):
        """Set up what the link needs at the other side (e.g. register a webhook).

        Called on Start and after an OAuth2 Connect while the integration is active; raise
        to refuse the start. The default does nothing.
        """
        return True

    def deactivate(self):
        """Undo what ``activate`` set up at the other side, while the credentials still exist.

        Called on Stop, Disconnect and before deletion. The default does nothing.
        """
        return True

    def hook(self, event):
        """Handle one received webhook event (``ihub.webhook.event``); raise to fail it.

        Types that set ``accepts_webhooks`` implement it.
        """
        raise NotImplementedError(f"{self._name} must implement hook(event)")

    def _ihub_webhook_verify(self, headers, body):
        """Check a push's signature and return its delivery id (Standard Webhooks here).

        ``headers`` is a case-insensitive mapping, ``body`` the raw bytes. Raise
        ``webhook_signature.SignatureError`` to refuse it (401).
        """
        return webhook_signature.verify(self.super_id._ihub_webhook_secrets(), headers, body)

    def _ihub_webhook_handshake(self, method, headers, args, body):
        """Answer a sender's URL check: ``(status, content_type, text)``, or None (no
        handshake: the request is a push)."""
        return None

    def ihub_secret(self, kind=None, field="secret"):
        """Shortcut for ``self.super_id.ihub_secret(kind, field)`` (see there)."""
        return self.super_id.ihub_secret(kind=kind, field=field)

    def _ihub_credential(self, kind=None):
        """Shortcut for ``self.super_id._ihub_credential(kind)``."""
        return self.super_id._ihub_credential(kind)

    def fail(self, reason=None):
        """Put the integration in the failed state; its responsible user is notified."""
        return self.super_id.fail(reason)

    def ihub_job(self):
        """The running job (``ihub.job``) during ``run_from_to``, else an empty recordset.

        Use it to report counts and to work in batches::

            job = self.ihub_job()
            for batch in batches:
                ...
                job.add_counts(processed=len(batch), succeeded=ok, failed=len(batch) - ok)
                job.commit_progress(checkpoint=batch[-1].id)

        ``job.resume_from`` is the checkpoint of the attempt this one retries (or None).
        """
        return self._ihub_running_job()

    def run_children(self, _from, _to):
        """Queue a run of each active child integration over the same period."""
        return self.super_id.run_children(_from, _to)

    def get_action_date(self, key):
        """Shortcut for ``self.super_id.get_action_date(key)``."""
        return self.super_id.get_action_date(key)

    def ihub_mapper(self, model_name):
        """Shortcut for ``self.super_id.ihub_mapper(model_name)`` (external ids, a ``Mapper``)."""
        self.ensure_one()
        return self.super_id.ihub_mapper(model_name)

    def ihub_value_map(self, code):
        """Shortcut for ``self.super_id.ihub_value_map(code)`` (a ``ValueMap``)."""
        self.ensure_one()
        return self.super_id.ihub_value_map(code)
