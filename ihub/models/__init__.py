from . import base
from . import ihub_integration_type
from . import ihub_integration
from . import ihub_abstract_integration
from . import ihub_log
from . import ihub_action_date
from . import ihub_job
