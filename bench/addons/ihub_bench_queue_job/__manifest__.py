{
    "name": "iHub Benchmark: queue_job Baseline",
    "summary": "A trivial method to delay with OCA queue_job, the baseline of bench/run.py",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "website": "https://github.com/ihub-odoo/ihub",
    "author": "iHub developers",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["queue_job"],
}
