"""iHub's REST API over real HTTP: keys, companies, permissions, parameters, quota, audit."""

import ast

from lxml import etree
from openapi_spec_validator import validate

from odoo import sql_db
from odoo.tests import TransactionCase, tagged

from odoo.addons.ihub.lib import api
from odoo.addons.ihub.models.ihub_rate import IHubRate

from .api_common import API, ApiCase


@tagged("post_install", "-at_install")
class TestApiAuth(ApiCase):
    def test_a_missing_or_bad_key_is_a_401_envelope(self):
        for key in (None, "not-a-key", self.keys["api_user"][:-1] + "x"):
            with self.subTest(key=key):
                response = self.call("GET", "/integrations", login=None, key=key)
                self.assertError(response, 401, "unauthorized")
                self.assertEqual(response.headers["WWW-Authenticate"], 'Bearer realm="ihub"')
        response = self.call(
            "GET", "/integrations", login=None, headers={"Authorization": "Basic YTpi"}
        )
        self.assertError(response, 401, "unauthorized")

    def test_a_browser_session_is_no_key(self):
        self.authenticate("api_manager", "api_manager")
        self.assertError(self.call("GET", "/integrations", login=None), 401, "unauthorized")

    def test_a_revoked_key_is_refused(self):
        key = self.new_key(self.user, "to revoke")
        self.assertEqual(self.call("GET", "/integrations", key=key).status_code, 200)
        # What "Revoke" in the user's preferences does.
        self.env["res.users.apikeys"].search([("name", "=", "to revoke")]).with_user(
            self.user
        )._remove()
        self.assertError(self.call("GET", "/integrations", key=key), 401, "unauthorized")

    def test_a_key_of_another_scope_is_refused(self):
        key = self.env["res.users.apikeys"].with_user(self.user).sudo()._generate("rpc", "r", None)
        self.assertError(self.call("GET", "/integrations", key=key), 401)


