"""The other Odoo of the contacts-sync example: a real second server, reached over JSON-RPC."""

import os
import tempfile
from pathlib import Path

from odoo.tests import BaseCase

from .other_odoo import (
    SAMPLE_TAG,
    OtherOdooError,
    WithOtherOdoo,
    other_odoo,
    sample_data,
    stop_recorded_servers,
)
from .servers import connect

PARTNER = "res.partner"
SAMPLE = [("category_id.name", "=", SAMPLE_TAG)]


def database_exists(name):
    connection = connect("postgres")
    try:
        with connection.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cr.fetchone() is not None
    finally:
        connection.close()


def process_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # Still in the process table: only a zombie (exited, not yet reaped) counts as gone.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


class TestSampleData(BaseCase):
    def test_same_seed_same_data_other_seed_other_data(self):
        self.assertEqual(sample_data(4, 10, seed=3), sample_data(4, 10, seed=3))
        self.assertNotEqual(sample_data(4, 10, seed=3), sample_data(4, 10, seed=4))

    def test_counts_parents_refs_and_countries(self):
        data = sample_data(7, 30, seed=1)
        self.assertEqual((len(data.companies), len(data.contacts)), (7, 30))
        self.assertEqual(len({c["name"] for c in data.companies + data.contacts}), 37)
        self.assertEqual(
            [c["ref"] for c in data.companies if c["ref"]], ["CO00001", "CO00004"] + ["CO00007"]
        )
        self.assertEqual(sum(1 for c in data.contacts if c["ref"]), 8)
        for contact in data.contacts:
            company = data.companies[contact["parent"]]
            self.assertEqual(contact["country_code"], company["country_code"])
            self.assertTrue(contact["email"].endswith(company["email"].split("@")[1]))

    def test_contacts_without_companies_are_refused(self):
        with self.assertRaisesRegex(ValueError, "at least one company"):
            sample_data(0, 1)


class TestOtherOdooServer(WithOtherOdoo, BaseCase):
    other_companies, other_contacts, other_seed = 4, 12, 7

    def test_sync_user_reads_the_sample_over_jsonrpc_with_its_api_key(self):
        connection = self.other.connection
        self.assertEqual(connection.login, "ihub_sync")
        self.assertTrue(connection.url.startswith("http://127.0.0.1:"))
        rpc = self.other.rpc()
        self.assertEqual(
            rpc.execute(PARTNER, "search_count", [*SAMPLE, ("is_company", "=", True)]), 4
        )
        self.assertEqual(
            rpc.execute(PARTNER, "search_count", [*SAMPLE, ("is_company", "=", False)]), 12
        )
        expected = sample_data(4, 12, seed=7)
        company = expected.companies[0]
        (found,) = rpc.execute(
            PARTNER,
            "search_read",
            [("ref", "=", company["ref"])],
            fields=["name", "email", "country_code", "is_company"],
        )
        self.assertEqual(
            (found["name"], found["email"], found["country_code"], found["is_company"]),
            (company["name"], company["email"], company["country_code"], True),
        )
        contact = expected.contacts[0]
        (found,) = rpc.execute(
            PARTNER,
            "search_read",
            [("ref", "=", contact["ref"])],
            fields=["name", "parent_id", "country_code", "function"],
        )
        self.assertEqual(found["parent_id"][1], expected.companies[contact["parent"]]["name"])
        self.assertEqual(
            (found["name"], found["country_code"], found["function"]),
            (contact["name"], contact["country_code"], contact["function"]),
        )

    def test_a_wrong_key_is_refused(self):
        connection = self.other.connection
        rpc = self.other.rpc(connection.login, "0" * len(connection.api_key))
        with self.assertRaisesRegex(OtherOdooError, "refused"):
            rpc.uid  # noqa: B018 - authenticating is the point

    def test_sync_user_may_edit_contacts_and_nothing_more(self):
        rpc = self.other.rpc()
        (partner_id,) = rpc.execute(PARTNER, "search", SAMPLE, limit=1)
        self.assertTrue(rpc.execute(PARTNER, "has_access", [partner_id], "write"))
        self.assertTrue(rpc.execute(PARTNER, "has_access", [], "create"))
        self.assertFalse(rpc.execute("res.users", "has_access", [], "create"))
        self.assertFalse(rpc.execute("ir.config_parameter", "has_access", [], "read"))


class TestOtherOdooLifecycle(BaseCase):
    def test_touched_contacts_come_up_in_a_write_date_search(self):
        with other_odoo(companies=2, contacts=6, seed=2) as other:
            touch = other.touch(count=2, delete=1)
            rpc = other.rpc()
            changed = rpc.execute(PARTNER, "search", [("write_date", ">", touch.since)], order="id")
            self.assertEqual(changed, touch.written_ids)
            self.assertEqual(len(touch.written_ids), 2)
            functions = rpc.execute(PARTNER, "read", touch.written_ids, ["function"])
            self.assertEqual([p["function"] for p in functions], ["Touched 1", "Touched 2"])
            gone = [("id", "in", touch.deleted_ids), ("active", "in", [True, False])]
            self.assertEqual(len(touch.deleted_ids), 1)
            self.assertEqual(rpc.execute(PARTNER, "search_count", gone), 0)
            self.assertEqual(rpc.execute(PARTNER, "search_count", SAMPLE), 2 + 6 - 1)

    def test_teardown_leaves_no_process_no_database_no_files_even_on_failure(self):
        with self.assertRaisesRegex(RuntimeError, "the test failed"):
            with other_odoo(companies=1, contacts=1) as other:
                pid, database = other.process.pid, other.database
                state_dir = other.runtime.state_dir
                filestore = other._filestore(database)
                self.assertTrue(database_exists(database))
                self.assertTrue(filestore.is_dir())
                self.assertFalse(process_gone(pid))
                raise RuntimeError("the test failed")
        self.assertTrue(process_gone(pid))
        self.assertFalse(database_exists(database))
        self.assertFalse(state_dir.exists())
        self.assertFalse(filestore.exists())


class TestStopRecordedServers(BaseCase):
    def test_a_pid_that_is_not_an_other_odoo_is_left_alone(self):
        # `dev.py stop-db` stops servers a killed `run` left; a stale pid file must not make it
        # signal whatever process got that pid since (here: this test's own process).
        with tempfile.TemporaryDirectory() as state_dir:
            pid_file = Path(state_dir, "ihub_other.pid")
            pid_file.write_text(f"{os.getpid()}\n")
            self.assertEqual(stop_recorded_servers(Path(state_dir)), [])
            self.assertFalse(pid_file.exists())
