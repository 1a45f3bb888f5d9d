"""The integration bench/sync.py times: it imports generated contacts through ihub_import."""

from odoo import models

from odoo.addons.ihub.lib.sync import FieldMapping, FieldRule

SIZE_PARAM = "ihub_bench.import_size"
PAGE_PARAM = "ihub_bench.import_page"


def contact_rows(size, page, start=0):
    """The outside records both sides of the benchmark import: deterministic, ``page`` at a
    time, so that neither holds them all in memory."""
    for first in range(start, size, page):
        yield [
            {
                "id": f"bench-{n}",
                "name": f"Bench Contact {n}",
                "email": f"contact{n}@bench.example",
                "ref": f"bench-{n}",
                "is_company": n % 10 == 0,
            }
            for n in range(first, min(first + page, size))
        ]


def contact_vals(row):
    return {key: row[key] for key in ("name", "email", "ref", "is_company")}


class BenchImportIntegration(models.Model):
    _name = "ihub.integration.bench.import"
    _inherit = "ihub.abstract_integration"
    _description = "Benchmark Import Integration"

    has_time_period = False
    description = "<p>Used by bench/sync.py: imports generated contacts.</p>"

    def run_from_to(self, _from, _to):
        params = self.env["ir.config_parameter"].sudo()
        size, page = (
            int(params.get_param(SIZE_PARAM, 20000)),
            int(params.get_param(PAGE_PARAM, 1000)),
        )

        def fetch(cursor):
            start = int(cursor or 0)
            rows = next(contact_rows(size, page, start), [])
            end = start + len(rows)
            return rows, (str(end) if end < size else None)

        mapping = FieldMapping(
            [FieldRule(key, key) for key in ("name", "email", "ref", "is_company")]
        )
        self.ihub_import("res.partner", fetch, mapping, batch_size=page)
