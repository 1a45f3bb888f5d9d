from . import ihub_integration_demo