@tagged("post_install", "-at_install")
class TestApiAccess(ApiCase):
    def runs_filter(self, name):
        """The domain of the Runs list's search filter ``name``, as the user's view has it."""
        views = self.env["ihub.job"].with_user(self.user).get_views([(False, "search")])
        arch = etree.fromstring(views["views"]["search"]["arch"])
        (node,) = arch.xpath(f"//filter[@name='{name}']")
        return ast.literal_eval(node.get("domain"))

    def test_a_key_of_company_b_does_not_see_company_a(self):
        job_a = self.env["ihub.job"]._enqueue(self.integration_a, "manual")
        listed = self.call("GET", "/integrations", login="api_user_b").json()
        self.assertEqual([i["id"] for i in listed["data"]], [self.integration_b.id])
        self.assertEqual(listed["meta"]["total"], 1)
        for method, path in [
            ("GET", f"/integrations/{self.integration_a.id}"),
            ("POST", f"/integrations/{self.integration_a.id}/start"),
            ("POST", f"/integrations/{self.integration_a.id}/stop"),
            ("POST", f"/integrations/{self.integration_a.id}/runs"),
            ("GET", f"/jobs/{job_a.id}"),
        ]:
            with self.subTest(method=method, path=path):
                self.assertError(self.call(method, path, login="api_user_b"), 404, "not_found")
        self.assertEqual(self.integration_a.state, "draft", "nothing was started")
        self.assertEqual(self.integration_a.job_ids, job_a, "nothing was queued")
        jobs = self.call(
            "GET", "/jobs", login="api_user_b", params={"integration_id": self.integration_a.id}
        ).json()
        self.assertEqual((jobs["data"], jobs["meta"]["total"]), ([], 0))

    def test_users_outside_ihub_are_refused(self):
        for path in ("/integrations", f"/integrations/{self.integration_a.id}", "/jobs"):
            with self.subTest(path=path):
                self.assertError(self.call("GET", path, login="api_internal"), 403, "forbidden")

    def test_an_ihub_user_operates_integrations_as_themselves(self):
        integration = self.integration_a
        response = self.call("POST", f"/integrations/{integration.id}/start")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["data"]["state"], "active")
        self.assertEqual(integration.state, "active")
        response = self.call(
            "POST",
            f"/integrations/{integration.id}/runs",
            json={"date_from": "2026-05-01T00:00:00Z", "date_to": "2026-05-02T00:00:00+02:00"},
        )
        self.assertEqual(response.status_code, 202, response.text)
        job = self.env["ihub.job"].browse(response.json()["data"]["id"])
        self.assertEqual(response.headers["Location"], f"{API}/jobs/{job.id}")
        # Told apart from Run Manually in the Runs list (filter "API", group by trigger).
        self.assertEqual((job.state, job.user_id, job.trigger), ("pending", self.user, "api"))
        self.assertEqual(response.json()["data"]["trigger"], "api")
        self.assertEqual(
            (str(job.date_from), str(job.date_to)), ("2026-05-01 00:00:00", "2026-05-01 22:00:00")
        )
        api_runs = self.env["ihub.job"].with_user(self.user).search(self.runs_filter("api"))
        self.assertEqual(api_runs, job)
        self.assertEqual(response.json()["data"]["date_to"], "2026-05-01T22:00:00Z")
        response = self.call("POST", f"/integrations/{integration.id}/stop")
        self.assertEqual(response.json()["data"]["state"], "stopped")
        read = self.call("GET", f"/integrations/{integration.id}").json()["data"]
        self.assertEqual(read["last_run"]["id"], job.id)
        self.assertEqual((read["type"], read["health"]), ("ihub.integration.test", "ok"))

    def test_a_dead_letter_is_replayed_by_its_operators_only(self):
        dead = self.env["ihub.webhook.event"].create(
            [
                {
                    "integration_id": integration.id,
                    "delivery_id": f"msg_dead_{integration.id}",
                    "state": "dead",
                    "attempts": 5,
                    "payload_raw": "{}",
                    "payload": {},
                }
                for integration in (self.integration_a, self.integration_b)
            ]
        )
        response = self.call("POST", f"/webhook-events/{dead[0].id}/replay")
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["data"]["state"], "received")
        self.assertEqual((dead[0].state, dead[0].attempts), ("received", 0))
        lane_job = self.env["ihub.job"].search(
            [("integration_id", "=", self.integration_a.id), ("lane", "=", "webhook")]
        )
        self.assertEqual(lane_job.state, "pending", "queued for processing")
        # Company B's dead letter is not this key's to see.
        self.assertError(self.call("POST", f"/webhook-events/{dead[1].id}/replay"), 404)
        self.assertEqual(dead[1].state, "dead")

    def test_events_of_no_integration_are_for_managers(self):
        event = self.env["ihub.log"].create({"summary": "system event", "level": "warning"})
        self.assertError(self.call("GET", f"/events/{event.id}"), 404)
        response = self.call("GET", f"/events/{event.id}", login="api_manager")
        self.assertEqual(response.json()["data"]["summary"], "system event")

    def test_refusals_of_the_model_are_409(self):
        passive = (
            self.env["ihub.integration.test.passive"]
            .with_user(self.manager)
            .create({"name": "Passive"})
            .super_id
        )
        error = self.assertError(self.call("POST", f"/integrations/{passive.id}/start"), 409)
        self.assertIn("does not run on a schedule", error["message"])
        error = self.assertError(self.call("POST", f"/integrations/{passive.id}/runs"), 409)
        self.assertIn("cannot be run manually", error["message"])


@tagged("post_install", "-at_install")
class TestApiTypeEndpoints(ApiCase):
    def test_a_type_serves_its_own_operations(self):
        self.integration_a.sub_id.setting = "value"
        path = f"/integrations/{self.integration_a.id}/test/setting"
        response = self.call("GET", path, params={"upper": "true"})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"data": {"setting": "VALUE"}, "meta": {}})
        self.assertError(self.call("GET", path, params={"upper": "1"}), 422, field="upper")
        self.assertError(self.call("GET", path, params={"lower": "true"}), 400, field="lower")
        self.assertError(self.call("GET", path, login="api_user_b"), 404)

    def test_only_for_integrations_of_that_type(self):
        passive = (
            self.env["ihub.integration.test.passive"]
            .with_user(self.manager)
            .create({"name": "Passive"})
            .super_id
        )
        self.assertError(self.call("GET", f"/integrations/{passive.id}/test/setting"), 404)

    def test_they_are_documented(self):
        document = self.call("GET", "/openapi.json", login=None).json()
        operation = document["paths"]["/integrations/{id}/test/setting"]["get"]
        self.assertEqual(operation["operationId"], "getTestSetting")
        self.assertEqual(operation["tags"], ["Test Integration"])


