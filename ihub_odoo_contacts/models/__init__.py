from . import ihub_integration_odoo_contacts
