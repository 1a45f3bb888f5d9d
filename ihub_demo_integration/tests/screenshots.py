"""Pictures of the pages a tour walks through, taken by the test's own Chromium.

A tour step made by ``screenshot(name)`` (``ihub/static/src/tours/ihub_e2e_tour.js``) logs
``ihub-screenshot:<name>`` and waits. ``TourScreens`` answers every such marker: it notes the
name and, when ``IHUB_SCREENSHOTS`` names a folder (``python3 scripts/dev.py screenshots``),
first saves the page there as ``<name>.png``. Without the variable nothing is written.
"""

import base64
import io
import json
import os
import re
from contextlib import ExitStack
from pathlib import Path
from unittest.mock import patch

from PIL import Image

from odoo.tests.common import ChromeBrowser
from odoo.tools.misc import file_path

MARKER = "ihub-screenshot:"
# A few hundred colours keep a screen readable at a fraction of its size.
COLOURS = 256


REPO = Path(file_path("ihub_demo_integration")).parent
SCREENSHOT_DIR = REPO / "docs" / "screenshots"


def readme_screenshots():
    """The names of the pictures README.md shows (docs/screenshots/<name>.png)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"docs/screenshots/(\w+)\.png", readme))


def shrink(png):
    """The picture with a palette of COLOURS: screens have few colours, PNGs get small."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(COLOURS, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


class TourScreens:
    """Within ``with TourScreens(tz) as screens:`` the test's tours can take screenshots;
    ``screens.names`` lists those their steps asked for. ``tz`` is the browser's time zone
    (the test users' own, so that fields and texts show the same times)."""

    def __init__(self, tz, directory=None):
        self.tz = tz
        directory = directory if directory is not None else os.environ.get("IHUB_SCREENSHOTS")
        self.directory = Path(directory) if directory else None
        self.names = []
        self._stack = ExitStack()

    def __enter__(self):
        screens = self
        handle_console = ChromeBrowser._handle_console
        navigate_to = ChromeBrowser.navigate_to

        def _handle_console(browser, type, args=None, **kw):  # pylint: disable=redefined-builtin
            value = (args or [{}])[0].get("value")
            if type == "log" and isinstance(value, str) and value.startswith(MARKER):
                screens._take(browser, value[len(MARKER) :])
            return handle_console(browser, type, args=args, **kw)

        def _navigate_to(browser, url, wait_stop=False):
            browser._websocket_request(
                "Emulation.setTimezoneOverride", params={"timezoneId": screens.tz}
            )
            return navigate_to(browser, url, wait_stop=wait_stop)

        self._stack.enter_context(patch.object(ChromeBrowser, "_handle_console", _handle_console))
        self._stack.enter_context(patch.object(ChromeBrowser, "navigate_to", _navigate_to))
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc):
        return self._stack.__exit__(*exc)

    def _take(self, browser, name):
        """Called in the browser's receiving thread: ask, and answer the step once done."""
        self.names.append(name)

        def answer():
            expression = f"(window.ihubScreenshotsTaken ||= []).push({json.dumps(name)})"
            browser._websocket_send("Runtime.evaluate", params={"expression": expression})

        if not self.directory:
            answer()
            return

        def save(future):
            # Unanswered when this fails: the step then fails the tour.
            png = base64.b64decode(future.result()["data"])
            (self.directory / f"{name}.png").write_bytes(shrink(png))
            answer()

        future = browser._websocket_send(
            "Page.captureScreenshot", params={"format": "png"}, with_future=True
        )
        future.add_done_callback(save)
