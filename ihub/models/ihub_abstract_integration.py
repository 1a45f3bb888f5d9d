from datetime import timedelta

from odoo import api, fields, models

from .ihub_integration import CREATING_FROM_SUB
from .ihub_integration_type import FLAGS


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
        delay = timedelta(minutes=1)        # a scheduled run covers up to now - delay
        description = ""                    # HTML shown to users choosing the type

    and **implements**:

    * ``run_from_to(self, _from, _to)``: do the work for the period [_from, _to) (naive UTC
      datetimes; ``_from`` is None when the type has no time period). Log what happens with
      ``self.ihub_info/ihub_warning/ihub_error``; raise to fail the run (``IHubPermanentError``
      for errors a retry will not fix); report counts and commit batches through
      ``self.ihub_job()``.
    * ``open_settings(self)`` (optional): the action opening its settings; by default its form.

    It may call ``self.fail()`` to put the integration in the failed state. Its addon defines the
    type in ``data/integration_type.xml`` (``model_name`` = the sub-model), access rights for
    both iHub groups, its form view, and may add a page to the integration form's notebook
    (``ihub.ihub_integration_view_form``, ``//notebook[@name='integration_notebook']``).

    Example::

        from datetime import timedelta

        from odoo import fields, models

        from odoo.addons.ihub.lib.integration import AbstractIntegration


        class DemoIntegration(models.Model):
            _name = "ihub.integration.demo"
            _inherit = "ihub.abstract_integration"
            _description = "Demo Integration"

            is_job = True
            is_manually_runnable = True
            has_time_period = True
            is_multi_company_compatible = False
            is_singleton = False
            delay = timedelta(seconds=10)
            description = "<p>A <b>demo</b> integration that only logs what it is asked to do.</p>"

            a_custom_field = fields.Char(string="Custom Field")
            fail_run = fields.Boolean(help="Make every run fail, to see how failures look.")

            def run_from_to(self, _from, _to):
                if self.fail_run:
                    self.ihub_error(f"Demo run from {_from} to {_to} failed", raise_exception=True)
                self.ihub_warning(f"Demo run from {_from} to {_to}: nothing to do")

    ``AbstractIntegration`` is importable from ``odoo.addons.ihub.lib.integration`` for type
    checks and documentation; a sub-model uses it through ``_inherit``.
    """

    _name = "ihub.abstract_integration"
    _description = "Integration (abstract sub-model)"
    _inherits = {"ihub.integration": "super_id"}

    # ---- Class attributes a sub-model overrides
    is_job = True
    is_manually_runnable = True
    has_time_period = True
    is_multi_company_compatible = False
    is_singleton = False
    delay = timedelta(minutes=1)
    description = ""

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

    # ---- CRUD

    @api.model_create_multi
    def create(self, vals_list):
        integration_type = self.env["ihub.integration.type"]._for_model(self._name)
        for vals in vals_list:
            if not vals.get("super_id"):
                vals.setdefault("type_id", integration_type.id)
                vals.setdefault("name", integration_type.name)
        records = super(AbstractIntegration, self.with_context(**{CREATING_FROM_SUB: True})).create(
            vals_list
        )
        return records.with_env(self.env)

    def unlink(self):
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
        """Return the action that opens this integration's settings (by default, its form)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "current",
            "name": self.name,
        }

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
        return self.env["ihub.job"].sudo().browse(self.env.context.get("ihub_job_id"))

    def run_children(self, _from, _to):
        """Queue a run of each active child integration over the same period."""
        return self.super_id.run_children(_from, _to)

    def get_action_date(self, key):
        """Shortcut for ``self.super_id.get_action_date(key)``."""
        return self.super_id.get_action_date(key)
