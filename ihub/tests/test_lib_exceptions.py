"""iHub's exceptions reach the web client as readable warnings, without a database."""

import importlib
import pkgutil

from odoo.http import serialize_exception
from odoo.tests import BaseCase
from odoo.tools.misc import file_path

import odoo.addons.ihub.lib as ihub_lib
from odoo.addons.ihub.lib.exceptions import IHubError

WEB_ERROR_DIALOGS = "web/static/src/core/errors/error_dialogs.js"


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


class TestUserErrors(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Every exception class iHub's engine defines, not only the ones imported so far.
        for module in pkgutil.iter_modules(ihub_lib.__path__):
            importlib.import_module(f"{ihub_lib.__name__}.{module.name}")

    def test_every_ihub_error_is_shown_as_a_user_error(self):
        classes = [IHubError, *_all_subclasses(IHubError)]
        names = {cls.__name__ for cls in classes}
        self.assertTrue({"IHubPermanentError", "NetworkRefused", "RecordError"} <= names, names)
        # The web client shows the dialog registered for this name: Odoo's UserError has the
        # readable warning (checked in Odoo's own registry, so an Odoo upgrade is noticed).
        with open(file_path(WEB_ERROR_DIALOGS), encoding="utf-8") as dialogs:
            self.assertIn('.add("odoo.exceptions.UserError", WarningDialog)', dialogs.read())
        for cls in classes:
            with self.subTest(cls=cls.__name__):
                try:
                    raise cls("The shop refused the order")
                except IHubError as error:
                    serialized = serialize_exception(error)
                self.assertEqual(
                    serialized["context"].get("exception_class"), "odoo.exceptions.UserError"
                )
                self.assertEqual(serialized["message"], "The shop refused the order")

    def test_context_is_not_shared_between_errors(self):
        # Odoo's automation rules replace and fill an error's context: one error's must not
        # become every error's.
        first, second = IHubError("a"), IHubError("b")
        first.context["exception_class"] = "base_automation"
        self.assertEqual(second.context["exception_class"], "odoo.exceptions.UserError")
