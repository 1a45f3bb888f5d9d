from odoo import _, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_datetime

from odoo.addons.ihub.lib.events import format_details, format_summary, pop_raise_flag
from odoo.addons.ihub.lib.exceptions import IHubError
from odoo.addons.ihub.lib.progress import running_job_id


class Base(models.AbstractModel):
    """iHub events, callable on every model.

    ::

        order.ihub_info("Order imported", details=payload, related=order)
        self.ihub_warning("Customer has no e-mail", related=partner, integration=integration)
        self.ihub_error("Shop refused the update", details=response.text, raise_exception=True)

    Each call writes an ``ihub.log`` record that outlives a rollback of the current transaction.
    ``integration`` may be the integration (super) or its sub-record; when omitted, the
    integration is ``self`` if ``self`` is one, else the one named by the context key
    ``integration_id`` (which only ever holds an ``ihub.integration`` id; a run sets it).

    Times put in a text (an event summary, a message, a to-do) are for people: write them with
    ``_ihub_format_time`` / ``_ihub_format_period``, in the reader's time zone, never as stored.
    Their leading underscore keeps them off RPC (they take a user record, for Python callers);
    they are part of the author API all the same.

    Only iHub users write events, and only for integrations they may read; events without an
    integration are visible to iHub managers only. The run an event belongs to is the one
    executing in this thread for that integration, never an id taken from the context.
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
            error = IHubError(log.summary)
            # Logged already: a run failing with it records no second event.
            error.ihub_logged = True
            raise error
        return log

    def _ihub_format_time(self, value, user=None, zone=True):
        """``value`` (a datetime in UTC, as Odoo stores it) as ``user`` reads it.

        In ``user``'s time zone and language (default: the current user; in a run, the user it
        runs as), e.g. ``May 1, 2026, 10:00:00 AM (Europe/Brussels)``. A user without a time
        zone reads the company's (or UTC). The zone is named, as the text may be read later or
        by someone else; ``zone=False`` leaves it out for a message the user reads at once
        beside fields shown in their own zone (it stays when their zone was not theirs).
        """
        tz, own = self._ihub_reader_tz(user)
        text = format_datetime(self.env, value, tz=tz, lang_code=self._ihub_reader_lang(user))
        return f"{text} ({tz})" if zone or not own else text

    def _ihub_format_period(self, date_from, date_to, user=None, zone=True):
        """``date_from – date_to`` like ``_ihub_format_time``, the zone named once; an open
        end (None) shows as ``…``."""
        tz, own = self._ihub_reader_tz(user)
        lang = self._ihub_reader_lang(user)
        start, end = (
            format_datetime(self.env, value, tz=tz, lang_code=lang) if value else "…"
            for value in (date_from, date_to)
        )
        period = f"{start} – {end}"
        return f"{period} ({tz})" if zone or not own else period

    def _ihub_reader_tz(self, user):
        """(time zone name, whether it is the user's own) for text ``user`` reads."""
        user = self.env.user if user is None else user
        if user.tz:
            return user.tz, True
        company = user.company_id or self.env.company
        return company.partner_id.tz or "UTC", False

    def _ihub_reader_lang(self, user):
        return (self.env.user if user is None else user).lang or self.env.lang

    def _ihub_event(self, level, summary, details, related, integration, job=None):
        integration = self._ihub_event_integration(integration)
        self._ihub_check_event_access(integration)
        vals = {
            "date": fields.Datetime.now(),
            "level": level,
            "summary": format_summary(summary, level),
            "details": format_details(details),
            "integration_id": integration.id,
            "user_id": self.env.uid,
            "job_id": job.id if job else running_job_id(integration.id) if integration else False,
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
        """Only iHub users write events, and only for integrations they may read (checked once
        per user and transaction)."""
        if self.env.su:
            return
        key = ("ihub.event_access", self.env.uid, integration.id)
        if key in self.env.cr.cache:
            return
        if not self.env.user.has_group("ihub.group_ihub_user"):
            raise AccessError(_("Only iHub users can log integration events."))
        if integration:
            self.env["ihub.integration"].browse(integration.id).check_access("read")
        self.env.cr.cache[key] = True

    def _ihub_is_integration(self):
        """Whether this model is ``ihub.integration`` or one of its sub-models."""
        return self._name == "ihub.integration" or self._inherits.get("ihub.integration") == (
            "super_id"
        )

    def _ihub_event_extra_values(self):
        """Hook: more ``ihub.log`` values (plain column values) for the event being written."""
        return {}
