"""Credentials: who sees secrets, encryption at rest, Start refusal, chatter, the secret
accessor, the lifecycle hooks and expiry warnings."""

import json
from contextlib import contextmanager
from datetime import date, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import config

from odoo.addons.ihub.lib import journal
from odoo.addons.ihub.lib import secrets as ihub_secrets
from odoo.addons.ihub.tests.common import run_integration

from .common import IHubCase

SECRET = "k3y-Very-Secret-0001"


@contextmanager
def encryption_key(value):
    """Set the server's ihub_encryption_key for the block."""
    missing = object()
    previous = config.options.get("ihub_encryption_key", missing)
    config["ihub_encryption_key"] = value
    try:
        yield
    finally:
        if previous is missing:
            config.options.pop("ihub_encryption_key", None)
        else:
            config["ihub_encryption_key"] = previous


class CredentialCase(IHubCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = (
            cls.env["ihub.integration.test.credential"]
            .with_user(cls.manager)
            .create({"name": "With key", "user_id": cls.manager.id})
        )
        cls.integration = cls.sub.super_id
        cls.credential = cls.integration.credential_ids

    def set_secret(self, value=SECRET):
        self.credential.with_user(self.manager).secret = value

    def stored(self, column="secret_store"):
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT {column} FROM ihub_credential WHERE id = %s",  # noqa: S608
            [self.credential.id],
        )
        return self.env.cr.fetchone()[0]


class TestCredentialAccess(CredentialCase):
    def test_the_type_s_credential_is_created_with_the_integration(self):
        self.assertEqual(self.credential.kind, "api_key")
        self.assertEqual(self.credential.status, "missing")
        self.assertIn("X-Test-Key", self.credential.help_text)

    def test_user_cannot_read_or_write_a_secret_manager_can(self):
        self.set_secret()
        as_user = self.credential.with_user(self.ihub_user)
        self.assertTrue(as_user.is_set, "users see that it is set")
        self.assertEqual(as_user.status, "set")
        with self.assertRaises(AccessError):
            as_user.read(["secret"])
        with self.assertRaises(AccessError):
            as_user.read(["secret_store"])
        with self.assertRaises(AccessError):
            as_user.write({"secret": "other"})
        self.assertEqual(
            self.credential.with_user(self.manager).read(["secret"])[0]["secret"], SECRET
        )

    def test_export_leaves_secrets_out(self):
        self.set_secret()
        self.ihub_user.groups_id += self.env.ref("base.group_allow_export")
        as_user = self.credential.with_user(self.ihub_user)
        for who in (as_user, self.credential.with_user(self.manager)):
            with self.assertRaisesRegex(AccessError, "never exported"):
                who.export_data(["name", "secret"])
        with self.assertRaisesRegex(AccessError, "never exported"):
            self.integration.with_user(self.ihub_user).export_data(["credential_ids/secret"])
        rows = as_user.export_data(["name", "kind"])["datas"]
        self.assertEqual(rows, [["API Key", "API Key"]])
        # Even a path the export check does not know stays empty for a user.
        self.assertFalse(as_user.secret)
        self.assertEqual(self.credential.with_user(self.manager).secret, SECRET)
        exportable = self.env["ihub.credential"].with_user(self.manager).fields_get()
        for name in ("secret", "client_secret", "access_token", "refresh_token"):
            self.assertFalse(exportable[name]["exportable"], name)

    def test_form_view_has_no_secret_field_for_users(self):
        for model in ("ihub.credential",):
            user_arch = self.env[model].with_user(self.ihub_user).get_views([(False, "form")])
            manager_arch = self.env[model].with_user(self.manager).get_views([(False, "form")])
            user_fields = user_arch["models"][model]["fields"]
            self.assertNotIn("secret", user_fields)
            self.assertNotIn("client_secret", user_fields)
            self.assertIn('name="secret"', manager_arch["views"]["form"]["arch"])
            self.assertIn('password="True"', manager_arch["views"]["form"]["arch"])

    def test_secrets_are_not_copied(self):
        for name in ("secret", "client_secret", "access_token", "refresh_token"):
            self.assertFalse(self.env["ihub.credential"]._fields[name].copy, name)

    def test_other_company_credentials_are_hidden(self):
        other = (
            self.env["ihub.integration.test.credential"]
            .with_user(self.manager)
            .create(
                {"name": "Other", "company_id": self.other_company.id, "user_id": self.manager.id}
            )
        )
        restricted = new_test_user(
            self.env, login="ihub_user_one_company", groups="ihub.group_ihub_user"
        )
        visible = self.env["ihub.credential"].with_user(restricted).search([])
        self.assertNotIn(other.credential_ids, visible)
        self.assertIn(self.credential, visible)


