"""Test-wide rules for pytest (pytest-odoo runs the addons' tests).

A clean log is part of done: a test fails when Odoo logs a warning or an error that the test did
not expect. Tests that expect one capture it with ``self.assertLogs(logger, "WARNING")``.
"""

import inspect
import logging

import pytest


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_unexpected_odoo_warnings():
    collector = _Collector()
    odoo_logger = logging.getLogger("odoo")
    odoo_logger.addHandler(collector)
    try:
        yield
    finally:
        odoo_logger.removeHandler(collector)
    if collector.records:
        lines = "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in collector.records)
        pytest.fail(f"unexpected log records:\n{lines}", pytrace=False)


@pytest.fixture(autouse=True, scope="session")
def odoo_statics_computed_once():
    """Odoo finds its addons' static folders lazily, parsing every manifest, in the first
    request for a static file. A browser asks for several at once, and CPython 3.11's
    ``compile()`` (used by ``ast.literal_eval``) can fail when threads parse at the same time
    ("AST constructor recursion depth mismatch", CPython issue 106905): parse them here, once.
    """
    import odoo.http  # noqa: PLC0415 - pytest-odoo has configured Odoo by now

    odoo.http.root.statics  # noqa: B018
    yield


# What a tour's pages load (seen in Odoo's log at level info), minified: the JS bundles, then
# the CSS ones.
TOUR_BUNDLES = (
    ("web.assets_web", "web.assets_tests", "bus.websocket_worker_assets"),
    ("web.assets_web", "web.assets_web_print"),
)


@pytest.fixture(autouse=True, scope="session")
def tour_assets_generated_once(request):
    """Odoo's own test runner generates the asset bundles, committed, before its browser tests
    (``_pregenerate_assets_bundles`` in odoo/service/server.py); pytest-odoo does not. Each tour
    would then compile the bundles again inside its test transaction, which is rolled back:
    ten seconds or more a tour. Generate the ones a tour loads once, before any test class opens
    its transaction (a class transaction would not see them), when the run has tours.
    """
    if not any(_has_tours(item) for item in request.session.items):
        yield
        return
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415 - pytest-odoo has configured Odoo
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tests.common import get_db_name  # noqa: PLC0415

    with Registry(get_db_name()).cursor() as cr:
        qweb = api.Environment(cr, SUPERUSER_ID, {})["ir.qweb"]
        js_bundles, css_bundles = TOUR_BUNDLES
        for name in js_bundles:
            qweb._get_asset_bundle(name, css=False, js=True).js()
        for name in css_bundles:
            qweb._get_asset_bundle(name, css=True, js=False).css()
    yield


def _has_tours(item):
    module = getattr(item, "module", None)
    return module is not None and "start_tour(" in inspect.getsource(module)
