"""The Odoo side of the sync engine (``ihub/lib/sync.py``): mappings, records and the job.

Records are created and written as the run user (the run's environment), so access rights and
record rules hold; mappings go through the integration's mapper API.
"""

from psycopg2 import sql

from odoo.addons.ihub.lib import progress as run_progress
from odoo.addons.ihub.lib.sync import Checkpoint, ExportStore, ImportStore, Known

# Imports write many records: no chatter message, follower or tracking value per record.
IMPORT_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


class _JobReporting:
    """Counts and checkpoints of one sync step reported to the running job."""

    def __init__(self, integration, step):
        self.integration, self.step = integration, step
        self.job = integration._ihub_running_job()
        self.checkpoint = Checkpoint(self.job.resume_from if self.job else None)
        self.reported = (0, 0, 0)

    @property
    def dry_run(self):
        return bool(self.job) and self.job.dry_run

    def start(self):
        return self.checkpoint.start(self.step)

    def is_done(self):
        return self.checkpoint.is_done(self.step)

    def report_counts(self, report):
        if not self.job:
            return
        succeeded = report.created + report.updated + report.unchanged + report.conflicts
        now = (report.processed, succeeded, report.failed)
        delta = [current - before for current, before in zip(now, self.reported, strict=True)]
        self.job.add_counts(*delta)
        self.reported = now

    def commit(self, report, cursor):
        self.report_counts(report)
        if self.job:
            self.job.commit_progress(checkpoint=self.checkpoint.at(self.step, cursor))


class OdooImportStore(_JobReporting, ImportStore):
    def __init__(self, integration, model, step):
        super().__init__(integration, step)
        self.env = integration.env
        self.model = self.env[model].with_context(**IMPORT_CONTEXT)
        self.mapper = integration.ihub_mapper(model)
        # Mappers of the models references point to, made once per store: each page of
        # records resolves its references again.
        self._mappers = {model: self.mapper}

    def lookup(self, external_ids):
        # One query: the mappings and their records' last write, for the conflict rule. A
        # mapping whose record is gone is not returned: the record is created again.
        # One index probe per id (LATERAL ... LIMIT 1, as the mapper's lookups): with
        # "external_id = ANY(...)" the planner turns to scanning the whole mapping table once
        # the integration holds most of it, and each page of a large import got slower.
        self.env.flush_all()
        query = sql.SQL(
            """
            SELECT i.external_id, m.res_id, m.external_hash, m.sync_date, m.write_date
              FROM unnest(%s::varchar[]) AS i(external_id)
             CROSS JOIN LATERAL (
                    SELECT m.res_id, m.external_hash, m.sync_date, r.write_date
                      FROM ihub_mapper m
                      JOIN {table} r ON r.id = m.res_id
                     WHERE m.integration_id = %s AND m.res_model = %s
                       AND m.external_id = i.external_id
                     LIMIT 1
                   ) m
            """
        ).format(table=sql.Identifier(self.model._table))
        self.env.cr.execute(query, (list(external_ids), self.integration.id, self.model._name))
        return {
            external_id: Known(
                res_id=res_id,
                external_id=external_id,
                external_hash=external_hash,
                sync_date=sync_date,
                write_date=write_date,
            )
            for external_id, res_id, external_hash, sync_date, write_date in self.env.cr.fetchall()
        }

    def resolve(self, model, external_ids):
        if model not in self._mappers:
            self._mappers[model] = self.integration.ihub_mapper(model)
        records = self._mappers[model].records(external_ids)
        resolved = {external_id: record.id for external_id, record in records.items()}
        # In a dry run, a record an earlier step would have created counts as there (its id
        # is a placeholder: nothing is written).
        for external_id in self._planned(model) & set(external_ids):
            resolved.setdefault(external_id, 0)
        return resolved

    def plan(self, external_ids):
        self._planned(self.model._name).update(external_ids)

    def _planned(self, model):
        progress = run_progress.progress_by_job().get(self.job.id) if self.job else None
        return progress.planned.setdefault(model, set()) if progress else set()

    def create_records(self, vals_list):
        return self.model.create(vals_list).ids

    def write_records(self, res_ids, vals):
        self.model.browse(res_ids).write(vals)

    def bind(self, rows):
        if rows:
            self.mapper.bind_many(rows)

    def savepoint(self):
        return self.env.cr.savepoint()


class OdooExportStore(_JobReporting, ExportStore):
    def __init__(self, integration, model, step):
        super().__init__(integration, step)
        self.env = integration.env
        self.model = self.env[model]
        self.mapper = integration.ihub_mapper(model)

    def external_ids(self, records):
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT res_id, external_id, sync_date
              FROM ihub_mapper
             WHERE integration_id = %s AND res_model = %s AND res_id = ANY(%s)
            """,
            (self.integration.id, self.model._name, [record.id for record in records]),
        )
        return {
            res_id: Known(res_id=res_id, external_id=external_id, sync_date=sync_date)
            for res_id, external_id, sync_date in self.env.cr.fetchall()
        }

    def bind(self, rows):
        self.mapper.bind_many(rows)
