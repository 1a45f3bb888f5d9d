from . import models
from . import wizard
from . import controllers
from . import cli


def uninstall_hook(env):
    """Drop what iHub added to other addons' tables: the mappers' delete triggers."""
    from odoo.tools import SQL  # noqa: PLC0415

    from .models.ihub_mapper import FORGET_FUNCTION  # noqa: PLC0415

    env.cr.execute(SQL("DROP FUNCTION IF EXISTS %s() CASCADE", SQL.identifier(FORGET_FUNCTION)))