@tagged("post_install", "-at_install")
class TestApiParameters(ApiCase):
    def test_pages(self):
        Sub = self.env["ihub.integration.test"].with_user(self.manager)
        for number in range(3):
            Sub.create({"name": f"API page {number}", "user_id": self.manager.id})
        total = self.env["ihub.integration"].with_user(self.user).search_count([])
        first = self.call("GET", "/integrations", params={"per_page": 2}).json()
        self.assertEqual(first["meta"], {"page": 1, "per_page": 2, "total": total})
        self.assertEqual(len(first["data"]), 2)
        last_page = (total + 1) // 2
        last = self.call("GET", "/integrations", params={"per_page": 2, "page": last_page})
        self.assertEqual(len(last.json()["data"]), total - 2 * (last_page - 1))
        beyond = self.call("GET", "/integrations", params={"per_page": 2, "page": last_page + 1})
        self.assertEqual(beyond.json()["data"], [])
        default = self.call("GET", "/integrations").json()["meta"]
        self.assertEqual(default["per_page"], api.DEFAULT_PER_PAGE)

    def test_per_page_is_capped(self):
        response = self.call("GET", "/jobs", params={"per_page": api.MAX_PER_PAGE + 1})
        self.assertError(response, 422, "invalid_parameter", field="per_page")
        self.assertError(self.call("GET", "/jobs", params={"page": 0}), 422, field="page")

    def test_unknown_parameters_are_400(self):
        response = self.call("GET", "/integrations", params={"stat": "active"})
        self.assertError(response, 400, "unknown_parameter", field="stat")

    def test_invalid_values_are_422_naming_the_field(self):
        for path, params, field in [
            ("/integrations", {"state": "running"}, "state"),
            ("/jobs", {"since": "last week"}, "since"),
            ("/events", {"integration_id": "A"}, "integration_id"),
            ("/events", {"level": "debug"}, "level"),
        ]:
            with self.subTest(path=path, params=params):
                self.assertError(self.call("GET", path, params=params), 422, field=field)
        run = f"/integrations/{self.integration_a.id}/runs"
        for body, field in [
            ({"date_from": "2026-05-02T00:00:00Z", "date_to": "2026-05-01T00:00:00Z"}, "date_to"),
            ({"date_from": "2026-05-02T00:00:00Z"}, "date_to"),
            ({"dry_run": "yes"}, "dry_run"),
            ({"period": "today"}, "period"),
        ]:
            with self.subTest(body=body):
                self.assertError(self.call("POST", run, json=body), 422, field=field)
        self.assertFalse(self.integration_a.job_ids, "nothing was queued")

    def test_filters(self):
        job = self.env["ihub.job"]._enqueue(self.integration_a, "manual")
        self.env["ihub.job"]._enqueue(self.integration_b, "manual")
        self.integration_a.ihub_warning("a warning", integration=self.integration_a)
        params = {"integration_id": self.integration_a.id, "state": "pending"}
        found = self.call("GET", "/jobs", login="api_manager", params=params).json()
        self.assertEqual([j["id"] for j in found["data"]], [job.id])
        found = self.call(
            "GET", "/jobs", login="api_manager", params={"since": "2999-01-01T00:00:00Z"}
        )
        self.assertEqual(found.json()["data"], [])
        events = self.call(
            "GET", "/events", params={"integration_id": self.integration_a.id, "level": "warning"}
        ).json()
        self.assertEqual([e["summary"] for e in events["data"]], ["a warning"])

    def test_bodies(self):
        run = f"/integrations/{self.integration_a.id}/runs"
        response = self.call(
            "POST", run, data="date_from=x", headers={"Content-Type": "text/plain"}
        )
        self.assertError(response, 415, "unsupported_media_type")
        response = self.call(
            "POST", run, data="{not json", headers={"Content-Type": "application/json"}
        )
        self.assertError(response, 400, "malformed_json")
        self.env["ir.config_parameter"].set_param("ihub.api_max_body_bytes", "100")
        response = self.call("POST", run, json={"date_from": "2026-05-01T00:00:00Z" + " " * 100})
        self.assertError(response, 413, "too_large")
        self.assertFalse(self.integration_a.job_ids, "nothing was queued")

    def test_unknown_paths_and_methods(self):
        self.assertError(self.call("GET", "/nothing"), 404, "not_found")
        self.assertError(self.call("GET", "/integrations/abc"), 404, "not_found")
        response = self.call("DELETE", f"/integrations/{self.integration_a.id}")
        self.assertError(response, 405, "method_not_allowed")
        self.assertEqual(response.headers["Allow"], "GET")


