"""Property-based run of the REST API against its own OpenAPI document (schemathesis).

Requests generated from the document, with a manager's key, go over real HTTP to the test
server; every answer must be no server error and conform to the document (status, content
type, headers, body). The example count stays small to keep the suite fast.
"""

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi import checks as openapi_checks

from odoo.tests import tagged

from .api_common import API, ApiCase

EXAMPLES_PER_OPERATION = 8
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


@tagged("post_install", "-at_install")
class TestApiProperties(ApiCase):
    def test_generated_requests_conform_to_the_document(self):
        self.env["ir.config_parameter"].set_param("ihub.api_rate_limit", "100000")
        job = self.env["ihub.job"]._enqueue(self.integration_a, "manual")
        event = self.integration_a.ihub_info("an event", integration=self.integration_a)
        # Random ids name nothing: half of the examples use one that exists, so that the
        # answers with data are checked too.
        dead_letter = self.env["ihub.webhook.event"].create(
            {
                "integration_id": self.integration_a.id,
                "delivery_id": "msg_dead",
                "state": "dead",
                "payload_raw": "{}",
                "payload": {},
            }
        )
        real_ids = {
            "/jobs": job.id,
            "/events": event.id,
            "/integrations": self.integration_a.id,
            "/webhook-events": dead_letter.id,
        }
        document = self.call("GET", "/openapi.json", login=None).json()
        schema = schemathesis.openapi.from_dict(document)
        base_url = f"{self.base_url()}{API}"
        headers = {"Authorization": f"Bearer {self.keys['api_manager']}"}
        tested, answered = [], set()
        for result in schema.get_all_operations():
            operation = result.ok()
            tested.append(operation.label)

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
            )
            @given(case=operation.as_strategy(), use_real_id=st.booleans())
            def check(case, use_real_id):
                if use_real_id and case.path_parameters and "id" in case.path_parameters:
                    root = "/" + case.operation.path.split("/")[1]
                    case.path_parameters["id"] = real_ids[root]
                response = case.call(base_url=base_url, headers=headers, session=self.opener)
                case.validate_response(response, checks=CHECKS)
                if response.status_code < 300:
                    answered.add(case.operation.label)

            with self.subTest(operation=operation.label):
                check()
        self.assertIn("POST /integrations/{id}/runs", tested)
        # Not a run of refusals only: the operations' answers with data were checked too.
        self.assertLessEqual(
            {
                "GET /integrations",
                "GET /integrations/{id}",
                "POST /integrations/{id}/start",
                "POST /integrations/{id}/runs",
                "GET /jobs/{id}",
                "GET /events",
                "GET /events/{id}",
                "POST /webhook-events/{id}/replay",
            },
            answered,
        )
