{
    "name": "iHub Tests",
    "summary": "Integrations with every combination of flags, to test the iHub core",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "website": "https://github.com/ihub-odoo/ihub",
    "author": "iHub developers",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["ihub"],
    "data": [
        "security/ir.model.access.csv",
        "data/integration_type.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "test_ihub/static/src/tours/*.js",
        ],
    },
}
