from . import test_demo
from . import test_ui_tour
from . import test_api
from . import test_ui_defects
from . import test_webhook_curl
from . import test_ui_e2e
