from . import test_lib_events
from . import test_lib_journal
from . import test_lib_mapper
from . import test_lib_netguard
from . import test_lib_http
from . import test_lib_redact
from . import test_lib_secrets
from . import test_lib_auth
