"""The developer guide (ihub/readme/USAGE.md) is the demo addon, and it installs as written."""

import ast
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

import psycopg2

from odoo.tests import BaseCase
from odoo.tools import config

from odoo.addons.ihub.lib.integration import AbstractIntegration

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "ihub" / "readme" / "USAGE.md"
DEMO = REPO / "ihub_demo_integration"

# A fenced block whose info string names a file: ```python models/my_integration.py
FILE_BLOCK = re.compile(r"^```(\w+) ([\w./]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def guide_files():
    return {path: body for _lang, path, body in FILE_BLOCK.findall(GUIDE.read_text())}


class TestDocumentedExample(BaseCase):
    def test_guide_shows_the_demo_addon_file_by_file(self):
        files = guide_files()
        self.assertIn("models/ihub_integration_demo.py", files)
        self.assertIn("data/integration_type.xml", files)
        for path, body in files.items():
            with self.subTest(path=path):
                self.assertEqual(body, (DEMO / path).read_text(), f"{path} differs from the demo")

    def test_docstring_example_matches_the_contract(self):
        example = textwrap.dedent(
            AbstractIntegration.__doc__.split("Example::")[1].split("``Abs")[0]
        )
        tree = ast.parse(example)
        (cls,) = [node for node in tree.body if isinstance(node, ast.ClassDef)]
        assigned = {t.id for node in cls.body if isinstance(node, ast.Assign) for t in node.targets}
        for flag in (
            "is_job",
            "is_manually_runnable",
            "has_time_period",
            "is_multi_company_compatible",
            "is_singleton",
            "delay",
            "description",
        ):
            self.assertIn(flag, assigned)
            self.assertTrue(hasattr(AbstractIntegration, flag))
        methods = {node.name for node in cls.body if isinstance(node, ast.FunctionDef)}
        self.assertIn("run_from_to", methods)
        self.assertEqual(
            list(inspect.signature(AbstractIntegration.run_from_to).parameters),
            ["self", "_from", "_to"],
        )

    def test_guide_addon_installs_in_a_fresh_database(self):
        """Write the guide's files as a new addon and install it with Odoo, as an author would."""
        files = guide_files()
        workdir = Path(tempfile.mkdtemp(prefix="ihub_guide_"))
        self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
        addon = workdir / "my_guide_integration"
        for path, body in files.items():
            (addon / path).parent.mkdir(parents=True, exist_ok=True)
            (addon / path).write_text(body)
        icon = addon / "static" / "description" / "icon.png"
        icon.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / "static" / "description" / "icon.png", icon)

        database = f"ihub_guide_{uuid.uuid4().hex[:8]}"
        self.addCleanup(self._drop_database, database)
        command = [
            sys.executable,
            "-m",
            "odoo",
            "--addons-path",
            f"{config['addons_path']},{workdir}",
            "--data-dir",
            str(workdir / "data"),
            "-d",
            database,
            "-i",
            "my_guide_integration",
            "--stop-after-init",
            "--log-level",
            "warn",
            "--http-port",
            "0",
        ] + self._db_options()
        result = subprocess.run(
            command,
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, log[-3000:])
        self.assertNotIn(" ERROR ", log, log[-3000:])
        with self._connect(database) as connection, connection.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = 'my_guide_integration'")
            self.assertEqual(cr.fetchone(), ("installed",))
            cr.execute("SELECT name->>'en_US', model_name FROM ihub_integration_type")
            self.assertIn(("Demo", "ihub.integration.demo"), cr.fetchall())

    def _db_options(self):
        options = []
        for key in ("db_host", "db_port", "db_user", "db_password"):
            if config.get(key):
                options += [f"--{key}", str(config[key])]
        return options

    def _connect(self, database):
        params = {"dbname": database}
        for key, param in (
            ("db_host", "host"),
            ("db_port", "port"),
            ("db_user", "user"),
            ("db_password", "password"),
        ):
            if config.get(key):
                params[param] = config[key]
        return psycopg2.connect(**params)

    def _drop_database(self, database):
        connection = self._connect("postgres")
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.close()
