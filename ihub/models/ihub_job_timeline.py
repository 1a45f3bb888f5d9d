from markupsafe import Markup, escape

from odoo import _, api, fields, models

# The timeline shows this many of a run's events (its Events page has them all).
TIMELINE_EVENTS = 30
LEVEL_ICONS = {
    "info": "fa-info-circle text-info",
    "warning": "fa-exclamation-triangle text-warning",
    "error": "fa-times-circle text-danger",
}


class IHubJob(models.Model):
    """A run's timeline: queued, started, what it logged, its last progress, how it ended."""

    _inherit = "ihub.job"

    timeline = fields.Html(compute="_compute_timeline")

    @api.depends("state", "queued_at", "started_at", "ended_at", "heartbeat_at")
    def _compute_timeline(self):
        for job in self:
            job.timeline = job._timeline_html(job._timeline_entries()) if job.id else False

    def _timeline_entries(self):
        """``[(date, icon classes, text)]`` in time order."""
        self.ensure_one()
        entries = [(self.queued_at, "fa-inbox text-muted", _("Queued"))]
        if self.eta and self.state == "pending":
            entries.append((self.eta, "fa-clock-o text-muted", _("Waits until then")))
        if self.started_at:
            entries.append((self.started_at, "fa-play text-info", _("Started")))
        events = self.env["ihub.log"].search(
            [("job_id", "=", self.id)], order="date, id", limit=TIMELINE_EVENTS
        )
        entries += [(e.date, LEVEL_ICONS.get(e.level, ""), e.summary) for e in events]
        if self.heartbeat_at and self.state == "running":
            entries.append(
                (
                    self.heartbeat_at,
                    "fa-refresh text-info",
                    _("Progress saved: %(count)s processed", count=self.processed_count),
                )
            )
        if self.ended_at:
            label = dict(self._fields["state"]._description_selection(self.env))[self.state]
            icon = {"done": "fa-check text-success", "failed": "fa-times text-danger"}
            entries.append(
                (self.ended_at, icon.get(self.state, "fa-ban text-muted"), _("Ended: %s", label))
            )
        return sorted((e for e in entries if e[0]), key=lambda e: e[0])

    def _timeline_html(self, entries):
        # Times in the reader's time zone, like the date fields around it (named only when
        # the reader has none of their own: then it is the company's, or UTC).
        rows = Markup("").join(
            Markup(
                '<li class="d-flex gap-2 mb-1"><i class="fa fa-fw mt-1 %s"></i>'
                '<span class="text-muted text-nowrap">%s</span>'
                '<span class="text-break">%s</span></li>'
            )
            % (icon, self._ihub_format_time(date, zone=False), escape(text or ""))
            for date, icon, text in entries
        )
        return Markup('<ul class="list-unstyled mb-0 o_ihub_timeline">%s</ul>') % rows
