"""The REST API's plain logic: parameters, pagination, routes, quotas, OpenAPI (no database)."""

from datetime import datetime, timedelta

from openapi_spec_validator import validate

from odoo.tests import BaseCase

from odoo.addons.ihub.controllers.api_routes import CORE_ROUTES, OPTIONAL_ROUTES, SCHEMAS
from odoo.addons.ihub.lib import api, api_spec
from odoo.addons.ihub.lib.ratelimit import decide

PARAMS = (
    api.Param("state", enum=("a", "b")),
    api.Param("count", "integer", minimum=1, maximum=5),
    api.Param("since", "datetime"),
    api.Param("flag", "boolean"),
)


class TestParameters(BaseCase):
    def assertApiError(self, status, field, call, *args):  # noqa: N802
        with self.assertRaises(api.ApiError) as caught:
            call(*args)
        self.assertEqual(caught.exception.status, status)
        self.assertEqual([d["field"] for d in caught.exception.details], [field])
        self.assertIn(field, caught.exception.message)
        return caught.exception

    def test_values_are_parsed_and_defaults_filled_in(self):
        values = api.parse_query(
            (*PARAMS, api.PAGE, api.PER_PAGE),
            [("state", "b"), ("count", "5"), ("since", "2026-05-01T10:00:00+02:00")],
        )
        self.assertEqual(
            values,
            {
                "state": "b",
                "count": 5,
                "since": datetime(2026, 5, 1, 8, 0),
                "flag": None,
                "page": 1,
                "per_page": api.DEFAULT_PER_PAGE,
            },
        )
        self.assertEqual(
            api.parse_query(PARAMS, [("since", "2026-05-01"), ("flag", "true")])["since"],
            datetime(2026, 5, 1),
        )

    def test_unknown_parameters_are_a_400_naming_them(self):
        error = self.assertApiError(400, "stat", api.parse_query, PARAMS, [("stat", "a")])
        self.assertEqual(error.code, "unknown_parameter")

    def test_invalid_values_are_a_422_naming_the_field(self):
        for name, raw in [
            ("state", "c"),
            ("count", "0"),
            ("count", "6"),
            ("count", "1.5"),
            ("count", "x"),
            ("since", "yesterday"),
            ("since", "2026-13-01"),
            ("flag", "yes"),
        ]:
            with self.subTest(name=name, raw=raw):
                self.assertApiError(422, name, api.parse_query, PARAMS, [(name, raw)])
        self.assertApiError(422, "count", api.parse_query, PARAMS, [("count", "1"), ("count", "2")])

    def test_per_page_is_capped(self):
        params = (api.PAGE, api.PER_PAGE)
        self.assertApiError(
            422, "per_page", api.parse_query, params, [("per_page", str(api.MAX_PER_PAGE + 1))]
        )
        page = api.page_of(api.parse_query(params, [("page", "3"), ("per_page", "10")]))
        self.assertEqual((page.offset, page.size), (20, 10))
        self.assertEqual(page.meta(57), {"page": 3, "per_page": 10, "total": 57})

    def test_body_fields_are_checked_like_parameters(self):
        body = (api.Param("date_from", "datetime"), api.Param("dry_run", "boolean"))
        self.assertEqual(
            api.parse_body(body, {"dry_run": True}), {"date_from": None, "dry_run": True}
        )
        self.assertApiError(422, "date_to", api.parse_body, body, {"date_to": "2026-01-01"})
        self.assertApiError(422, "dry_run", api.parse_body, body, {"dry_run": "true"})
        with self.assertRaises(api.ApiError) as caught:
            api.parse_body(body, [1, 2])
        self.assertEqual(caught.exception.status, 422)


