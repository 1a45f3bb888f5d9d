from . import ihub_integration_fake
from . import ihub_integration_credential
