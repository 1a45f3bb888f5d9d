from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.ihub.lib.sync import NEWEST_WINS, ODOO_WINS, REMOTE_WINS, FieldMapping, FieldRule

from ..lib.odoo_rpc import OdooRPC

# The other Odoo's contact fields the sync reads (and writes back when it exports).
TEXT_FIELDS = (
    "name",
    "email",
    "phone",
    "function",
    "street",
    "street2",
    "city",
    "zip",
    "ref",
    "website",
)
SAMPLE_NAME = "Contacts from the sample Odoo"
SAMPLE_KEYS = ("url", "db", "login", "key")
REMOTE_FIELDS = [*TEXT_FIELDS, "is_company", "parent_id", "country_code", "write_date"]


class OdooContactsIntegration(models.Model):
    """Contacts from another Odoo database, through its external JSON-RPC API.

    Each run imports the contacts changed on the other side during its period — companies
    first, then people, linked to their company through the mapper — and, if asked, sends back
    the contacts changed here.
    """

    _name = "ihub.integration.odoo_contacts"
    _inherit = "ihub.abstract_integration"
    _description = "Contacts from Another Odoo"

    is_job = True
    is_manually_runnable = True
    has_time_period = True
    is_multi_company_compatible = False
    is_singleton = False
    has_dry_run = True
    delay = timedelta(seconds=30)
    credential_kinds = ("basic",)
    description = (
        "<p>Keeps the contacts of another Odoo database in this one: companies and people "
        "changed there are created or updated here, and contacts changed here can be sent "
        "back.</p>"
    )

    remote_database = fields.Char(
        string="Database", required=True, help="The database of the other Odoo to read from."
    )
    page_size = fields.Integer(
        default=500, help="Contacts read per request: larger pages mean fewer round trips."
    )
    export_back = fields.Boolean(
        string="Send Changes Back",
        help="Also send the contacts changed here (and not by this sync) to the other Odoo.",
    )
    conflict_rule = fields.Selection(
        [
            (REMOTE_WINS, "The other Odoo wins"),
            (ODOO_WINS, "This Odoo wins"),
            (NEWEST_WINS, "The newest change wins"),
        ],
        default=NEWEST_WINS,
        required=True,
        help="What happens to a contact changed on both sides since the last sync.",
    )

    def run_from_to(self, _from, _to):
        self.ensure_one()
        rpc = self._rpc()
        period = [("write_date", "<", fields.Datetime.to_string(_to))]
        if _from:
            period.append(("write_date", ">=", fields.Datetime.to_string(_from)))
        mapping = self._field_mapping()
        # The other Odoo's own companies and users are not contacts to bring over.
        own = rpc.execute("res.company", "search_read", [], fields=["partner_id"])
        not_own = [("user_ids", "=", False), ("id", "not in", [c["partner_id"][0] for c in own])]
        for step, is_company in (("companies", True), ("contacts", False)):
            self.ihub_import(
                "res.partner",
                self._fetch(rpc, [*period, *not_own, ("is_company", "=", is_company)]),
                mapping,
                step=step,
                conflict=self.conflict_rule,
                modified="write_date",
                batch_size=self.page_size,
            )
        # Only an incremental run sends back: a first one over all time would send every
        # contact of this database to the other.
        if self.export_back and _from:
            own_partners = self.env["res.company"].sudo().search([]).partner_id
            changed = self.env["res.partner"].search(
                [
                    ("write_date", ">=", _from),
                    ("write_date", "<", _to),
                    ("user_ids", "=", False),
                    ("id", "not in", own_partners.ids),
                ]
            )
            self.ihub_export(changed, self._remote_values, self._sender(rpc), step="send back")

    def _rpc(self):
        login = self.ihub_secret(kind="basic", field="username")
        api_key = self.ihub_secret(kind="basic")
        return OdooRPC(self.ihub_http(), self.remote_database, login, api_key)

    def _fetch(self, rpc, domain):
        """Pages of contacts in id order; a page's cursor is its last id. A contact changed
        while the run reads leaves the run's period and comes with the next run."""
        page_size = max(1, self.page_size)

        def fetch(cursor):
            page_domain = [*domain, ("id", ">", int(cursor or 0))]
            rows = rpc.execute(
                "res.partner",
                "search_read",
                page_domain,
                fields=REMOTE_FIELDS,
                order="id",
                limit=page_size,
                context={"active_test": False},
            )
            if len(rows) < page_size:
                return rows, None
            return rows, str(rows[-1]["id"])

        return fetch

    def _field_mapping(self):
        countries = {c.code: c.id for c in self.env["res.country"].search([])}

        def country(code):
            if not code:
                return False
            if code not in countries:
                raise ValueError(f"no country with code {code}")
            return countries[code]

        return FieldMapping(
            [
                *(FieldRule(name, name, required=name == "name") for name in TEXT_FIELDS),
                FieldRule("is_company", "is_company", default=False),
                FieldRule("parent_id.0", "parent_id", reference="res.partner"),
                FieldRule("country_code", "country_id", convert=country, default=False),
            ]
        )

    def _remote_values(self, partner):
        values = {name: partner[name] or False for name in TEXT_FIELDS}
        values["is_company"] = partner.is_company
        return values

    def _sender(self, rpc):
        def send(partner, values, external_id):
            if external_id:
                rpc.execute("res.partner", "write", [int(external_id)], values)
                return external_id
            return rpc.execute("res.partner", "create", [values])[0]

        return send

    # ---- The sample set-up of `python3 scripts/dev.py run`

    @api.model
    def _ihub_setup_sample(self):
        """Point an integration at the sample "other Odoo" that ``dev.py run`` starts.

        ``dev.py`` writes where that Odoo is (system parameters ``ihub_demo.other_odoo_*``)
        and calls this, so that a newcomer only presses Run Manually.
        """
        params = self.env["ir.config_parameter"].sudo()
        values = {key: params.get_param(f"ihub_demo.other_odoo_{key}") for key in SAMPLE_KEYS}
        if not all(values.values()):
            return self.browse()
        admin = self.env.ref("base.user_admin")
        sub = (
            self.sudo()
            .with_context(active_test=False)
            .search([("name", "=", SAMPLE_NAME)], limit=1)
        )
        settings = {
            "base_url": values["url"],
            "remote_database": values["db"],
            "allow_private_network": True,
            "page_size": 25,
        }
        if sub:
            sub.write(settings)
        else:
            sub = self.sudo().create(
                {"name": SAMPLE_NAME, "user_id": admin.id, "run_user_id": admin.id, **settings}
            )
        credential = sub.super_id._ihub_credential("basic").sudo()
        credential.write({"username": values["login"], "secret": values["key"]})
        return sub