@tagged("post_install", "-at_install")
class TestApiQuotaAndAudit(ApiCase):
    def test_rate_limit_headers_and_429(self):
        self.env["ir.config_parameter"].set_param("ihub.api_rate_limit", "3")
        remaining = []
        for _i in range(3):
            response = self.call("GET", "/integrations")
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["RateLimit-Limit"], "3")
            self.assertNotIn("Retry-After", response.headers)
            remaining.append(response.headers["RateLimit-Remaining"])
        self.assertEqual(remaining, ["2", "1", "0"])
        refused = self.call("GET", "/integrations")
        self.assertError(refused, 429, "rate_limited")
        self.assertEqual(refused.headers["RateLimit-Remaining"], "0")
        self.assertGreaterEqual(int(refused.headers["Retry-After"]), 1)
        # The quota is the key's: another key of the same system is not slowed down.
        self.assertEqual(self.call("GET", "/integrations", login="api_manager").status_code, 200)

    def test_every_call_is_audited(self):
        Call = self.env["ihub.api.call"]
        before = Call.search([], order="id desc", limit=1).id or 0
        self.call("GET", "/integrations", params={"state": "active"})
        self.call("GET", "/integrations", login=None, key="bad")
        self.call("GET", f"/integrations/{self.integration_a.id}", login="api_user_b")
        self.call("GET", "/openapi.json", login=None)
        calls = Call.search([("id", ">", before)], order="id")
        self.assertEqual(
            [(c.user_id, c.key_name, c.method, c.path, c.status, c.error_code) for c in calls],
            [
                (self.user, "test key", "GET", f"{API}/integrations", 200, False),
                (self.env["res.users"], False, "GET", f"{API}/integrations", 401, "unauthorized"),
                (
                    self.user_b,
                    "test key",
                    "GET",
                    f"{API}/integrations/{self.integration_a.id}",
                    404,
                    "not_found",
                ),
                (self.env["res.users"], False, "GET", f"{API}/openapi.json", 200, False),
            ],
        )
        self.assertEqual(calls[0].query, "state=active")
        # Only managers read the audit trail.
        self.assertTrue(Call.with_user(self.manager).search_count([("id", "in", calls.ids)]))
        self.assertFalse(Call.with_user(self.user).has_access("read"))

    def test_old_calls_are_purged(self):
        Call = self.env["ihub.api.call"]
        old = Call._ihub_record({"method": "GET", "path": "/old", "status": 200})
        old.date = "2020-01-01 00:00:00"
        recent = Call._ihub_record({"method": "GET", "path": "/new", "status": 200})
        Call._gc_api_calls()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())


@tagged("post_install", "-at_install")
class TestApiQuotaIsShared(TransactionCase):
    """Workers and servers each have their own database connection: they share one count."""

    def test_connections_spend_the_same_quota(self):
        database = sql_db.db_connect(self.env.cr.dbname)
        key_id = -42  # no API key has it; the row is removed below

        def take():
            with database.cursor() as cr:  # a connection of its own, committed at the end
                return IHubRate._ihub_take_in(cr, "api", key_id, 2, 3600)

        def forget():
            with database.cursor() as cr:
                cr.execute("DELETE FROM ihub_rate WHERE scope = 'api' AND key = %s", (key_id,))

        forget()
        self.addCleanup(forget)
        self.assertEqual([take().allowed for _i in range(3)], [True, True, False])


@tagged("post_install", "-at_install")
class TestApiDocument(ApiCase):
    def test_the_document_is_valid_and_matches_the_routes(self):
        response = self.call("GET", "/openapi.json", login=None)
        self.assertEqual(response.status_code, 200)
        document = response.json()
        validate(document)
        self.assertEqual(document["openapi"], "3.1.0")
        operations = {
            (method.upper(), path)
            for path, by_method in document["paths"].items()
            for method in by_method
        }
        self.assertIn(("POST", "/integrations/{id}/runs"), operations)
        self.assertIn(("GET", "/events"), operations)
        # Each documented operation is served: with its path filled in, none is a 404 or 405
        # for want of a route (only for want of a record).
        for method, path in operations - {("GET", "/openapi.json")}:
            filled = path.replace("{id}", str(self.integration_a.id))
            with self.subTest(method=method, path=path):
                response = self.call(method, filled, login="api_manager")
                self.assertNotIn(response.status_code, (405, 500), response.text)
                if response.status_code == 404:
                    self.assertEqual(response.json()["error"]["message"], api.not_found().message)
        # Replaying dead letters is documented once its model exists.
        self.assertEqual(
            ("POST", "/webhook-events/{id}/replay") in operations,
            "ihub.webhook.event" in self.env,
        )

    def test_the_docs_page_lists_the_operations(self):
        response = self.call("GET", "/docs", login=None)
        self.assertEqual(response.status_code, 200)
        self.assertIn("text/html", response.headers["Content-Type"])
        self.assertIn(f"{API}/integrations/{{id}}/runs", response.text)
        self.assertNotIn("<script", response.text)
        self.assertNotIn("https://", response.text, "nothing from the internet")
