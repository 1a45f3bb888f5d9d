"""External-id mappers: the API integrations use, its cost, and who may use it."""

import json

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.ihub import uninstall_hook
from odoo.addons.ihub.lib import journal
from odoo.addons.ihub.models.ihub_mapper import FORGET_TRIGGER
from odoo.addons.ihub.tests.common import run_integration

from .common import IHubCase


class TestMapper(IHubCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = cls.create_mapper_integration()
        cls.integration = cls.sub.super_id
        cls.partners = cls.env["res.partner"].create([{"name": f"Mapped {i}"} for i in range(4)])

    @classmethod
    def create_mapper_integration(cls, **vals):
        return (
            cls.env["ihub.integration.test.mapper"]
            .with_user(cls.manager)
            .create({"name": "Mapper", "user_id": cls.manager.id, **vals})
        )

    def mapper(self, user=None, integration=None):
        integration = (integration or self.integration).with_user(user or self.manager)
        return integration.ihub_mapper("res.partner")

    def count_queries(self, call, *args):
        """The number of SQL queries ``call(*args)`` sends."""
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        result = call(*args)
        return self.env.cr.sql_log_count - before, result

    def insert_partners(self, count):
        """``count`` new partners, inserted in one statement (the ORM would take minutes)."""
        self.env.cr.execute(
            """
            INSERT INTO res_partner (name, complete_name, active, type, create_date, write_date)
            SELECT 'Bulk ' || n, 'Bulk ' || n, TRUE, 'contact', now(), now()
              FROM generate_series(1, %s) n
         RETURNING id
            """,
            [count],
        )
        return self.env["res.partner"].browse(row[0] for row in self.env.cr.fetchall())

    # ---- The API

    def test_bind_then_resolve_both_ways(self):
        mapper = self.mapper()
        first, second = self.partners[:2]
        mapper.bind("A1", first, "etag-1")
        mapper.bind(42, second)  # integers are stored as strings
        self.assertEqual(mapper.record("A1"), first)
        self.assertEqual(mapper.record(42), second)
        self.assertEqual(mapper.record("42"), second)
        unknown = mapper.record("nope")
        self.assertEqual((unknown._name, len(unknown)), ("res.partner", 0))
        self.assertEqual(mapper.records(["A1", "42", "nope"]), {"A1": first, "42": second})
        self.assertEqual(mapper.external_id(first), "A1")
        self.assertEqual(mapper.external_id(second.id), "42")
        self.assertIsNone(mapper.external_id(self.partners[2]))
        self.assertEqual(mapper.external_ids(self.partners), {first.id: "A1", second.id: "42"})
        self.assertEqual(mapper.hashes(["A1", "42", "nope"]), {"A1": "etag-1", "42": None})
        row = self.env["ihub.mapper"].search(
            [("integration_id", "=", self.integration.id), ("external_id", "=", "A1")]
        )
        self.assertEqual(
            (row.res_model, row.res_id, row.record_ref), ("res.partner", first.id, first)
        )
        self.assertTrue(row.sync_date)
        self.assertEqual(row.company_id, self.integration.company_id)

    def test_records_come_back_in_the_callers_env(self):
        self.mapper().bind("A1", self.partners[0])
        record = self.mapper(user=self.ihub_user).record("A1")
        self.assertEqual(record.env.uid, self.ihub_user.id)
        self.assertFalse(record.env.su)

    def test_bind_is_idempotent_and_moves_bindings(self):
        mapper = self.mapper()
        first, second, third = self.partners[:3]
        mapper.bind("A1", first, "h1")
        mapper.bind("A1", first)  # again, no hash: keeps the stored one
        self.assertEqual(mapper.hashes(["A1"]), {"A1": "h1"})
        mapper.bind("A1", second)  # the external id now stands for another record
        self.assertEqual(mapper.record("A1"), second)
        self.assertIsNone(mapper.external_id(first))
        self.assertEqual(mapper.hashes(["A1"]), {"A1": None}, "a moved binding loses its hash")
        mapper.bind("B2", second)  # the record gets another external id: A1 goes
        self.assertFalse(mapper.record("A1"))
        self.assertEqual(mapper.external_id(second), "B2")
        mapper.bind_many([("A1", second), ("B2", third)])  # both move in one statement
        self.assertEqual(mapper.records(["A1", "B2"]), {"A1": second, "B2": third})
        self.assertEqual(
            self.env["ihub.mapper"].search_count([("integration_id", "=", self.integration.id)]),
            2,
        )

    def test_bind_many_swaps_and_last_pair_wins(self):
        mapper = self.mapper()
        first, second, third = self.partners[:3]
        mapper.bind_many([("A", first, "ha"), ("B", second.id, "hb")])
        mapper.bind_many([("A", second), ("B", first)])
        self.assertEqual(mapper.records(["A", "B"]), {"A": second, "B": first})
        mapper.bind_many([("C", third), ("C", first), ("D", first)])
        self.assertEqual(mapper.records(["A", "B", "C", "D"]), {"A": second, "D": first})
        mapper.bind_many([])

    def test_unbind(self):
        mapper = self.mapper()
        first, second, third = self.partners[:3]
        mapper.bind_many([("A", first), ("B", second), ("C", third)])
        self.assertEqual(mapper.unbind(external_id="A"), 1)
        self.assertEqual(mapper.unbind(record=second), 1)
        self.assertEqual(mapper.unbind(external_id="C", record=first), 0, "not that pair")
        self.assertEqual(mapper.unbind(external_id="C", record=third.id), 1)
        self.assertEqual(mapper.unbind(external_id="missing"), 0)
        self.assertEqual(mapper.records(["A", "B", "C"]), {})
        with self.assertRaises(ValueError):
            mapper.unbind()

    def test_mappers_are_per_integration_and_model(self):
        other = self.create_mapper_integration(name="Other").super_id
        partner = self.partners[0]
        self.mapper().bind("A1", partner)
        self.mapper(integration=other).bind("Z9", partner)
        self.integration.ihub_mapper("res.users").bind("A1", self.ihub_user)
        self.assertEqual(self.mapper().record("A1"), partner)
        self.assertEqual(self.mapper(integration=other).external_id(partner), "Z9")
        self.assertEqual(self.integration.ihub_mapper("res.users").record("A1"), self.ihub_user)
        self.assertFalse(self.mapper(integration=other).record("A1"))

    def test_the_sub_record_offers_the_same_mapper(self):
        self.sub.with_user(self.manager).ihub_mapper("res.partner").bind("S1", self.partners[0])
        self.assertEqual(self.mapper().record("S1"), self.partners[0])
        mapping = self.env["ihub.mapper"].search([("external_id", "=", "S1")])
        self.assertEqual(mapping.integration_id, self.integration, "stored on the super")

    def test_wrong_arguments_are_refused(self):
        mapper = self.mapper()
        for bad in (None, "", True, 1.5, b"x"):
            with self.subTest(external_id=bad), self.assertRaises(ValueError):
                mapper.record(bad)
        with self.assertRaises(ValueError):
            mapper.bind("A", self.ihub_user)  # a user is not a partner
        with self.assertRaises(ValueError):
            mapper.records("A1")  # one string is not a list of ids
        with self.assertRaises(ValueError):
            self.integration.ihub_mapper("no.such.model")

    # ---- Uniqueness

    @mute_logger("odoo.sql_db")
    def test_sql_keeps_one_binding_per_external_id_and_per_record(self):
        Mapping = self.env["ihub.mapper"].with_user(self.manager)
        vals = {
            "integration_id": self.integration.id,
            "res_model": "res.partner",
            "res_id": self.partners[0].id,
            "external_id": "A1",
        }
        Mapping.create(vals)
        for duplicate in ({"res_id": self.partners[1].id}, {"external_id": "A2"}):
            with self.subTest(duplicate=duplicate), self.assertRaises(psycopg2.IntegrityError):
                Mapping.create({**vals, **duplicate})
        # Another model or another integration may use the same pair.
        Mapping.create({**vals, "res_model": "res.users"})
        other = self.create_mapper_integration(name="Other")
        Mapping.create({**vals, "integration_id": other})  # a sub-record: stored as its super
        self.assertEqual(
            Mapping.search([("external_id", "=", "A1")]).integration_id,
            self.integration | other.super_id,
        )

    def test_only_models_with_records_can_be_mapped(self):
        with self.assertRaises(ValidationError):
            self.env["ihub.mapper"].with_user(self.manager).create(
                {
                    "integration_id": self.integration.id,
                    "res_model": "no.such.model",
                    "res_id": 1,
                    "external_id": "A1",
                }
            )

    # ---- Deleted records

    def test_a_deleted_record_resolves_to_nothing_and_its_binding_goes(self):
        mapper = self.mapper()
        doomed, kept = self.env["res.partner"].create([{"name": "Doomed"}, {"name": "Kept"}])
        mapper.bind_many([("D", doomed, "hd"), ("K", kept, "hk")])
        doomed.unlink()
        self.assertEqual(mapper.hashes(["D", "K"]), {"K": "hk"}, "not 'unchanged': recreate it")
        self.assertEqual(mapper.records(["D", "K"]), {"K": kept})
        self.assertFalse(mapper.record("D"))
        self.assertFalse(
            self.env["ihub.mapper"].search([("external_id", "=", "D")]), "removed when met"
        )
        # Bound again later, as an importer re-creating it would.
        new = self.env["res.partner"].create({"name": "Reborn"})
        mapper.bind("D", new)
        self.assertEqual(mapper.record("D"), new)

    def test_bindings_of_deleted_rows_go_with_them_whoever_deletes_them(self):
        # This transaction never wrote bank accounts: the first mapper adds the delete trigger.
        mapper = self.integration.with_user(self.manager).ihub_mapper("res.partner.bank")
        self.assertTrue(mapper._exact)
        holder = self.env["res.partner"].create({"name": "Holder"})
        accounts = self.env["res.partner.bank"].create(
            [
                {"acc_number": "A-1", "partner_id": holder.id},
                {"acc_number": "B-2", "partner_id": self.partners[0].id},
                {"acc_number": "C-3", "partner_id": self.partners[1].id},
            ]
        )
        mapper.bind_many([("A", accounts[0]), ("B", accounts[1]), ("C", accounts[2])])
        bindings = self.env["ihub.mapper"].search([("res_model", "=", "res.partner.bank")])
        self.assertEqual(len(bindings), 3)

        accounts[1].unlink()  # by the ORM
        # By PostgreSQL: the account's foreign key to its holder is ON DELETE CASCADE.
        holder.unlink()
        self.env.cr.execute("DELETE FROM res_partner_bank WHERE id = %s", [accounts[2].id])
        self.assertFalse(bindings.exists(), "each binding went with its record")
        queries, found = self.count_queries(mapper.records, ["A", "B", "C"])
        self.assertEqual(found, {})
        self.assertEqual(queries, 1)

    def test_uninstalling_ihub_drops_its_triggers(self):
        self.integration.with_user(self.manager).ihub_mapper("res.partner.bank")
        uninstall_hook(self.env)
        self.env.cr.execute("SELECT count(*) FROM pg_trigger WHERE tgname = %s", [FORGET_TRIGGER])
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        account = self.env["res.partner.bank"].create(
            {"acc_number": "Z-9", "partner_id": self.partners[0].id}
        )
        account.unlink()  # the table works without them
        self.assertFalse(account.exists())

    def test_without_the_trigger_lookups_check_each_record(self):
        # Another test may have added the trigger for real; this one is rolled back.
        self.env.cr.execute("DROP TRIGGER IF EXISTS ihub_mapper_forget_deleted ON res_partner")
        # This transaction wrote partners (setUpClass): adding the trigger would wait for it.
        mapper = self.mapper()
        self.assertFalse(mapper._exact)
        doomed = self.env["res.partner"].create({"name": "Doomed"})
        mapper.bind_many([("D", doomed), ("K", self.partners[0])])
        self.env.cr.execute("DELETE FROM res_partner WHERE id = %s", [doomed.id])
        self.assertEqual(mapper.records(["D", "K"]), {"K": self.partners[0]})

    def test_the_scheduled_action_removes_bindings_nobody_looks_up(self):
        mapper = self.mapper()
        doomed = self.env["res.partner"].create({"name": "Doomed"})
        mapper.bind_many([("D", doomed), ("K", self.partners[0])])
        mapping = self.env["ihub.mapper"].search([("external_id", "=", "D")])
        doomed.unlink()
        self.assertFalse(mapping.record_ref, "the list shows no record")
        self.env.ref("ihub.ir_cron_remove_dead_mappings").sudo().method_direct_trigger()
        self.assertFalse(mapping.exists())
        self.assertEqual(mapper.records(["D", "K"]), {"K": self.partners[0]})

    # ---- Cost

    def test_bulk_calls_cost_the_same_for_10_and_10000_ids(self):
        partners = self.insert_partners(10_000)
        mapper = self.mapper()
        # The first write of a transaction also reads the user's groups and the time once.
        mapper.bind("warm-up", partners[0])
        mapper.unbind("warm-up")
        queries = {}
        for size in (10, 10_000):
            batch = partners[:size]
            external_ids = [f"X{partner.id}" for partner in batch]
            pairs = [(f"X{partner.id}", partner.id, "h") for partner in batch]
            calls = {
                "bind_many": (mapper.bind_many, pairs),
                "records": (mapper.records, external_ids),
                "hashes": (mapper.hashes, external_ids),
                "external_ids": (mapper.external_ids, batch),
            }
            for name, (call, argument) in calls.items():
                count, result = self.count_queries(call, argument)
                if name == "bind_many":
                    # What autovacuum does after a bulk insert: without statistics the planner
                    # took the new rows for none and scanned them for each id (30 s, the same
                    # single query).
                    self.env.cr.execute("ANALYZE ihub_mapper, res_partner")
                queries[name, size] = count
                if result is not None:
                    self.assertEqual(len(result), size, name)
        for name in ("bind_many", "records", "hashes", "external_ids"):
            with self.subTest(call=name):
                self.assertEqual(queries[name, 10], 1, "one query")
                self.assertEqual(queries[name, 10_000], 1, "one query")

    # ---- Who may use it

    def test_a_user_reads_mappings_but_writes_none_outside_a_run(self):
        self.mapper().bind("A1", self.partners[0])
        mapper = self.mapper(user=self.ihub_user)
        self.assertEqual(mapper.record("A1"), self.partners[0])
        self.assertEqual(mapper.external_id(self.partners[0]), "A1")
        for call, args in (
            (mapper.bind, ("A2", self.partners[1])),
            (mapper.bind_many, ([("A2", self.partners[1])],)),
            (mapper.unbind, ("A1",)),
        ):
            with self.subTest(call=call.__name__), self.assertRaises(AccessError):
                call(*args)
        # Nor through the ORM (what RPC calls reach).
        Mapping = self.env["ihub.mapper"].with_user(self.ihub_user)
        mapping = Mapping.search([("external_id", "=", "A1")])
        self.assertEqual(mapping.res_id, self.partners[0].id)
        with self.assertRaises(AccessError):
            mapping.external_id = "changed"
        with self.assertRaises(AccessError):
            mapping.unlink()
        with self.assertRaises(AccessError):
            Mapping.create(
                {
                    "integration_id": self.integration.id,
                    "res_model": "res.partner",
                    "res_id": self.partners[1].id,
                    "external_id": "A2",
                }
            )
        self.assertEqual(self.mapper().records(["A1", "A2"]), {"A1": self.partners[0]})

    def test_a_manager_corrects_mappings_in_the_ui(self):
        self.mapper().bind("A1", self.partners[0])
        mapping = (
            self.env["ihub.mapper"].with_user(self.manager).search([("external_id", "=", "A1")])
        )
        mapping.res_id = self.partners[1].id
        self.assertEqual(self.mapper().record("A1"), self.partners[1], "the mapper sees the edit")
        action = mapping.action_open_record()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("res.partner", self.partners[1].id)
        )
        mapping.unlink()
        self.assertFalse(self.mapper().record("A1"))

    def test_a_run_binds_as_its_plain_ihub_user(self):
        self.sub.sudo().write(
            {"partner_ids": [Command.set(self.partners[:2].ids)], "run_user_id": self.ihub_user.id}
        )
        self.mapper().bind("gone", self.partners[3])
        job = run_integration(self.integration.with_user(self.ihub_user))
        self.assertEqual(job.state, "done", job.error_message)
        first, second = self.partners[:2]
        self.assertEqual(self.sub.result, f"P{first.id}={first.id} P{second.id}={second.id}")
        mapper = self.mapper(user=self.ihub_user)
        self.assertEqual(
            mapper.external_ids(self.partners), {p.id: f"P{p.id}" for p in (first, second)}
        )
        self.assertFalse(mapper.record("gone"))
        rows = self.env["ihub.mapper"].search([("integration_id", "=", self.integration.id)])
        self.assertEqual(rows.create_uid, self.ihub_user, "written on the run user's behalf")

    def test_a_run_of_another_integration_cannot_bind_for_this_one(self):
        other = self.create_mapper_integration(name="Other")
        other.sudo().write(
            {
                "partner_ids": [Command.set(self.partners[:1].ids)],
                "run_user_id": self.ihub_user.id,
                "bind_for_id": self.integration.id,
            }
        )
        job = run_integration(other.super_id.with_user(self.ihub_user))
        self.assertNotEqual(job.state, "done")
        self.assertIn("Only the runs of", job.error_message)
        self.assertFalse(self.mapper().record("stolen"))

    def test_company_visibility_follows_the_integration(self):
        other_company_user = new_test_user(
            self.env,
            login="ihub_mapper_other",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set(self.other_company.ids)],
            company_id=self.other_company.id,
        )
        elsewhere = self.create_mapper_integration(
            name="Elsewhere", company_id=self.other_company.id
        )
        self.mapper(integration=elsewhere.super_id).bind("E1", self.partners[0])
        self.mapper().bind("H1", self.partners[1])
        Mapping = self.env["ihub.mapper"]
        home_only = new_test_user(
            self.env,
            login="ihub_mapper_home",
            groups="ihub.group_ihub_user",
            company_ids=[Command.set(self.company.ids)],
            company_id=self.company.id,
        )
        self.assertEqual(
            Mapping.with_user(home_only)
            .search([("external_id", "in", ["E1", "H1"])])
            .mapped("external_id"),
            ["H1"],
        )
        self.assertEqual(
            Mapping.with_user(other_company_user)
            .search([("external_id", "in", ["E1", "H1"])])
            .mapped("external_id"),
            ["E1"],
        )
        with self.assertRaises(AccessError):
            self.mapper(user=home_only, integration=elsewhere.super_id)
        self.assertEqual(
            self.mapper(user=other_company_user, integration=elsewhere.super_id).record("E1"),
            self.partners[0],
        )

    def test_the_form_counts_and_opens_the_external_ids(self):
        self.mapper().bind_many([("A", self.partners[0]), ("B", self.partners[1])])
        integration = self.integration.with_user(self.ihub_user)
        self.assertEqual((integration.mapper_count, integration.mapper_count_label), (2, "2"))
        action = integration.action_open_mappers()
        self.assertEqual(action["res_model"], "ihub.mapper")
        self.assertEqual(action["context"]["search_default_integration_id"], self.integration.id)


