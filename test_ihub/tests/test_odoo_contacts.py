"""The worked example: contacts from another Odoo, a real second Odoo server on loopback."""

from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.ihub.tests.common import run_due_jobs, run_integration

from .common import IHubCase
from .other_odoo import WithOtherOdoo, sample_data

COMPANIES, CONTACTS, SEED = 3, 9, 7


class TestOdooContactsSync(WithOtherOdoo, IHubCase):
    other_companies, other_contacts, other_seed = COMPANIES, CONTACTS, SEED

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sample = sample_data(COMPANIES, CONTACTS, SEED)
        # The run user may create contacts here, nothing more.
        cls.run_user = new_test_user(
            cls.env,
            login="contacts_runner",
            groups="ihub.group_ihub_user,base.group_partner_manager",
            company_ids=[Command.set([cls.company.id])],
        )
        connection = cls.other.connection
        cls.sub = (
            cls.env["ihub.integration.odoo_contacts"]
            .with_user(cls.manager)
            .create(
                {
                    "name": "Head office contacts",
                    "company_id": cls.company.id,
                    "base_url": connection.url,
                    "allow_private_network": True,  # the other Odoo is on this machine
                    "remote_database": connection.database,
                    "page_size": 4,
                }
            )
        )
        cls.integration = cls.sub.super_id
        cls.integration.sudo().run_user_id = cls.run_user
        credential = cls.integration._ihub_credential("basic").with_user(cls.manager)
        credential.write({"username": connection.login, "secret": connection.api_key})

    def run_sync(self, date_from=None):
        date_to = datetime.utcnow().replace(microsecond=0) + timedelta(minutes=1)
        job = run_integration(self.integration.with_user(self.ihub_user), date_from, date_to)
        return job

    def imported(self):
        return self.env["ihub.mapper"].search(
            [("integration_id", "=", self.integration.id), ("res_model", "=", "res.partner")]
        )

    def by_name(self, name):
        return self.env["res.partner"].search([("name", "=", name)])

    def test_contacts_arrive_with_their_company_and_country(self):
        job = self.run_sync()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(len(self.imported()), COMPANIES + CONTACTS)
        self.assertEqual(job.processed_count, COMPANIES + CONTACTS)
        for contact in self.sample.contacts:
            partner = self.by_name(contact["name"])
            company = self.sample.companies[contact["parent"]]
            self.assertEqual(partner.parent_id.name, company["name"])
            self.assertEqual(partner.country_id.code, contact["country_code"])
            self.assertEqual(partner.email, contact["email"])
        self.assertTrue(self.by_name(self.sample.companies[0]["name"]).is_company)
        # What the run said to the other Odoo is kept with it, without the key.
        exchanges = job.http_exchange_ids
        # Log in, the other side's own companies, one page of companies, three of contacts
        # (4 + 4 + 1): each is recorded, also those made after the run's first commit.
        self.assertEqual(len(exchanges), 6)
        self.assertEqual(set(exchanges.mapped("status")), {200})
        key = self.other.connection.api_key
        for text in [*exchanges.mapped("url"), *job.log_ids.mapped("summary")]:
            self.assertNotIn(key, text)

    def test_a_second_run_over_the_same_period_changes_nothing(self):
        self.run_sync()
        job = self.run_sync()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(len(self.imported()), COMPANIES + CONTACTS)
        self.assertIn(
            f"Import of contacts: created 0, updated 0, unchanged {CONTACTS}, failed 0",
            job.log_ids.mapped("summary"),
        )

    def test_changes_on_the_other_side_are_brought_in(self):
        self.run_sync()
        touch = self.other.touch(count=2, delete=0)
        job = self.run_sync(date_from=datetime.fromisoformat(touch.since))
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(job.processed_count, 2)
        touched = self.env["res.partner"].search([("function", "like", "Touched")])
        self.assertEqual(len(touched), 2)

    def test_a_run_cut_off_midway_resumes_where_it_stopped(self):
        other = self.other
        Sync = type(self.sub)
        fetch_of = Sync._fetch
        pages = []

        def fetch_then_lose_the_server(self, rpc, domain):
            fetch = fetch_of(self, rpc, domain)

            def wrapped(cursor):
                if len(pages) == 2:
                    other.stop()  # the other Odoo goes away after two pages of contacts
                result = fetch(cursor)
                if ("is_company", "=", False) in domain:
                    pages.append(cursor)
                return result

            return wrapped

        port = int(other.connection.url.rsplit(":", 1)[1])
        with patch.object(Sync, "_fetch", fetch_then_lose_the_server):
            job = self.run_sync()
        if other.process is None:
            other.start(port=port)
        self.assertEqual(job.state, "failed")
        self.assertIn("127.0.0.1", job.error_message)
        kept = len(self.imported())
        self.assertEqual(kept, COMPANIES + 2 * self.sub.page_size, "committed pages are kept")
        retry = job.action_retry()
        run_due_jobs(self.env)
        self.assertEqual(retry.state, "done", retry.error_message)
        self.assertEqual(len(self.imported()), COMPANIES + CONTACTS)
        names = self.env["res.partner"].search([]).mapped("name")
        for contact in self.sample.contacts:
            self.assertEqual(names.count(contact["name"]), 1)

    def test_a_dry_run_reports_every_contact_and_writes_nothing(self):
        date_to = datetime.utcnow().replace(microsecond=0) + timedelta(minutes=1)
        job = self.integration.with_user(self.ihub_user)._run_manually(None, date_to, True)
        run_due_jobs(self.env)
        self.assertEqual(job.state, "done", job.error_message)
        self.assertFalse(self.imported())
        self.assertFalse(self.by_name(self.sample.contacts[0]["name"]))
        summaries = job.log_ids.mapped("summary")
        self.assertIn(
            f"Dry run – Import of contacts: would create {CONTACTS}, would update 0, "
            "unchanged 0, failed 0",
            summaries,
        )

    def test_contacts_changed_here_are_sent_back_and_imported_ones_are_not(self):
        self.sub.with_user(self.manager).export_back = True
        self.run_sync()
        local = (
            self.env["res.partner"]
            .with_user(self.run_user)
            .create({"name": "Made Here Ltd", "is_company": True, "email": "hi@made.example"})
        )
        # The period starts with this test's transaction: the contacts it imported and the one
        # made here changed in it.
        job = self.run_sync(date_from=self.env.cr.now())
        self.assertEqual(job.state, "done", job.error_message)
        remote = self.other.rpc().execute(
            "res.partner", "search_read", [("name", "=", "Made Here Ltd")], fields=["email"]
        )
        self.assertEqual([row["email"] for row in remote], ["hi@made.example"])
        mapper = self.integration.ihub_mapper("res.partner")
        self.assertEqual(mapper.external_id(local), str(remote[0]["id"]))
        export = job.log_ids.filtered(lambda e: e.summary.startswith("Export"))
        self.assertRegex(
            export.summary,
            rf"created 1, updated 0, unchanged {COMPANIES + CONTACTS}, sent 1, failed 0",
            "the imported contacts are not sent back",
        )
