from . import api
from . import oauth
