"""The class integration authors build on: ``AbstractIntegration``.

It is the Python class of the ``ihub.abstract_integration`` model; its docstring is the extension
contract. It lives with the other models (Odoo registers models per addon) and is re-exported
here, the import path integration authors use.
"""

from odoo.addons.ihub.models.ihub_abstract_integration import AbstractIntegration

__all__ = ["AbstractIntegration"]