class TestEncryptionAtRest(CredentialCase):
    def test_clear_text_without_a_key(self):
        with encryption_key(""):
            self.set_secret()
            self.assertEqual(self.stored(), SECRET)
            self.assertFalse(self.integration.secrets_encrypted)

    def test_ciphertext_with_a_key(self):
        with encryption_key(ihub_secrets.generate_key()):
            self.set_secret()
            stored = self.stored()
            self.assertTrue(ihub_secrets.is_encrypted(stored))
            self.assertNotIn(SECRET, stored)
            self.credential.invalidate_recordset()
            self.assertEqual(self.credential.with_user(self.manager).secret, SECRET)
            self.integration.invalidate_recordset(["secrets_encrypted"])
            self.assertTrue(self.integration.secrets_encrypted)

    def test_reencrypt_after_a_key_change_and_of_clear_text(self):
        old, new = ihub_secrets.generate_key(), ihub_secrets.generate_key()
        with encryption_key(""):
            self.set_secret()
        with encryption_key(old):
            self.credential.invalidate_recordset()
            self.assertEqual(self.credential.with_user(self.manager).secret, SECRET)
            # Every clear-text secret is encrypted: this one and those of demo data.
            clear = (
                self.env["ihub.credential"]
                .sudo()
                .with_context(active_test=False)
                .search([])
                .filtered(
                    lambda c: c.secret_store and not ihub_secrets.is_encrypted(c.secret_store)
                )
            )
            self.assertIn(self.credential, clear)
            self.assertEqual(self.env["ihub.credential"]._ihub_reencrypt_all(), len(clear))
            under_old = self.stored()
            self.assertTrue(ihub_secrets.is_encrypted(under_old))
        with encryption_key(f"{new},{old}"):
            self.env["ihub.credential"]._ihub_reencrypt_all()
            under_new = self.stored()
            self.assertNotEqual(under_new, under_old)
        with encryption_key(new):
            self.credential.invalidate_recordset()
            self.assertEqual(self.credential.with_user(self.manager).secret, SECRET)

    def test_reencrypt_is_for_the_superuser_and_needs_a_key(self):
        with self.assertRaises(AccessError):
            self.env["ihub.credential"].with_user(self.manager)._ihub_reencrypt_all()
        with encryption_key(""), self.assertRaises(UserError):
            self.env["ihub.credential"]._ihub_reencrypt_all()


