"""The scaffold template: ``odoo-bin scaffold -t ihub/scaffold/ihub_integration NAME DEST``
makes an addon that is lint clean, installs, passes its own test and runs at once."""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from odoo.tests import BaseCase

from .fresh_database import fetchall, fresh_database, odoo
from .test_documented_example import REPO, load_sync_guide

TEMPLATE = REPO / "ihub" / "scaffold" / "ihub_integration"
# The anatomy the guide documents, for an addon named my_integration.
ANATOMY = {
    "__init__.py",
    "__manifest__.py",
    "data/integration_type.xml",
    "models/__init__.py",
    "models/ihub_integration_my_integration.py",
    "readme/DESCRIPTION.md",
    "security/ir.model.access.csv",
    "static/description/icon.png",
    "tests/__init__.py",
    "tests/test_my_integration.py",
    "views/ihub_integration_my_integration_views.xml",
    "views/ihub_integration_views.xml",
}
# A run of the scaffolded integration, as an iHub user would start it: committed, then run by
# the job runner's own entry point (tests have no cron threads).
MANUAL_RUN = """
from datetime import datetime

admin = env.ref("base.user_admin")
sub = env["ihub.integration.my_integration"].with_user(admin).create(
    {"name": "Scaffolded", "user_id": admin.id, "run_user_id": admin.id}
)
job = sub.super_id.with_user(admin)._run_manually(datetime(2020, 1, 1), datetime(2030, 1, 1))
env.cr.commit()
env["ihub.job"]._cron_run_due_jobs()
env.cr.commit()
print("IHUB-JOB", job.id)
"""


def scaffold(name, dest):
    """The real command, as the guide writes it (``odoo-bin`` is ``python -m odoo``)."""
    return subprocess.run(
        [sys.executable, "-m", "odoo", "scaffold", "-t", str(TEMPLATE), name, str(dest)],
        check=True,
        capture_output=True,
        text=True,
    )


class TestScaffoldTemplate(BaseCase):
    """The template itself (these tests scaffold nothing)."""

    def test_template_rendered_as_demo_is_the_demo_skeleton(self):
        """The template cannot drift from the documented contract: rendered with the name
        ``demo`` it gives the demo's files, ids, type, access rights and class attributes."""
        self.assertEqual(load_sync_guide().template_differences(), [])

    def test_template_is_where_the_docs_say_in_docker_too(self):
        """The guide's path in a checkout, and the one the tutorial gives for Docker."""
        self.assertTrue((TEMPLATE / "__manifest__.py.template").is_file())
        compose = (REPO / "docker-compose.yml").read_text()
        self.assertIn("- ./ihub:/mnt/extra-addons/ihub", compose)
        self.assertIn(
            "/mnt/extra-addons/ihub/scaffold/ihub_integration",
            (REPO / "docs" / "tutorial.md").read_text(),
        )


class TestScaffold(BaseCase):
    """An addon scaffolded for each test."""

    def setUp(self):
        super().setUp()
        self.workdir = Path(tempfile.mkdtemp(prefix="ihub_scaffold_"))
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        scaffold("my_integration", self.workdir)
        self.addon = self.workdir / "my_integration"

    def test_scaffolded_addon_has_the_documented_anatomy_and_is_lint_clean(self):
        files = {str(p.relative_to(self.addon)) for p in self.addon.rglob("*") if p.is_file()}
        self.assertEqual(files, ANATOMY)
        model = (self.addon / "models" / "ihub_integration_my_integration.py").read_text()
        self.assertIn('_name = "ihub.integration.my_integration"', model)
        self.assertIn("def run_from_to(self, _from, _to):", model)
        for command in (
            # The repository's rules (an author's own repository has its own), but the
            # author in the manifest is the user's company.
            ["ruff", "check", "--no-cache", f"--config={REPO / 'ruff.toml'}", "."],
            ["ruff", "format", "--check", "--no-cache", f"--config={REPO / 'ruff.toml'}", "."],
            [
                "pylint",
                f"--rcfile={REPO / '.pylintrc'}",
                "--disable=manifest-required-author",
                "my_integration",
            ],
        ):
            with self.subTest(command=command[0]):
                result = subprocess.run(
                    [sys.executable, "-m", *command],
                    cwd=self.workdir,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_scaffolded_addon_installs_passes_its_tests_and_runs(self):
        database = fresh_database(self, self.workdir, "ihub_scaffold")
        result = odoo(
            self.workdir,
            database,
            "-i",
            "my_integration",
            "--test-enable",
            "--test-tags",
            "/my_integration",
            "--log-level",
            "info",
        )
        log = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, log[-3000:])
        self.assertNotIn(" ERROR ", log, log[-3000:])
        self.assertIn("0 failed, 0 error(s) of 3 tests when loading database", log)
        self.assertEqual(
            fetchall(database, "SELECT state FROM ir_module_module WHERE name='my_integration'"),
            [("installed",)],
        )

        result = odoo(
            self.workdir, database, "--log-level", "warn", command="shell", stdin=MANUAL_RUN
        )
        log = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, log[-3000:])
        job_id = int(log.split("IHUB-JOB ")[1].split()[0])
        self.assertEqual(
            fetchall(
                database, "SELECT state, processed_count > 0 FROM ihub_job WHERE id=%s", [job_id]
            ),
            [("done", True)],
        )
        (summary,) = fetchall(database, "SELECT summary FROM ihub_log WHERE job_id=%s", [job_id])
        self.assertRegex(summary[0], r"^\d+ contacts changed in this run's period$")
