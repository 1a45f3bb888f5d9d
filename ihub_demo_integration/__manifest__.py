{
    "name": "iHub Demo Integration",
    "summary": "The example integration every iHub integration author starts from",
    "version": "18.0.1.0.0",
    "category": "Productivity/Integrations",
    "website": "https://github.com/ihub-odoo/ihub",
    "author": "iHub developers",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["ihub"],
    "data": [
        "security/ir.model.access.csv",
        "data/integration_type.xml",
        "data/cron_job.xml",
        "views/ihub_integration_demo_views.xml",
        "views/ihub_integration_views.xml",
    ],
    "demo": [
        "demo/ihub_integration_demo_demo.xml",
    ],
}
