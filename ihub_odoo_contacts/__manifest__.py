{
    "name": "iHub: Contacts from Another Odoo",
    "summary": "Import (and send back) contacts of another Odoo database through its external API",
    "version": "18.0.1.0.0",
    "category": "Productivity/Integrations",
    "website": "https://github.com/ihub-odoo/ihub",
    "author": "iHub developers",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["ihub", "contacts"],
    "data": [
        "security/ir.model.access.csv",
        "data/integration_type.xml",
        "views/ihub_integration_odoo_contacts_views.xml",
        "views/ihub_integration_views.xml",
    ],
}
