from contextlib import contextmanager

from odoo import Command
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.ihub.lib import journal
from odoo.addons.ihub.tests.common import run_due_jobs


class IHubCase(TransactionCase):
    """Users for each iHub role, and integrations created as a manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The whole class transaction is thrown away: its events must not be written back.
        cls.addClassCleanup(journal.forget, cls.cr)
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({"name": "iHub Other Company"})
        companies = [Command.set([cls.company.id, cls.other_company.id])]
        cls.internal_user = new_test_user(cls.env, login="ihub_internal", groups="base.group_user")
        cls.ihub_user = new_test_user(
            cls.env,
            login="ihub_user",
            groups="ihub.group_ihub_user",
            company_ids=companies,
            company_id=cls.company.id,
        )
        cls.manager = new_test_user(
            cls.env,
            login="ihub_manager",
            groups="ihub.group_ihub_manager",
            company_ids=companies,
            company_id=cls.company.id,
        )
        cls.type_test = cls.env.ref("test_ihub.integration_type_test")
        cls.type_singleton = cls.env.ref("test_ihub.integration_type_test_singleton")
        cls.type_global = cls.env.ref("test_ihub.integration_type_test_global")
        cls.type_passive = cls.env.ref("test_ihub.integration_type_test_passive")
        cls.type_parent = cls.env.ref("test_ihub.integration_type_test_parent")

    def setUp(self):
        super().setUp()
        self.addCleanup(journal.forget, self.env.cr)

    @contextmanager
    def assertRaisesRegex(self, exception, regex):  # noqa: N802
        # unittest's version does not roll back what the failed call wrote; Odoo's assertRaises
        # does (it runs the block in a savepoint).
        with self.assertRaises(exception) as caught:
            yield caught
        self.assertRegex(str(caught.exception), regex)

    def as_manager(self, model):
        return self.env[model].with_user(self.manager)

    def create_test_integration(self, **vals):
        vals.setdefault("user_id", self.manager.id)
        return self.as_manager("ihub.integration.test").create({"name": "Test", **vals})

    def run_due_jobs(self):
        """What the job runner cron does, in the test transaction."""
        run_due_jobs(self.env)

    def claim(self, job):
        """Have this worker claim ``job`` (due, of a free integration), as the runner does."""
        claimed = self.env["ihub.job"]._claim_next(job.integration_id)
        self.assertEqual(claimed, job, "the job was claimed")
        self.addCleanup(self.env["ihub.job"]._release_unstarted, claimed)
        return claimed

    def kill_worker(self, job):
        """What a worker's death leaves of its claimed run: the run row, no lock, no progress."""
        self.env["ihub.job"]._release_unstarted(job)
