"""Sub-models that only the tests use, one per combination of flags worth testing."""

import time
from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.ihub.lib.api import Endpoint, Param
from odoo.addons.ihub.lib.exceptions import IHubPermanentError

TEST_TYPE = "test_ihub.integration_type_test"


class FakeIntegration(models.Model):
    """Records each call of ``run_from_to`` so tests can check what it was given."""

    _name = "ihub.integration.test"
    _inherit = "ihub.abstract_integration"
    _description = "Test Integration"

    delay = timedelta(seconds=30)
    description = "<p>Used by the tests.</p>"
    api_endpoints = (
        Endpoint(
            "GET",
            "setting",
            "_api_setting",
            "Read the test setting",
            params=(Param("upper", "boolean"),),
            schema={"type": "object", "properties": {"setting": {"type": ["string", "null"]}}},
        ),
    )

    setting = fields.Char()
    calls = fields.Text(default="", help="One line per run: from|to|company|integration_id")
    raise_error = fields.Boolean()
    raise_permanent = fields.Boolean()
    raise_logged_error = fields.Boolean(help="Fail through ihub_error(..., raise_exception=True).")
    batch_count = fields.Integer(help="Work in this many batches, committing after each.")
    fail_at_batch = fields.Integer(help="Raise in this batch (1-based).")
    batches_done = fields.Integer()
    sleep_seconds = fields.Float(help="Take this long, so that concurrent runs would overlap.")
    batch_sleep_seconds = fields.Float(help="Take this long in each batch.")
    record_action_date = fields.Char(help="Record this action date key during the run.")
    companion_id = fields.Many2one(
        "ihub.integration", help="An integration this one created for itself (see create)."
    )

    @api.model_create_multi
    def create(self, vals_list):
        # An author's create that creates another integration: it must get its sub-record.
        for vals in vals_list:
            if vals.pop("create_companion", False):
                vals["companion_id"] = (
                    self.env["ihub.integration"]
                    .create({"name": "Companion", "type_id": self.env.ref(TEST_TYPE).id})
                    .id
                )
        return super().create(vals_list)

    def _api_setting(self, upper=None):
        setting = self.setting or None
        return {"setting": setting.upper() if setting and upper else setting}

    def run_from_to(self, _from, _to):
        context_integration = self.env.context.get("integration_id")
        started = time.time()
        time.sleep(self.sleep_seconds)
        # An integration's own bookkeeping: written whoever runs it. The precise start and end
        # let tests check that runs of one integration never overlap.
        self.sudo().calls += (
            f"{_from}|{_to}|{self.env.company.id}|{context_integration}"
            f"|{started:.6f}|{time.time():.6f}\n"
        )
        self.ihub_info("test run", details={"from": _from, "to": _to, "user": self.env.uid})
        if self.raise_permanent:
            raise IHubPermanentError("credentials refused")
        if self.raise_logged_error:
            self.ihub_error("the shop refused order 42", raise_exception=True)
        if self.raise_error:
            raise ValueError("test failure")
        if self.record_action_date:
            self.get_action_date(self.record_action_date).date = _to
        job = self.ihub_job()
        for batch in range(int(job.resume_from or 0), self.batch_count):
            time.sleep(self.batch_sleep_seconds)
            self.sudo().batches_done += 1
            job.add_counts(processed=10, succeeded=9, failed=1)
            if batch + 1 == self.fail_at_batch:
                raise ValueError(f"batch {batch + 1} failed")
            job.commit_progress(checkpoint=batch + 1)


class FakeSingletonIntegration(models.Model):
    _name = "ihub.integration.test.singleton"
    _inherit = "ihub.abstract_integration"
    _description = "Singleton Test Integration"

    is_singleton = True

    def run_from_to(self, _from, _to):
        self.ihub_info("singleton run")


class FakeGlobalIntegration(models.Model):
    """Handles all companies itself and exists once at most."""

    _name = "ihub.integration.test.global"
    _inherit = "ihub.abstract_integration"
    _description = "Global Test Integration"

    is_multi_company_compatible = True
    is_singleton = True
    is_job = False
    has_time_period = False

    def run_from_to(self, _from, _to):
        self.ihub_info(f"global run {_from} {_to}")


class FakeParentIntegration(models.Model):
    """A connector whose run fans out to its children."""

    _name = "ihub.integration.test.parent"
    _inherit = "ihub.abstract_integration"
    _description = "Parent Test Integration"

    def run_from_to(self, _from, _to):
        self.run_children(_from, _to)


class FakePassiveIntegration(models.Model):
    _name = "ihub.integration.test.passive"
    _inherit = "ihub.abstract_integration"
    _description = "Passive Test Integration"

    is_job = False
    is_manually_runnable = False
