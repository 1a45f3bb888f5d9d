from . import ihub_integration_bench
