"""The README's curl against the demo integration, run as written (only the server's address
changed to the test server's), over real HTTP on loopback."""

import re
import subprocess
from pathlib import Path

from odoo.tests import HttpCase, tagged

from odoo.addons.ihub.tests.common import run_due_jobs

README = Path(__file__).resolve().parents[2] / "README.md"


@tagged("post_install", "-at_install")
class TestReadmeCurl(HttpCase):
    def test_readme_curl_pushes_to_the_demo(self):
        demo = self.env.ref("ihub_demo_integration.ihub_integration_demo_1")
        demo.super_id.action_start()
        block = re.search(
            r"### Push a webhook to the demo integration.*?```sh\n(.*?)```",
            README.read_text(),
            re.DOTALL,
        ).group(1)
        script = block.replace("http://localhost:8069", self.base_url())
        result = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("202", result.stdout.splitlines()[0])
        self.assertIn('"accepted"', result.stdout)
        event = self.env["ihub.webhook.event"].search([("integration_id", "=", demo.super_id.id)])
        self.assertEqual(event.event_type, "demo.ping")
        run_due_jobs(self.env)
        self.assertEqual(event.state, "done")
        logged = self.env["ihub.log"].search([("integration_id", "=", demo.super_id.id)])
        self.assertIn("Demo webhook demo.ping received", logged.mapped("summary"))
