"""docs/tutorial.md works as written: its blocks, in order, build, install, test and schedule
the tutorial's addon (``sh`` blocks run, files are written where their info string says,
``excerpt:`` blocks are found in the file they quote)."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from odoo.tests import BaseCase
from odoo.tools import config

from .fresh_database import fresh_database
from .servers import DB_KEYS
from .test_documented_example import REPO

TUTORIAL = REPO / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(\w+)(?: (\S+))?\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TEST_RESULT = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
# `odoo-bin` of the tutorial: Odoo with this suite's addons path and database server.
ODOO_BIN = """#!/bin/sh
case "$1" in
    scaffold) exec {python} -m odoo "$@" ;;
    shell) shift; exec {python} -m odoo shell -c {conf} "$@" ;;
    *) exec {python} -m odoo server -c {conf} "$@" ;;
esac
"""

# After step 3: the scheduler's turn, as Odoo's cron thread would take it, then iHub's runner.
SCHEDULER_TURN = """
shop = env["ihub.integration.shop_customers"].search([("name", "=", "Contacts count")])
shop.cron_id.method_direct_trigger()
env["ihub.job"]._cron_run_due_jobs()
env.cr.commit()
scheduled = shop.job_ids.filtered(lambda job: job.trigger == "scheduled")
print("IHUB-SCHEDULED", *scheduled.mapped("state"))
"""


def blocks():
    """(language, info, body) of each fenced block of the tutorial, in order."""
    return BLOCK.findall(TUTORIAL.read_text())


class TestTutorial(BaseCase):
    def setUp(self):
        super().setUp()
        self.workdir = Path(tempfile.mkdtemp(prefix="ihub_tutorial_"))
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.addons = self.workdir / "addons"
        self.addons.mkdir()

    def odoo_bin(self):
        """A bin folder with the tutorial's ``odoo-bin`` for this machine."""
        conf = self.workdir / "odoo.conf"
        options = {
            "addons_path": f"{config['addons_path']},{self.addons}",
            "data_dir": self.workdir / "data",
            "http_port": 0,
            "log_level": "info",
            **{key: config[key] for key in DB_KEYS if config.get(key)},
        }
        conf.write_text("[options]\n" + "".join(f"{k} = {v}\n" for k, v in options.items()))
        bindir = self.workdir / "bin"
        bindir.mkdir()
        script = bindir / "odoo-bin"
        script.write_text(ODOO_BIN.format(python=sys.executable, conf=conf))
        script.chmod(0o755)
        return bindir

    def test_tutorial_blocks_run_in_order(self):
        found = blocks()
        self.assertGreaterEqual(len(found), 8)
        database = fresh_database(self, self.workdir, "ihub_tutorial")
        env = {
            **os.environ,
            "PATH": f"{self.odoo_bin()}{os.pathsep}{os.environ['PATH']}",
            "IHUB": str(REPO),
            "ADDONS": str(self.addons),
            "DB": database,
            "PYTHONUNBUFFERED": "1",
        }
        output = ""
        shop_test = next(
            body for _lang, info, body in found if info.endswith("test_shop_customers.py")
        )
        for lang, info, body in found:
            if lang == "sh":
                result = subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", body],
                    cwd=self.workdir,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                )
                log = result.stdout + result.stderr
                self.assertEqual(result.returncode, 0, f"{body}\n{log[-3000:]}")
                self.assertNotIn(" ERROR ", log, log[-3000:])
                output += log
                if "schedule.py" in body:
                    result = subprocess.run(
                        ["odoo-bin", "shell", "-d", database],
                        input=SCHEDULER_TURN,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=600,
                        check=False,
                    )
                    self.assertIn("IHUB-SCHEDULED done\n", result.stdout, result.stderr[-3000:])
            elif info.startswith("excerpt:"):
                quoted = (self.addons / info.removeprefix("excerpt:")).read_text()
                self.assertIn(body, quoted, "the tutorial quotes what the scaffold makes")
            elif lang == "python" and info:
                base = self.addons if "/" in info else self.workdir
                (base / info).write_text(body)
            elif lang == "json":
                # The shop's answer as the tutorial shows it is what its test's shop serves.
                customers = next(
                    ast.literal_eval(node.value)
                    for node in ast.parse(shop_test).body
                    if isinstance(node, ast.Assign) and node.targets[0].id == "CUSTOMERS"
                )
                answer = json.loads(body)
                self.assertEqual(set(answer), {"customers", "next_page"})
                self.assertEqual(answer["customers"][0], customers[0])
            else:
                self.fail(f"a block this test does not exercise: {lang} {info}")

        results = [tuple(map(int, numbers)) for numbers in TEST_RESULT.findall(output)]
        self.assertEqual(results, [(0, 0, 3), (0, 0, 2)], "the scaffolded tests, then the shop's")
        self.assertIn("Contacts count active True 15", output)
        addon = self.addons / "shop_customers"
        for command in (["check"], ["format", "--check"]):
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ruff",
                    *command,
                    "--no-cache",
                    f"--config={REPO / 'ruff.toml'}",
                    str(addon),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
