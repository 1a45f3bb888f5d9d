from . import ihub_integration_fake
from . import ihub_integration_sync_test
from . import ihub_integration_test_mapper
from . import ihub_integration_credential
from . import ihub_integration_http_test
from . import ihub_integration_webhook_test
