"""Fills an other-Odoo database through Odoo's ORM; run by other_odoo.py in a subprocess.

Arguments: Odoo config file, database, request JSON file, answer JSON file. The request holds
``sample`` (other_odoo.SampleData as a dict, or null to only make a new API key) and ``login``
(the sync user, created when missing). The answer holds ``api_key``, shown nowhere else.
"""

import json
import sys

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

BATCH = 1000  # partners per create: batched creates are what makes thousands fast
SAMPLE_TAG = "iHub sample"  # other_odoo.SAMPLE_TAG (this file runs without the package)
# Chatter and tracking are no part of the sample; skipping them keeps the creates cheap.
QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}


def create_partners(env, sample):
    """Companies first, then their contacts, all tagged; return how many of each."""
    partners = env["res.partner"].with_context(**QUIET)
    tag = env["res.partner.category"].search([("name", "=", SAMPLE_TAG)], limit=1)
    tag = tag or tag.create({"name": SAMPLE_TAG})
    codes = {vals["country_code"] for vals in sample["companies"]}
    countries = dict(
        env["res.country"].search([("code", "in", sorted(codes))]).mapped(lambda c: (c.code, c.id))
    )

    def values(vals, parent_ids=None):
        result = {
            key: value for key, value in vals.items() if key not in ("country_code", "parent")
        }
        result["category_id"] = [(6, 0, tag.ids)]
        if parent_ids is None:
            result["country_id"] = countries[vals["country_code"]]
        else:
            # Odoo copies the company's address (country included) to its contacts.
            result["parent_id"] = parent_ids[vals["parent"]]
        return result

    company_ids = []
    for start in range(0, len(sample["companies"]), BATCH):
        batch = sample["companies"][start : start + BATCH]
        company_ids += partners.create([values(vals) for vals in batch]).ids
    for start in range(0, len(sample["contacts"]), BATCH):
        batch = sample["contacts"][start : start + BATCH]
        partners.create([values(vals, company_ids) for vals in batch])
    return len(company_ids), len(sample["contacts"])


def sync_user(env, login):
    """The user an integration logs in as: an internal user who may edit contacts, no more."""
    users = env["res.users"].with_context(no_reset_password=True, **QUIET)
    user = users.search([("login", "=", login)], limit=1)
    if not user:
        user = users.create(
            {
                "name": "iHub Sync",
                "login": login,
                "email": f"{login}@other-odoo.example",
                "groups_id": [
                    (
                        6,
                        0,
                        [env.ref("base.group_user").id, env.ref("base.group_partner_manager").id],
                    )
                ],
            }
        )
    return user


def main(config_file, database, request_file, answer_file):
    with open(request_file) as handle:
        request = json.load(handle)
    config.parse_config(["-c", config_file, "-d", database, "--log-level=warn"])
    odoo.service.server.load_server_wide_modules()
    registry = Registry(database)
    answer = {}
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if request["sample"] is not None:
            # A copy of the template shares its secret and uuid: give this database its own.
            env["ir.config_parameter"].init(force=True)
            answer["companies"], answer["contacts"] = create_partners(env, request["sample"])
        user = sync_user(env, request["login"])
        # sudo: a key without expiry is beyond what the user could give itself.
        keys = env["res.users.apikeys"].with_user(user).sudo()
        answer["api_key"] = keys._generate("rpc", "iHub contacts sync", None)
        answer["user_id"] = user.id
    with open(answer_file, "w") as handle:
        json.dump(answer, handle)


if __name__ == "__main__":
    main(*sys.argv[1:5])
