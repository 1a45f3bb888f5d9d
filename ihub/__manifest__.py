{
    "name": "iHub",
    "summary": "One app and one architecture for every integration between Odoo and other systems",
    "version": "18.0.1.1.0",
    "category": "Productivity/Integrations",
    "website": "https://github.com/ihub-odoo/ihub",
    "author": "iHub developers",
    "license": "LGPL-3",
    "application": True,
    "installable": True,
    "depends": ["base", "mail"],
    "data": [
        "security/ihub_security.xml",
        "security/ir.model.access.csv",
        "data/ihub_job_data.xml",
        "views/ihub_log_views.xml",
        "views/ihub_action_date_views.xml",
        "views/ihub_integration_type_views.xml",
        "views/ihub_job_views.xml",
        "views/ihub_integration_views.xml",
        "wizard/ihub_run_wizard_views.xml",
        "views/ihub_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "ihub/static/src/tours/*.js",
        ],
    },
}
