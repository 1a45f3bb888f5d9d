from . import api
from . import oauth
from . import webhook
