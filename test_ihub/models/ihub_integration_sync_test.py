from odoo import fields, models

from odoo.addons.ihub.lib.exceptions import IHubError
from odoo.addons.ihub.lib.sync import RecordError

# What the "other system" holds, per integration id: tests fill it. A run reads it in pages.
REMOTE = {}
SENT = {}


class SyncTestIntegration(models.Model):
    """Imports partners from REMOTE page by page, companies first, and exports them back."""

    _name = "ihub.integration.synctest"
    _inherit = "ihub.abstract_integration"
    _description = "Sync Test Integration"

    has_dry_run = True

    page_size = fields.Integer(default=3)
    crash_after_pages = fields.Integer(help="Raise once this many pages of contacts are in.")
    export_back = fields.Boolean()

    def run_from_to(self, _from, _to):
        remote = REMOTE.get(self.super_id.id, {})
        self.ihub_import(
            "res.partner",
            self._pages([r for r in remote.get("partners", []) if r.get("is_company")]),
            self._partner_vals,
            step="companies",
        )
        self.ihub_import(
            "res.partner",
            self._pages([r for r in remote.get("partners", []) if not r.get("is_company")]),
            self._partner_vals,
            step="contacts",
            batch_size=2,
        )
        if self.export_back:
            changed = self.env["res.partner"].search(
                [("write_date", ">=", _from), ("write_date", "<", _to), ("name", "like", "Local%")]
            )
            self.ihub_export(changed, lambda p: {"name": p.name}, self._send)

    def _pages(self, items):
        size, crash_after = self.page_size, self.crash_after_pages
        calls = []

        def fetch(cursor):
            start = int(cursor or 0)
            calls.append(start)
            if crash_after and not items[0].get("is_company") and len(calls) > crash_after:
                raise IHubError("The other system stopped answering")
            end = start + size
            return items[start:end], (str(end) if end < len(items) else None)

        return fetch

    def _partner_vals(self, item, resolved):
        if not item.get("name"):
            raise RecordError("a partner without a name")
        vals = {"name": item["name"], "is_company": bool(item.get("is_company"))}
        if item.get("type"):
            vals["type"] = item["type"]
        if item.get("company"):
            parent = self.ihub_mapper("res.partner").record(item["company"])
            if not parent:
                raise RecordError(f"company {item['company']} is unknown")
            vals["parent_id"] = parent.id
        return vals

    def _send(self, record, payload, external_id):
        sent = SENT.setdefault(self.super_id.id, [])
        sent.append((record.id, payload, external_id))
        return external_id or f"L{record.id}"
