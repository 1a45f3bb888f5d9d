from . import ihub_reencrypt
