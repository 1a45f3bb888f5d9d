from . import ihub_integration_bench
from . import ihub_integration_bench_import
