"""The developer guide (ihub/readme/USAGE.md) is the demo addon, and it installs as written."""

import ast
import importlib.util
import inspect
import re
import shutil
import tempfile
from pathlib import Path

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.integration import AbstractIntegration
from odoo.addons.ihub.models.ihub_integration_type import FLAGS

from .fresh_database import fresh_database, odoo
from .servers import connect

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "ihub" / "readme" / "USAGE.md"
DEMO = REPO / "ihub_demo_integration"

# A fenced block whose info string names a file: ```python models/my_integration.py
FILE_BLOCK = re.compile(r"^```(\w+) ([\w./]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def load_sync_guide():
    """scripts/sync_guide.py, which writes the example into the docstring."""
    spec = importlib.util.spec_from_file_location("sync_guide", REPO / "scripts" / "sync_guide.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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

    def test_docstring_example_is_the_demo_code(self):
        """The contract's example is the demo's model, line by line (comments and docstrings
        aside): a change to one without the other fails here."""
        sync_guide = load_sync_guide()
        docstring = sync_guide.CONTRACT.read_text()
        example = sync_guide.EXAMPLE.search(docstring).group(2).rstrip("\n")
        demo = (DEMO / "models" / "ihub_integration_demo.py").read_text()
        self.assertEqual(example, sync_guide.example_code(demo), "run scripts/sync_guide.py")
        self.assertEqual(
            list(inspect.signature(AbstractIntegration.run_from_to).parameters),
            ["self", "_from", "_to"],
        )
        assigned = {
            target.id
            for node in ast.walk(ast.parse(demo))
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for flag in (*FLAGS, "delay", "description"):
            self.assertIn(flag, assigned, "the demo shows every class attribute")

    def test_guide_addon_installs_in_a_fresh_database(self):
        """Write the guide's files as a new addon and install it with Odoo, as an author would;
        then an addon whose sub-model hides a field of the integration is refused by name."""
        files = guide_files()
        workdir = Path(tempfile.mkdtemp(prefix="ihub_guide_"))
        self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
        self.write_addon(workdir / "my_guide_integration", files)
        renames = {
            "ihub.integration.demo": "ihub.integration.clash",
            "model_ihub_integration_demo": "model_ihub_integration_clash",
            '"Demo Integration"': '"Clash Integration"',
            "integration_type_demo": "integration_type_clash",
            '<field name="code">demo</field>': '<field name="code">clash</field>',
            # The mistake: a field named like a class attribute of the contract.
            "    fail_run = fields.Boolean(": (
                "    delay = fields.Integer()\n    fail_run = fields.Boolean("
            ),
        }
        clashing = {}
        for path in (
            "__init__.py",
            "models/__init__.py",
            "models/ihub_integration_demo.py",
            "security/ir.model.access.csv",
            "data/integration_type.xml",
        ):
            body = files[path]
            for old, new in renames.items():
                body = body.replace(old, new)
            clashing[path] = body
        clashing["__manifest__.py"] = (
            "{'name': 'Clash', 'version': '18.0.1.0.0', 'license': 'LGPL-3', "
            "'depends': ['ihub'], 'data': ['data/integration_type.xml', "
            "'security/ir.model.access.csv']}"
        )
        self.write_addon(workdir / "my_clashing_integration", clashing)

        database = fresh_database(self, workdir, "ihub_guide")
        result = self.odoo(workdir, database, "my_guide_integration")
        log = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, log[-3000:])
        self.assertNotIn(" ERROR ", log, log[-3000:])
        with connect(database) as connection, connection.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = 'my_guide_integration'")
            self.assertEqual(cr.fetchone(), ("installed",))
            cr.execute("SELECT name->>'en_US', model_name FROM ihub_integration_type")
            self.assertIn(("Demo", "ihub.integration.demo"), cr.fetchall())
        connection.close()

        result = self.odoo(workdir, database, "my_clashing_integration")
        log = result.stdout + result.stderr
        self.assertIn("ihub.integration.clash (my_clashing_integration): field(s) delay hide", log)
        with connect(database) as connection, connection.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = 'my_clashing_integration'")
            self.assertNotEqual(cr.fetchone(), ("installed",))
        connection.close()

    @staticmethod
    def write_addon(addon, files):
        for path, body in files.items():
            (addon / path).parent.mkdir(parents=True, exist_ok=True)
            (addon / path).write_text(body)
        icon = addon / "static" / "description" / "icon.png"
        icon.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / "static" / "description" / "icon.png", icon)

    @staticmethod
    def odoo(workdir, database, addon):
        return odoo(workdir, database, "-i", addon, "--log-level", "warn")