class TestRoutes(BaseCase):
    def setUp(self):
        super().setUp()
        self.table = api.RouteTable(
            [
                api.Route("GET", "/things", "list", "List", "listThings"),
                api.Route("GET", "/things/{id}", "read", "Read", "getThing"),
                api.Route("POST", "/things/{id}/go", "go", "Go", "goThing"),
            ]
        )

    def test_match_gives_the_route_and_its_arguments(self):
        route, args = self.table.match("GET", "things/42")
        self.assertEqual((route.handler, args), ("read", {"id": 42}))
        self.assertEqual(self.table.match("GET", "/things/")[0].handler, "list")

    def test_unknown_paths_and_ids_that_are_no_ids_are_404(self):
        for path in ("/nothing", "/things/abc", "/things/0", "/things/99999999999", "/things/1/x"):
            with self.subTest(path=path), self.assertRaises(api.ApiError) as caught:
                self.table.match("GET", path)
            self.assertEqual(caught.exception.status, 404)

    def test_other_methods_are_405_with_allow(self):
        with self.assertRaises(api.ApiError) as caught:
            self.table.match("DELETE", "/things/1")
        self.assertEqual(caught.exception.status, 405)
        self.assertEqual(caught.exception.headers, {"Allow": "GET"})

    def test_a_route_cannot_be_declared_twice(self):
        with self.assertRaisesRegex(ValueError, "declared twice"):
            self.table.add(api.Route("GET", "/things", "again", "Again", "listAgain"))

    def test_type_endpoints_get_their_prefix(self):
        self.assertEqual(api.type_prefix("ihub.integration.demo"), "demo")
        self.assertEqual(api.type_prefix("x_shop.connector"), "x-shop-connector")
        route = api.Endpoint("GET", "settings", "_api_settings", "Read").route("demo", "h", "Demo")
        self.assertEqual(route.path, "/integrations/{id}/demo/settings")
        self.assertEqual(route.operation_id, "getDemoSettings")
        with self.assertRaisesRegex(ValueError, "private"):
            api.Endpoint("GET", "x", "public_method", "Read")


class TestRateLimit(BaseCase):
    def test_a_burst_of_the_whole_quota_then_one_per_interval(self):
        now, tat = datetime(2026, 1, 1), None
        remaining = []
        for _i in range(3):
            decision = decide(tat, now, 3, 60)
            self.assertTrue(decision.allowed)
            tat = decision.tat
            remaining.append(decision.remaining)
        self.assertEqual(remaining, [2, 1, 0])
        refused = decide(tat, now, 3, 60)
        self.assertFalse(refused.allowed)
        self.assertEqual(refused.tat, tat, "a refused request spends nothing")
        self.assertEqual(refused.retry_after, 20)
        self.assertEqual(refused.headers()["Retry-After"], "20")
        self.assertEqual(refused.headers()["RateLimit-Reset"], "60")
        later = decide(tat, now + timedelta(seconds=20), 3, 60)
        self.assertTrue(later.allowed)
        self.assertEqual(later.remaining, 0)
        self.assertNotIn("Retry-After", later.headers())

    def test_an_idle_key_has_its_whole_quota_again(self):
        decision = decide(datetime(2026, 1, 1), datetime(2026, 1, 2), 10, 60)
        self.assertEqual((decision.allowed, decision.remaining, decision.reset), (True, 9, 6))


class TestOpenApi(BaseCase):
    def test_the_core_document_is_valid_openapi_3_1(self):
        table = api.RouteTable(CORE_ROUTES)
        for _model, route in OPTIONAL_ROUTES:
            table.add(route)
        document = api_spec.build(table, SCHEMAS, "iHub API", "1.0.0")
        validate(document)
        self.assertEqual(document["openapi"], "3.1.0")
        operation = document["paths"]["/jobs"]["get"]
        self.assertEqual(
            [p["name"] for p in operation["parameters"]],
            ["page", "per_page", "integration_id", "state", "trigger", "since", "until"],
        )
        self.assertEqual(operation["parameters"][1]["schema"]["maximum"], api.MAX_PER_PAGE)
        self.assertIn("422", operation["responses"])
        run = document["paths"]["/integrations/{id}/runs"]["post"]
        self.assertEqual(
            sorted(run["responses"]),
            ["202", "400", "401", "403", "404", "409", "413", "415", "422", "429"],
        )
        self.assertIn("Retry-After", run["responses"]["429"]["headers"])

    def test_every_route_is_documented_once(self):
        table = api.RouteTable(CORE_ROUTES)
        document = api_spec.build(table, SCHEMAS, "t", "1")
        documented = {
            (method.upper(), path)
            for path, operations in document["paths"].items()
            for method in operations
        }
        self.assertEqual(documented, {(r.method, r.path) for r in CORE_ROUTES})

    def test_envelopes(self):
        self.assertEqual(api.data_body([1], {"total": 1}), {"data": [1], "meta": {"total": 1}})
        self.assertEqual(
            api.invalid("x", "is bad").body(),
            {
                "error": {
                    "code": "invalid_parameter",
                    "message": "x: is bad",
                    "details": [{"field": "x", "message": "is bad"}],
                }
            },
        )
        self.assertEqual(api.health("failed", "done"), "failing")
        self.assertEqual(api.health("active", "failed"), "degraded")
        self.assertEqual(api.health("active", False), "ok")
