"""What a logged-in user can drive over real JSON-RPC (/web/dataset/call_kw): the contract
methods authors write and the helpers iHub adds to every model are refused outside their
checked paths."""

import json

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.ihub.lib import journal


@tagged("post_install", "-at_install")
class TestRpcSurface(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(journal.forget, cls.cr)
        cls.reader = new_test_user(cls.env, login="rpc_reader", groups="ihub.group_ihub_user")
        cls.manager = new_test_user(cls.env, login="rpc_manager", groups="ihub.group_ihub_manager")
        cls.internal = new_test_user(cls.env, login="rpc_internal", groups="base.group_user")
        cls.portal = new_test_user(cls.env, login="rpc_portal", groups="base.group_portal")
        cls.sub = (
            cls.env["ihub.integration.test"]
            .with_user(cls.manager)
            .create({"name": "Exposed", "user_id": cls.manager.id})
        )
        cls.integration = cls.sub.super_id
        cls.parent = (
            cls.env["ihub.integration.test.parent"]
            .with_user(cls.manager)
            .create({"name": "Parent", "child_ids": [Command.link(cls.integration.id)]})
            .super_id
        )
        cls.other_job = cls.env["ihub.job"]._enqueue(cls.integration, "manual")

    def call(self, login, model, method, args, kwargs=None, context=None, refused=False):
        """Call ``model.method`` as ``login``; return (result, error) from the JSON answer.

        ``refused``: the call is expected to fail, which Odoo logs as a warning.
        """
        if refused:
            with self.assertLogs("odoo.http", "WARNING"):
                return self.call(login, model, method, args, kwargs, context)
        self.authenticate(login, login)
        kwargs = dict(kwargs or {})
        if context:
            kwargs["context"] = context
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {"model": model, "method": method, "args": args, "kwargs": kwargs},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        answer = response.json()
        return answer.get("result"), answer.get("error", {}).get("data", {})

    def assertRefused(self, error, exception, message):  # noqa: N802
        self.assertEqual(error.get("name"), f"odoo.exceptions.{exception}", error)
        self.assertIn(message, error.get("message", ""))

    def test_run_from_to_is_refused_outside_the_runner(self):
        _result, error = self.call(
            "rpc_reader",
            "ihub.integration.test",
            "run_from_to",
            [[self.sub.id], "2026-01-01 00:00:00", "2026-01-02 00:00:00"],
            refused=True,
        )
        self.assertRefused(error, "AccessError", "only runs through iHub's runner")
        self.assertFalse(self.sub.calls, "the integration's code did not run")

    def test_events_are_refused_to_users_outside_ihub(self):
        before = self.env["ihub.log"].search_count([])
        for login in ("rpc_portal", "rpc_internal"):
            with self.subTest(login=login):
                _result, error = self.call(
                    login, "res.partner", "ihub_info", [[], "forged"], refused=True
                )
                self.assertRefused(error, "AccessError", "Only iHub users can log")
        self.assertEqual(self.env["ihub.log"].search_count([]), before)

    def test_events_need_read_access_to_their_integration(self):
        _result, error = self.call(
            "rpc_reader",
            "res.partner",
            "ihub_info",
            [[], "allowed"],
            {"integration": self.integration.id},
        )
        self.assertFalse(error)
        self.assertEqual(self.integration.log_ids.summary, "allowed")

    def test_action_dates_are_not_created_by_read_only_users(self):
        _result, error = self.call(
            "rpc_reader",
            "ihub.integration",
            "get_action_date",
            [[self.integration.id], "k"],
            refused=True,
        )
        self.assertRefused(error, "AccessError", "Only the integration's runs and iHub managers")
        self.assertFalse(self.integration.action_date_ids)

    def test_fail_needs_an_ihub_user(self):
        _result, error = self.call(
            "rpc_internal",
            "ihub.integration",
            "fail",
            [[self.integration.id], "forged"],
            refused=True,
        )
        self.assertRefused(error, "AccessError", "Only iHub users can operate")
        self.assertEqual(self.integration.state, "draft")
        _result, error = self.call(
            "rpc_internal", "ihub.integration.test", "fail", [[self.sub.id], "forged"], refused=True
        )
        self.assertTrue(error, "refused on the sub-model too")
        self.assertEqual(self.integration.state, "draft")

    def test_run_children_ignores_a_run_id_from_the_context(self):
        _result, error = self.call(
            "rpc_reader",
            "ihub.integration",
            "run_children",
            [[self.parent.id], False, False],
            context={"ihub_job_id": self.other_job.id},
        )
        self.assertFalse(error)
        fanout = self.integration.job_ids.filtered(lambda j: j.trigger == "fanout")
        self.assertEqual(len(fanout), 1)
        self.assertFalse(fanout.parent_job_id, "not linked to a run named by the caller")

    def test_the_running_job_is_not_reachable_through_the_context(self):
        result, error = self.call(
            "rpc_reader",
            "ihub.integration.test",
            "ihub_job",
            [[self.sub.id]],
            context={"ihub_job_id": self.other_job.id},
        )
        self.assertFalse(error)
        self.assertEqual(result, "ihub.job()", "no run executes: nothing to report progress to")
        _result, error = self.call(
            "rpc_manager",
            "ihub.job",
            "commit_progress",
            [[self.other_job.id], "999"],
            refused=True,
        )
        self.assertRefused(error, "UserError", "is not running in this worker")
        self.assertFalse(self.other_job.checkpoint)

    def test_searching_runs_by_name_answers(self):
        result, error = self.call(
            "rpc_reader", "ihub.job", "name_search", [], {"name": "Exposed", "limit": 5}
        )
        self.assertFalse(error)
        self.assertIn(self.other_job.id, [row[0] for row in result])
        result, _error = self.call(
            "rpc_reader", "ihub.job", "name_search", [], {"name": f"#{self.other_job.id}"}
        )
        self.assertEqual([row[0] for row in result], [self.other_job.id])

    def test_webhook_subscriptions_are_configured_by_managers_only(self):
        # A subscription decides which fields of which model leave Odoo, and to where: that is
        # configuration (managers); an iHub user reads it and operates it (a test event).
        self.integration.allow_private_network = True
        subscription = (
            self.env["ihub.webhook.subscription"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Industries out",
                    "integration_id": self.integration.id,
                    "model_id": self.env.ref("base.model_res_partner_industry").id,
                    "target_url": "http://127.0.0.1:9/hook",
                }
            )
        )
        model = "ihub.webhook.subscription"
        result, error = self.call(
            "rpc_reader", model, "read", [[subscription.id], ["name", "target_url", "active"]]
        )
        self.assertFalse(error)
        self.assertEqual(result[0]["target_url"], "http://127.0.0.1:9/hook")
        refused_calls = {
            "write active": ("write", [[subscription.id], {"active": False}]),
            "write target": ("write", [[subscription.id], {"target_url": "http://127.0.0.1:8/"}]),
            "create": (
                "create",
                [
                    {
                        "name": "Mine",
                        "integration_id": self.integration.id,
                        "model_id": self.env.ref("base.model_res_partner_industry").id,
                        "target_url": "http://127.0.0.1:9/mine",
                    }
                ],
            ),
            "unlink": ("unlink", [[subscription.id]]),
            "new secret": ("action_generate_secret", [[subscription.id]]),
        }
        for name, (method, args) in refused_calls.items():
            with self.subTest(name):
                _result, error = self.call("rpc_reader", model, method, args, refused=True)
                self.assertRefused(error, "AccessError", "not allowed to")
        subscription.invalidate_recordset()
        self.assertEqual(
            (subscription.exists(), subscription.active, subscription.target_url),
            (subscription, True, "http://127.0.0.1:9/hook"),
        )
        self.assertFalse(subscription.credential_id)
        self.assertEqual(self.env[model].search_count([("name", "=", "Mine")]), 0)
        # Operating it is allowed, as Redeliver is on its deliveries.
        _result, error = self.call(
            "rpc_reader", model, "action_send_test_event", [[subscription.id]]
        )
        self.assertFalse(error)
        self.assertEqual(subscription.delivery_ids.mapped("event"), ["test"])
        # A plain internal user does not even read it.
        _result, error = self.call(
            "rpc_internal", model, "read", [[subscription.id], ["target_url"]], refused=True
        )
        self.assertRefused(error, "AccessError", "not allowed to")
        # The manager configures it.
        _result, error = self.call(
            "rpc_manager", model, "write", [[subscription.id], {"active": False}]
        )
        self.assertFalse(error)
        self.assertFalse(subscription.active)

    def test_time_formatting_helpers_are_not_callable(self):
        # They format for a user record given by Python code; over RPC any logged-in user could
        # call them on any model, and a user id in ``user=`` crashed them (the "Oops" dialog).
        calls = {
            "time": [[], "2026-06-01 12:00:00"],
            "period": [[], "2026-06-01 12:00:00", "2026-06-02 12:00:00"],
        }
        for kind, args in calls.items():
            for name in (f"ihub_format_{kind}", f"_ihub_format_{kind}"):
                with self.subTest(name):
                    result, error = self.call(
                        "rpc_portal", "res.partner", name, args, {"user": self.manager.id},
                        refused=True,
                    )  # fmt: skip
                    self.assertIsNone(result)
                    if name.startswith("_"):
                        self.assertRefused(error, "AccessError", "cannot be called remotely")
                    else:
                        self.assertIn("does not exist", error.get("message", ""), error)
