"""The sync helper inside real runs: ihub_import / ihub_export, dry runs, resuming, field maps."""

from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user

from odoo.addons.ihub.lib.sync import RecordError
from odoo.addons.ihub.tests.common import run_due_jobs, run_integration
from odoo.addons.test_ihub.models.ihub_integration_sync_test import REMOTE, SENT

from .common import IHubCase


def company(n):
    return {"id": f"C{n}", "name": f"Remote Company {n}", "is_company": True}


def contact(n, company_n=None, **extra):
    item = {"id": f"P{n}", "name": f"Remote Contact {n}"}
    if company_n is not None:
        item["company"] = f"C{company_n}"
    return {**item, **extra}


class TestSync(IHubCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The run user may create contacts, nothing more: the import runs with their rights.
        cls.run_user = new_test_user(
            cls.env,
            login="ihub_sync_runner",
            groups="ihub.group_ihub_user,base.group_partner_manager",
            company_ids=[Command.set([cls.company.id])],
        )
        cls.sub = (
            cls.env["ihub.integration.synctest"]
            .with_user(cls.manager)
            .create({"name": "Sync", "company_id": cls.company.id, "user_id": cls.run_user.id})
        )
        cls.sub.sudo().run_user_id = cls.run_user
        cls.integration = cls.sub.super_id

    def setUp(self):
        super().setUp()
        self.remote = REMOTE.setdefault(self.integration.id, {})
        self.addCleanup(REMOTE.pop, self.integration.id, None)
        self.addCleanup(SENT.pop, self.integration.id, None)

    def run_sync(self, dry_run=False, user=None):
        integration = self.integration.with_user(user or self.ihub_user)
        if dry_run:
            job = integration._run_manually(None, self.env.cr.now(), dry_run=True)
            run_due_jobs(self.env)
            return job
        return run_integration(integration, None, self.env.cr.now())

    def partners(self):
        return self.env["res.partner"].search([("name", "like", "Remote %")])

    def mapped(self):
        return self.env["ihub.mapper"].search(
            [("integration_id", "=", self.integration.id), ("res_model", "=", "res.partner")]
        )

    def test_import_creates_records_and_mappings_and_reports_counts(self):
        self.remote["partners"] = [company(1), company(2)] + [
            contact(n, company_n=n % 2 + 1) for n in range(5)
        ]
        job = self.run_sync()
        self.assertEqual(job.state, "done", job.error_message)
        partners = self.partners()
        self.assertEqual(len(partners), 7)
        contact_3 = partners.filtered(lambda p: p.name == "Remote Contact 3")
        self.assertEqual(contact_3.parent_id.name, "Remote Company 2")
        self.assertEqual(len(self.mapped()), 7)
        self.assertEqual((job.processed_count, job.succeeded_count, job.failed_count), (7, 7, 0))
        self.assertEqual(partners.create_uid, self.run_user, "records are written as the run user")
        summaries = job.log_ids.mapped("summary")
        self.assertIn("Import of companies: created 2, updated 0, unchanged 0, failed 0", summaries)

    def test_reimporting_a_window_creates_nothing_twice(self):
        self.remote["partners"] = [company(1), contact(1, 1), contact(2, 1)]
        self.run_sync()
        self.remote["partners"][1] = contact(1, 1, name="Remote Contact One")
        job = self.run_sync()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(len(self.partners()), 3)
        self.assertIn("Remote Contact One", self.partners().mapped("name"))
        self.assertIn(
            "Import of contacts: created 0, updated 1, unchanged 1, failed 0",
            job.log_ids.mapped("summary"),
        )

    def test_bad_records_are_skipped_and_reported_and_the_rest_kept(self):
        self.remote["partners"] = [
            company(1),
            contact(1, 1),
            contact(2, 1, type="bogus"),  # refused by Odoo when saved
            {"id": "P3"},  # refused by the conversion
            contact(4, company_n=9),  # its company never came
            contact(5, 1),
        ]
        job = self.run_sync()
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(
            sorted(self.partners().mapped("name")),
            ["Remote Company 1", "Remote Contact 1", "Remote Contact 5"],
        )
        self.assertEqual(job.failed_count, 3)
        warning = job.log_ids.filtered(lambda e: e.level == "warning")
        self.assertIn("failed 3", warning.summary)
        errors = dict(line.split(": ", 1) for line in warning.details.splitlines()[1:])
        self.assertIn("bogus", errors["P2"])
        self.assertEqual(errors["P3"], "a partner without a name")
        self.assertIn("company C9 is unknown", errors["P4"])

    def test_dry_run_reports_and_writes_nothing(self):
        self.remote["partners"] = [company(1), contact(1, 1)]
        self.run_sync()
        self.remote["partners"] += [company(2), contact(2, 2)]
        self.remote["partners"][1] = contact(1, 1, name="Remote Renamed")
        job = self.run_sync(dry_run=True)
        self.assertEqual(job.state, "done", job.error_message)
        self.assertTrue(job.dry_run)
        self.assertEqual(len(self.partners()), 2)
        self.assertNotIn("Remote Renamed", self.partners().mapped("name"))
        self.assertEqual(len(self.mapped()), 2)
        summaries = job.log_ids.mapped("summary")
        self.assertIn(
            "Dry run – Import of companies: would create 1, would update 0, unchanged 1, failed 0",
            summaries,
        )
        # contact 2's company is not created in a dry run: it is reported, not invented
        self.assertTrue(any("would update 1" in s for s in summaries), summaries)

    def test_dry_run_is_refused_for_types_that_cannot_run_dry(self):
        fake = self.env["ihub.integration.test"].with_user(self.manager).create({"name": "Fake"})
        with self.assertRaisesRegex(Exception, "cannot run dry"):
            fake.super_id.with_user(self.ihub_user)._run_manually(None, self.env.cr.now(), True)

    def test_a_crashed_import_resumes_from_its_checkpoint(self):
        self.remote["partners"] = [company(1)] + [contact(n, 1) for n in range(9)]
        self.sub.sudo().write({"crash_after_pages": 2, "page_size": 3})
        job = self.run_sync()
        self.assertEqual(job.state, "failed")
        # companies, then two pages of contacts were committed before the outage
        self.assertEqual(len(self.partners()), 1 + 6)
        self.assertIn('"done": ["companies"]', job.checkpoint)
        self.sub.sudo().crash_after_pages = 0
        retry = job.action_retry()
        run_due_jobs(self.env)
        self.assertEqual(retry.state, "done", retry.error_message)
        self.assertEqual(len(self.partners()), 10)
        self.assertEqual(len(self.mapped()), 10)
        summaries = retry.log_ids.mapped("summary")
        self.assertIn("Import of contacts: created 3, updated 0, unchanged 0, failed 0", summaries)
        self.assertFalse([s for s in summaries if "companies" in s], "a finished step is skipped")

    def test_export_sends_local_changes_and_not_what_the_import_wrote(self):
        self.remote["partners"] = [company(1), contact(1, 1)]
        self.sub.sudo().export_back = True
        start = self.env.cr.now() - timedelta(hours=1)
        local = self.env["res.partner"].with_user(self.run_user).create({"name": "Local Shop"})
        end = self.env.cr.now() + timedelta(minutes=1)
        job = run_integration(self.integration.with_user(self.ihub_user), start, end)
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(SENT[self.integration.id], [(local.id, {"name": "Local Shop"}, None)])
        mapper = self.integration.ihub_mapper("res.partner")
        self.assertEqual(mapper.external_id(local), f"L{local.id}")


class TestFieldMapping(IHubCase):
    """A manager maps outside values to fields in the UI; integration code uses the mapping."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = (
            cls.env["ihub.integration.synctest"]
            .with_user(cls.manager)
            .create({"name": "Mapped", "user_id": cls.manager.id})
        )
        cls.integration = cls.sub.super_id
        Env = cls.env(user=cls.manager)
        cls.countries = Env["ihub.value.map"].create(
            {
                "integration_id": cls.integration.id,
                "name": "Countries",
                "code": "country",
                "res_model": "res.country",
                "line_ids": [
                    Command.create({"external_value": "DEU", "res_id": cls.env.ref("base.de").id})
                ],
            }
        )
        field = {name: name for name in ("name", "country_id", "parent_id", "is_company")}
        cls.mapping = Env["ihub.field.mapping"].create(
            {
                "integration_id": cls.integration.id,
                "name": "Contacts",
                "code": "contacts",
                "res_model": "res.partner",
                "line_ids": [
                    Command.create({"path": "name", "field_name": field["name"], "required": True}),
                    Command.create({"path": "address.country", "field_name": field["country_id"],
                                    "conversion": "value_map", "value_map_id": cls.countries.id}),
                    Command.create({"path": "company", "field_name": field["parent_id"],
                                    "conversion": "reference"}),
                    Command.create({"path": "vip", "field_name": field["is_company"],
                                    "conversion": "boolean"}),
                ],
            }
        )  # fmt: skip

    def test_a_mapping_converts_records_with_value_maps_references_and_conversions(self):
        mapping = self.integration.with_user(self.manager).ihub_field_mapping("contacts")
        parent = self.env["res.partner"].create({"name": "Parent", "is_company": True})
        self.integration.with_user(self.manager).ihub_mapper("res.partner").bind("C1", parent)
        items = [{"name": "Ann", "address": {"country": "DEU"}, "company": "C1", "vip": "yes"}]
        resolved = {"res.partner": {"C1": parent.id}}
        self.assertEqual(mapping.references(items), {"res.partner": {"C1"}})
        self.assertEqual(
            mapping(items[0], resolved),
            {
                "name": "Ann",
                "country_id": self.env.ref("base.de").id,
                "parent_id": parent.id,
                "is_company": True,
            },
        )

    def test_an_unmapped_value_skips_the_record_with_a_message_naming_map_and_value(self):
        mapping = self.integration.with_user(self.manager).ihub_field_mapping("contacts")
        with self.assertRaisesRegex(RecordError, "Countries.*XXX"):
            mapping({"name": "Bob", "address": {"country": "XXX"}}, {})

    def test_a_reference_line_needs_a_link_field_and_a_value_map_line_a_map(self):
        Line = self.env["ihub.field.mapping.line"].with_user(self.manager)
        with self.assertRaisesRegex(ValidationError, "not a link to a record"):
            Line.create({"mapping_id": self.mapping.id, "path": "x", "field_name": "name",
                         "conversion": "reference"})  # fmt: skip
        with self.assertRaisesRegex(ValidationError, "Choose the value map"):
            Line.create({"mapping_id": self.mapping.id, "path": "x", "field_name": "name",
                         "conversion": "value_map"})  # fmt: skip

    def test_a_line_must_name_a_field_an_import_can_fill(self):
        Line = self.env["ihub.field.mapping.line"].with_user(self.manager)
        for field_name in ("no_such_field", "child_ids", "display_name"):
            with self.assertRaisesRegex(ValidationError, "not a field an import can fill"):
                Line.create({"mapping_id": self.mapping.id, "path": "x", "field_name": field_name})

    def test_users_read_mappings_managers_edit_them(self):
        self.assertEqual(self.mapping.with_user(self.ihub_user).line_ids.mapped("path")[0], "name")
        with self.assertRaises(AccessError):
            self.mapping.with_user(self.ihub_user).write({"name": "Changed"})
        with self.assertRaisesRegex(UserError, "no field mapping 'nope'"):
            self.integration.with_user(self.ihub_user).ihub_field_mapping("nope")