class TestStartAndChatter(CredentialCase):
    def test_start_refuses_a_missing_credential(self):
        with self.assertRaisesRegex(UserError, "API Key") as caught:
            self.integration.with_user(self.ihub_user).action_start()
        self.assertIn("With key", str(caught.exception))
        self.assertEqual(self.integration.state, "draft")
        self.set_secret()
        self.integration.with_user(self.ihub_user).action_start()
        self.assertEqual(self.integration.state, "active")
        self.assertEqual(self.sub.hook_calls, "activate\n", "Start calls activate()")

    def test_failing_activate_refuses_start_with_the_secret_redacted(self):
        self.set_secret()
        self.sub.fail_hook = "activate"
        # The hook reads the key on the user's behalf (allowed while iHub calls it) and puts
        # it in its error: the user sees it redacted.
        with self.assertRaisesRegex(UserError, "could not be activated") as caught:
            self.integration.with_user(self.ihub_user).action_start()
        self.assertNotIn(SECRET, str(caught.exception))
        self.assertIn("key ***", str(caught.exception))
        self.assertEqual(self.integration.state, "draft")

    def test_chatter_tracks_who_changed_which_field_never_the_value(self):
        self.set_secret()
        self.credential.with_user(self.manager).write({"expires_on": date(2030, 1, 1)})
        bodies = self.integration.message_ids.mapped("body")
        changed = [body for body in bodies if "changed" in body]
        self.assertTrue(any("Secret" in body for body in changed), bodies)
        self.assertTrue(any("Expires On" in body for body in changed), bodies)
        self.assertFalse([body for body in bodies if SECRET in body])
        message = self.integration.message_ids.filtered(lambda m: "Secret" in m.body)[:1]
        self.assertEqual(message.author_id, self.manager.partner_id)

    def test_one_change_one_message_that_names_the_field(self):
        # Storing a secret writes its hidden column too: that inner write once posted a
        # second message listing no field ("changed: .").
        before = self.integration.message_ids
        self.set_secret()
        bodies = (self.integration.message_ids - before).mapped("body")
        changed = [body for body in bodies if "changed" in body]
        self.assertEqual(len(changed), 1, bodies)
        self.assertIn("changed: Secret.", changed[0])


class TestSecretAccessor(CredentialCase):
    def test_refused_outside_a_run_for_a_user_allowed_for_a_manager(self):
        self.set_secret()
        with self.assertRaisesRegex(AccessError, "only read inside its runs"):
            self.integration.with_user(self.ihub_user).ihub_secret("api_key")
        with self.assertRaises(AccessError):
            self.sub.with_user(self.ihub_user).ihub_secret()
        self.assertEqual(self.sub.with_user(self.manager).ihub_secret("api_key"), SECRET)

    def test_allowed_inside_a_run_of_the_integration(self):
        self.set_secret()
        self.integration.sudo().run_user_id = self.ihub_user
        job = run_integration(self.integration.with_user(self.ihub_user))
        self.assertEqual(job.state, "done", job.error_message)
        self.assertEqual(job.user_id, self.ihub_user)
        self.assertEqual(self.sub.secret_length, len(SECRET))

    def test_unknown_field_is_refused(self):
        with self.assertRaises(ValueError):
            self.integration.with_user(self.manager).ihub_secret(field="password")

    def test_username_goes_with_the_secret_and_its_rules(self):
        self.integration.credential_ids.sudo().username = "robot"
        with self.assertRaisesRegex(AccessError, "only read inside its runs"):
            self.sub.with_user(self.ihub_user).ihub_secret(field="username")
        self.assertEqual(self.sub.with_user(self.manager).ihub_secret(field="username"), "robot")


