from odoo import fields, models

from odoo.addons.ihub.lib.events import format_details, format_summary, pop_raise_flag
from odoo.addons.ihub.lib.exceptions import IHubError


class Base(models.AbstractModel):
    """iHub events, callable on every model.

    ::

        order.ihub_info("Order imported", details=payload, related=order)
        self.ihub_warning("Customer has no e-mail", related=partner, integration=integration)
        self.ihub_error("Shop refused the update", details=response.text, raise_exception=True)

    Each call writes an ``ihub.log`` record that outlives a rollback of the current transaction.
    ``integration`` may be the integration (super) or its sub-record; when omitted, the
    integration is ``self`` if ``self`` is one, else the one running (context key
    ``integration_id``, which only ever holds an ``ihub.integration`` id).
    """

    _inherit = "base"

    def ihub_info(self, summary=None, details=None, related=None, integration=None):
        """Log an informational event; return the ``ihub.log`` record."""
        return self._ihub_event("info", summary, details, related, integration)

    def ihub_warning(self, summary=None, details=None, related=None, integration=None):
        """Log a warning event; return the ``ihub.log`` record."""
        return self._ihub_event("warning", summary, details, related, integration)

    def ihub_error(
        self,
        summary=None,
        details=None,
        related=None,
        integration=None,
        raise_exception=False,
        **kwargs,
    ):
        """Log an error event; with ``raise_exception`` (or ``raise=True``) raise ``IHubError``.

        The event is written before the exception is raised and is kept when the caller's
        transaction rolls back because of it.
        """
        raise_exception = pop_raise_flag(raise_exception, kwargs)
        log = self._ihub_event("error", summary, details, related, integration)
        if raise_exception:
            raise IHubError(log.summary)
        return log

    def _ihub_event(self, level, summary, details, related, integration):
        integration = self._ihub_event_integration(integration)
        self._ihub_check_event_access(integration)
        vals = {
            "date": fields.Datetime.now(),
            "level": level,
            "summary": format_summary(summary, level),
            "details": format_details(details),
            "integration_id": integration.id,
            "user_id": self.env.uid,
        }
        if isinstance(related, models.BaseModel) and related:
            vals["res_model"] = related._name
            vals["res_id"] = related[:1].id
        vals.update(self._ihub_event_extra_values())
        return self.env["ihub.log"]._record_event(vals)

    def _ihub_event_integration(self, integration):
        """Return the ``ihub.integration`` an event belongs to (possibly empty)."""
        if integration is None:
            is_integration = self._ihub_is_integration()
            integration = self[:1] if is_integration else self.env.context.get("integration_id")
        return self.env["ihub.integration"]._ihub_to_super(integration)

    def _ihub_check_event_access(self, integration):
        """Only who may read an integration writes its events (once per user and transaction)."""
        if not integration or self.env.su:
            return
        key = ("ihub.event_access", self.env.uid, integration.id)
        if key not in self.env.cr.cache:
            self.env["ihub.integration"].browse(integration.id).check_access("read")
            self.env.cr.cache[key] = True

    def _ihub_is_integration(self):
        """Whether this model is ``ihub.integration`` or one of its sub-models."""
        return self._name == "ihub.integration" or self._inherits.get("ihub.integration") == (
            "super_id"
        )

    def _ihub_event_extra_values(self):
        """Hook: more ``ihub.log`` values taken from the running context."""
        return {"job_id": self.env.context.get("ihub_job_id") or False}
