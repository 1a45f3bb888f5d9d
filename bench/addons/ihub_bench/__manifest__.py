{
    "name": "iHub Benchmark Integration",
    "summary": "A trivial integration type, used by bench/run.py only",
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
}