@tagged("post_install", "-at_install")
class TestMapperRpc(HttpCase):
    """Over real JSON-RPC, a plain iHub user reads external ids and changes none."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(journal.forget, cls.cr)
        cls.reader = new_test_user(
            cls.env, login="mapper_rpc_reader", groups="ihub.group_ihub_user"
        )
        manager = new_test_user(
            cls.env, login="mapper_rpc_manager", groups="ihub.group_ihub_manager"
        )
        sub = (
            cls.env["ihub.integration.test.mapper"]
            .with_user(manager)
            .create({"name": "Over RPC", "user_id": manager.id})
        )
        cls.partner = cls.env["res.partner"].create({"name": "Bound"})
        sub.super_id.with_user(manager).ihub_mapper("res.partner").bind("R1", cls.partner)
        cls.mapping = cls.env["ihub.mapper"].search([("integration_id", "=", sub.super_id.id)])

    def call(self, method, args, kwargs=None):
        self.authenticate("mapper_rpc_reader", "mapper_rpc_reader")
        payload = {"model": "ihub.mapper", "method": method, "args": args, "kwargs": kwargs or {}}
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": payload}),
            headers={"Content-Type": "application/json"},
        )
        answer = response.json()
        return answer.get("result"), answer.get("error", {}).get("data", {})

    def test_read_but_not_write(self):
        result, error = self.call("search_read", [[("id", "=", self.mapping.id)], ["external_id"]])
        self.assertFalse(error)
        self.assertEqual(result, [{"id": self.mapping.id, "external_id": "R1"}])
        for method, args in (
            ("write", [[self.mapping.id], {"external_id": "R2"}]),
            ("unlink", [[self.mapping.id]]),
            (
                "create",
                [
                    {
                        "integration_id": self.mapping.integration_id.id,
                        "res_model": "res.partner",
                        "res_id": self.partner.id,
                        "external_id": "R3",
                    }
                ],
            ),
        ):
            with self.subTest(method=method), self.assertLogs("odoo.http", "WARNING"):
                _result, error = self.call(method, args)
            self.assertEqual(error.get("name"), "odoo.exceptions.AccessError", error)
        self.assertEqual(self.mapping.external_id, "R1")
