from datetime import datetime

from odoo import _, models
from odoo.exceptions import AccessError, UserError
from odoo.modules.module import get_manifest

from odoo.addons.ihub.lib import lifecycle
from odoo.addons.ihub.lib import progress as run_progress
from odoo.addons.ihub.lib.http import build_session
from odoo.addons.ihub.lib.sync import REMOTE_WINS, Exporter, Importer

from .sync_store import OdooExportStore, OdooImportStore

DEFAULT_TIMEOUTS = (5, 30)  # seconds to connect, seconds to wait for each read


class IHubDataPlane(models.AbstractModel):
    """What integration code calls to move data: on the integration and on its sub-record.

    ``ihub.integration`` and every sub-model inherit it, so that ``self.ihub_import(...)``
    works in ``run_from_to`` and ``integration.ihub_import(...)`` anywhere else.
    """

    _name = "ihub.data.plane"
    _description = "iHub data helpers for integration code"

    def _ihub_integration(self):
        """The integration (super) record behind ``self``, in ``self``'s environment."""
        self.ensure_one()
        return self if self._name == "ihub.integration" else self.super_id

    def _ihub_running_job(self):
        """The run of this integration this thread executes (sudo), else an empty recordset."""
        integration = self._ihub_integration()
        job_id = run_progress.running_job_id(integration.id)
        return self.env["ihub.job"].sudo().browse(job_id)

    def ihub_http(self):
        """A ``requests.Session`` for the other system, configured from the integration.

        Paths are relative to the integration's Base URL; the integration's credential
        authenticates each request (OAuth2 tokens are refreshed on their own); timeouts,
        retries of idempotent requests (connection errors, 429, 502-504, honouring
        ``Retry-After``), the request quota and the private-network guard apply; each request
        is recorded with the run (URL redacted, bodies only with "Record Request Bodies").
        Errors are ``IHubError``s naming the request (``IHubPermanentError`` when a retry
        cannot help: refused address, 401/403). ``get_json``/``post_json`` parse answers::

            partners = self.ihub_http().get_json("/api/partners", params={"page": 1})

        Only the integration's runs and iHub managers may use it: it reads the credentials.
        """
        integration = self._ihub_integration()
        self._ihub_check_data_access(integration)
        sub_class = integration._sub_class()
        credential = integration._ihub_request_credential()
        auth = credential._requests_auth() if credential else None
        secrets = credential.sudo()._ihub_secret_values() if credential else ()
        recorder = None
        progress = run_progress.progress_by_job().get(self._ihub_running_job().id)
        if progress is not None:
            recorder = progress.exchanges.append
        throttle = None
        if integration.rate_limit:
            limit, period = integration.rate_limit, integration.rate_limit_period
            Throttle, integration_id = self.env["ihub.throttle"].sudo(), integration.id

            def throttle():
                Throttle._ihub_wait_for_slot(integration_id, limit, period)

        return build_session(
            integration.base_url or None,
            timeouts=tuple(getattr(sub_class, "http_timeouts", None) or DEFAULT_TIMEOUTS),
            user_agent=f"iHub/{get_manifest('ihub')['version']} ({integration.name})",
            allow_private=integration.allow_private_network,
            auth=auth,
            recorder=recorder,
            secrets=secrets,
            debug_bodies=integration.http_debug,
            throttle=throttle,
        )

    def _ihub_check_data_access(self, integration):
        """Integration code reads secrets and writes data on a run's behalf: only in a run of
        that integration, or for iHub managers."""
        if (
            self.env.su
            or run_progress.executing(integration.id)
            or lifecycle.is_calling(integration.id)
        ):
            return
        if not self.env.user.has_group("ihub.group_ihub_manager"):
            raise AccessError(
                _(
                    "Only the runs of '%(name)s' and iHub managers can use its connection.",
                    name=integration.name,
                )
            )
        integration.check_access("read")

    def ihub_import(
        self,
        model,
        fetch,
        convert,
        external_id="id",
        *,
        step=None,
        batch_size=500,
        conflict=REMOTE_WINS,
        modified=None,
    ):
        """Import outside records into ``model`` page by page; return a ``SyncReport``.

        * ``fetch(cursor)`` returns ``(items, next_cursor)``: a page of outside records (dicts)
          and where the next page starts (None after the last page). The first call gets
          None, or the cursor a crashed attempt of this run got to.
        * ``convert(item, resolved)`` returns the Odoo values of one record, or None to skip
          it; raise ``RecordError`` to report a bad record and go on. A ``FieldMapping`` (see
          ``ihub_field_mapping``) is such a callable, and resolves many2one references
          through the mapper for the whole batch.
        * ``external_id`` is the path (or a callable) of the record's outside id.
        * ``step`` names this import when a run does several (default: the model), so that a
          resumed run skips the steps it finished.
        * ``conflict`` (``remote_wins``, ``odoo_wins``, ``newest_wins`` with ``modified``, the
          path of the outside record's last change) decides when a record changed on both
          sides since the last sync.

        Records are created and written as the run user, in batches; each page's work is
        committed with the counts and a checkpoint. In a dry run (Run Manually → Dry Run)
        nothing is written and the report says what would have been.
        """
        integration = self._ihub_integration()
        store = OdooImportStore(integration, model, step or model)
        importer = Importer(
            store,
            convert,
            external_id,
            batch_size=batch_size,
            dry_run=store.dry_run,
            conflict=conflict,
            modified=modified,
        )
        if store.is_done():
            return importer.report
        report = importer.run(fetch, cursor=store.start())
        self._ihub_report_sync(store, report, _("Import of %(step)s", step=step or model))
        return report

    def ihub_export(self, records, payload, send, *, step=None, batch_size=100):
        """Send ``records`` (a recordset, e.g. those changed in the run's period) outside.

        ``payload(record)`` builds what is sent (None: skip; raise ``RecordError`` to report
        and go on); ``send(record, payload, external_id)`` sends it — ``external_id`` is None
        for a record never sent — and returns the record's outside id, which is bound in the
        mapper. Records whose last change is the import that wrote them are not sent back.
        Batches are committed with a checkpoint; a resumed run starts after the last one.
        """
        integration = self._ihub_integration()
        step = step or f"{records._name} export"
        store = OdooExportStore(integration, records._name, step)
        exporter = Exporter(store, payload, send, batch_size=batch_size, dry_run=store.dry_run)
        if store.is_done():
            return exporter.report
        records = records.sorted(lambda r: (r.write_date, r.id))
        start = _parse_export_checkpoint(store.start())
        if start:
            records = records.filtered(lambda r: (r.write_date, r.id) > start)
        batches = [records[i : i + batch_size] for i in range(0, len(records), batch_size)]
        report = exporter.run(batches)
        if not report.dry_run:
            store.commit(report, None)
        self._ihub_report_sync(store, report, _("Export of %(step)s", step=step))
        return report

    def _ihub_report_sync(self, store, report, title):
        store.report_counts(report)
        integration = self._ihub_integration()
        details = "\n".join(
            [_("Records skipped (outside id: reason):")]
            + [f"{key or '?'}: {message}" for key, message in report.errors]
        )
        if report.failed > len(report.errors):
            details += "\n" + _("… and %(count)s more", count=report.failed - len(report.errors))
        message = f"{title}: {report.summary()}"
        if report.dry_run:
            message = _("Dry run – %(message)s", message=message)
        if report.failed:
            integration.ihub_warning(message, details=details)
        else:
            integration.ihub_info(message)

    def ihub_field_mapping(self, code):
        """The declarative field mapping ``code`` of this integration, as a ``FieldMapping``
        to pass as ``convert`` to ``ihub_import``."""
        integration = self._ihub_integration()
        mapping = (
            self.env["ihub.field.mapping"]
            .sudo()
            .search([("integration_id", "=", integration.id), ("code", "=", code)], limit=1)
        )
        if not mapping:
            raise UserError(
                _(
                    "'%(integration)s' has no field mapping '%(code)s'.",
                    integration=integration.name,
                    code=code,
                )
            )
        return mapping.with_env(self.env)._ihub_compile()


def _parse_export_checkpoint(text):
    """(write date, id) of the last record a resumed export sent (see ``Exporter``)."""
    if not text or "|" not in text:
        return None
    stamp, _sep, record_id = text.partition("|")
    try:
        return datetime.fromisoformat(stamp), int(record_id)
    except ValueError:
        return None
