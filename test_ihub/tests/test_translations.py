"""The addons' .pot files are current: exported again from the test database, they differ
from the committed ones in their header dates only (``python3 scripts/dev.py pot`` rewrites
them; the tests' database holds the same addons as the one that command exports from)."""

import difflib
import importlib
import io
import sys

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

from .test_documented_example import REPO


def devtools_pot():
    """scripts/devtools/pot.py, which writes the files (standard library only)."""
    scripts = str(REPO / "scripts")
    if scripts not in sys.path:
        sys.path.append(scripts)
    return importlib.import_module("devtools.pot")


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_pot_files_are_current(self):
        pot = devtools_pot()
        for addon in pot.ADDONS:
            with self.subTest(addon=addon):
                path = pot.pot_path(addon)
                self.assertTrue(path.exists(), f"{path} is missing: run python3 scripts/dev.py pot")
                buffer = io.BytesIO()
                trans_export(None, [addon], buffer, "po", self.env.cr)
                exported = pot.comparable(buffer.getvalue().decode())
                committed = pot.comparable(path.read_text())
                diff = "".join(
                    list(
                        difflib.unified_diff(
                            committed.splitlines(True),
                            exported.splitlines(True),
                            "committed",
                            "now",
                        )
                    )[:60]
                )
                self.assertFalse(
                    diff, f"{path} is out of date; run python3 scripts/dev.py pot\n{diff}"
                )
