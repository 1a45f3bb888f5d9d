"""How an integration tells people it failed, and that it is healthy again.

The mail side of ``ihub.integration``'s lifecycle (``_fail``, ``action_reset``, a successful
run), kept beside the model's file so that it stays readable.
"""

import logging

from odoo import SUPERUSER_ID, _, fields, models

_logger = logging.getLogger(__name__)

# The to-do a failure gives the responsible; closed when the integration is healthy again.
FAILURE_ACTIVITY = "ihub.mail_activity_type_failure"


class IHubIntegration(models.Model):
    _inherit = "ihub.integration"

    # Whether a failure to-do may be open: every successful run asks, and mostly none is.
    failure_notice_open = fields.Boolean(copy=False, readonly=True)

    def _notify_failure(self, reason):
        """Tell the responsible once: a message from OdooBot (so that Odoo sends it to them,
        which it does not for a message they wrote themselves) and a to-do, both closed by
        ``_close_failure_notices`` once the integration is healthy again."""
        self.ensure_one()
        responsible = self.user_id
        # Read later, by the responsible: their zone (else the company's), named.
        moment = self.with_company(self.company_id or self.env.company)._ihub_format_time(
            fields.Datetime.now(), user=responsible
        )
        body = _(
            "%(name)s stopped at %(time)s. Reason: %(reason)s. To go on, fix the cause, then "
            "click Reset and Start.",
            name=self.name,
            time=moment,
            reason=(reason or _("an error")).strip().rstrip("."),
        )
        bot = self.env.ref("base.partner_root")
        self._notify(
            lambda i: i.with_user(SUPERUSER_ID).message_post(
                body=body,
                author_id=bot.id,
                partner_ids=i.user_id.partner_id.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        )
        if responsible and not self._open_failure_activities():
            summary = _("%(name)s has stopped", name=self.name)
            self._notify(
                lambda i: i.with_user(SUPERUSER_ID).activity_schedule(
                    FAILURE_ACTIVITY, user_id=responsible.id, summary=summary, note=body
                )
            )
        self.sudo().failure_notice_open = True

    def _open_failure_activities(self):
        # The cached id, not env.ref: this runs at every successful run.
        activity_type_id = self.env["ir.model.data"]._xmlid_to_res_id(
            FAILURE_ACTIVITY, raise_if_not_found=False
        )
        if not activity_type_id or not self:
            return self.env["mail.activity"]
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("activity_type_id", "=", activity_type_id),
                ]
            )
        )

    def _close_failure_notices(self):
        """A run succeeded while the integration is no longer failed: the episode is over."""
        healthy = self.filtered(lambda i: i.failure_notice_open and i.state != "failed")
        activities = healthy._open_failure_activities()
        healthy.sudo().failure_notice_open = False
        if activities:
            feedback = _("Healthy again: a run succeeded.")
            self._notify(
                lambda _i: activities.with_user(SUPERUSER_ID).action_feedback(feedback=feedback)
            )

    def _notify(self, send):
        """Tell people, through ``send(integration)``, without putting what happened at risk.

        The failure itself (state, cron, event) is already recorded: a failing notification
        (a mail server refusing, a user without an e-mail) is logged and rolled back alone.
        """
        try:
            with self.env.cr.savepoint():
                send(self.sudo())
        except Exception:
            _logger.exception("iHub could not notify about integration %s", self.id)
