from . import test_lib_events
from . import test_lib_journal
from . import test_lib_secrets
from . import test_lib_auth
