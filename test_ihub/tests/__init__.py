from . import test_access
from . import test_action_date
from . import test_documented_example
from . import test_events
from . import test_integration
from . import test_integration_type
from . import test_job
from . import test_concurrency
