from . import ihub_run_wizard
