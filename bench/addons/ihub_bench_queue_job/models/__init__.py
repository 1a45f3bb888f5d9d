from . import ihub_bench_target
