"""iHub's engine: plain Python that the Odoo models delegate to.

Modules here import as little of Odoo as they can so that they are testable without a database.
``integration`` is the exception: it re-exports the ``ihub.abstract_integration`` model class under
the import path integration authors use.
"""
