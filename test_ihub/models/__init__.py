from . import ihub_integration_fake