class TestLifecycle(CredentialCase):
    def setUp(self):
        super().setUp()
        self.set_secret()

    def test_stop_calls_deactivate(self):
        self.integration.with_user(self.ihub_user).action_start()
        self.integration.with_user(self.ihub_user).action_stop()
        self.assertEqual(self.sub.hook_calls, "activate\ndeactivate\n")
        self.assertEqual(self.integration.state, "stopped")

    def test_test_connection_success_and_failure_with_the_secret_redacted(self):
        action = self.integration.with_user(self.manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.sub.fail_hook = "test_connection"
        with self.assertRaisesRegex(UserError, "refused by the other system") as caught:
            self.integration.with_user(self.manager).action_test_connection()
        self.assertNotIn(SECRET, str(caught.exception))
        self.assertIn("***", str(caught.exception))
        with self.assertRaises(AccessError):
            self.integration.with_user(self.ihub_user).action_test_connection()

    def test_hooks_are_refused_over_rpc_to_users(self):
        for hook in ("activate", "deactivate", "test_connection"):
            with self.assertRaises(AccessError):
                getattr(self.sub.with_user(self.ihub_user), hook)()
        self.assertFalse(self.sub.hook_calls)

    def test_failing_deactivate_blocks_deletion_until_forced(self):
        self.sub.fail_hook = "deactivate"
        with self.assertRaisesRegex(UserError, "Delete Anyway") as caught:
            self.integration.with_user(self.manager).unlink()
        self.assertNotIn(SECRET, str(caught.exception))
        self.assertTrue(self.integration.exists())
        with self.assertRaisesRegex(UserError, "Delete Anyway"):
            self.sub.with_user(self.manager).unlink()
        credential = self.credential
        self.integration.with_user(self.manager).action_force_unlink()
        self.assertFalse(self.integration.exists())
        self.assertFalse(credential.exists(), "the tokens went with it")
        event = self.env["ihub.log"].search([("summary", "ilike", "deleted although")])
        self.assertTrue(event)
        self.assertNotIn(SECRET, event.summary + (event.details or ""))

    def test_deletion_calls_deactivate_first(self):
        self.integration.with_user(self.manager).unlink()
        # The sub-record is gone; what it recorded went with it, so check through an event-free
        # path: a failing hook proves the order (see above). Here: no error, all deleted.
        self.assertFalse(self.sub.exists())


class TestExpiryWarnings(CredentialCase):
    def activities(self):
        return self.env["mail.activity"].search(
            [("res_model", "=", "ihub.integration"), ("res_id", "=", self.integration.id)]
        )

    def test_warns_once_per_credential_and_expiry(self):
        self.set_secret()
        today = date.today()
        self.credential.expires_on = today + timedelta(days=30)
        self.env["ihub.credential"]._cron_warn_expiring()
        self.assertFalse(self.activities(), "30 days ahead is beyond the default 14")
        self.env["ir.config_parameter"].sudo().set_param(
            "ihub.credential_expiry_warning_days", "40"
        )
        self.env["ihub.credential"]._cron_warn_expiring()
        self.env["ihub.credential"]._cron_warn_expiring()
        activity = self.activities()
        self.assertEqual(len(activity), 1, "not a daily duplicate")
        self.assertEqual(activity.user_id, self.manager)
        # The date as its reader (en_US) writes dates, not the database's 2026-12-28.
        expiry = today + timedelta(days=30)
        self.assertIn(expiry.strftime("%m/%d/%Y"), str(activity.note))
        self.assertNotIn(expiry.isoformat(), str(activity.note))
        self.credential.expires_on = today + timedelta(days=35)
        self.env["ihub.credential"]._cron_warn_expiring()
        self.assertEqual(len(self.activities()), 2, "a new expiry is warned again")


@tagged("post_install", "-at_install")
class TestCredentialRpc(HttpCase):
    """What a logged-in iHub user gets over real JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(journal.forget, cls.cr)
        cls.reader = new_test_user(cls.env, login="cred_reader", groups="ihub.group_ihub_user")
        cls.manager = new_test_user(cls.env, login="cred_manager", groups="ihub.group_ihub_manager")
        sub = (
            cls.env["ihub.integration.test.credential"]
            .with_user(cls.manager)
            .create({"name": "Over RPC", "user_id": cls.manager.id})
        )
        cls.credential = sub.super_id.credential_ids
        cls.credential.with_user(cls.manager).secret = SECRET

    def call(self, login, method, args, kwargs=None):
        self.authenticate(login, login)
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": "ihub.credential",
                        "method": method,
                        "args": args,
                        "kwargs": kwargs or {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def test_rpc_read_refuses_secrets_to_users(self):
        with self.assertLogs("odoo.http", "WARNING"):
            answer = self.call("cred_reader", "read", [self.credential.ids, ["secret"]])
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertNotIn(SECRET, json.dumps(answer))
        answer = self.call("cred_reader", "read", [self.credential.ids])
        self.assertNotIn("secret", answer["result"][0])
        self.assertNotIn(SECRET, json.dumps(answer))
        answer = self.call("cred_manager", "read", [self.credential.ids, ["secret"]])
        self.assertEqual(answer["result"][0]["secret"], SECRET)
