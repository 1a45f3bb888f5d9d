"""Rewrite every iHub secret with the first key of ``ihub_encryption_key`` (and encrypt those
stored in clear)::

    odoo-bin --addons-path=<addons paths> ihub_reencrypt -c <config> -d <database>

The addons path comes first: Odoo finds addon commands in it before reading the config.

After a key change, put the new key first and keep the old ones after it, run this command,
then remove the old keys from the configuration.
"""

import argparse
import sys
from pathlib import Path

import odoo
from odoo.cli import Command


class IhubReencrypt(Command):
    """Re-encrypt iHub's secrets with the first key of ihub_encryption_key"""

    name = "ihub_reencrypt"

    def run(self, args):
        parser = argparse.ArgumentParser(
            prog=f"{Path(sys.argv[0]).name} {self.name}",
            description=self.__doc__,
        )
        parser.add_argument("-c", "--config", help="the Odoo server configuration file")
        parser.add_argument("-d", "--database", required=True, help="the database")
        options, unknown = parser.parse_known_args(args)
        odoo_args = [*unknown, f"--database={options.database}"]
        if options.config:
            odoo_args.append(f"--config={options.config}")
        odoo.tools.config.parse_config(odoo_args, setup_logging=True)
        registry = odoo.modules.registry.Registry(options.database)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            count = env["ihub.credential"]._ihub_reencrypt_all()
        sys.stdout.write(f"iHub: {count} secret value(s) re-encrypted in {options.database}.\n")
