"""Secrets at rest (ihub/lib/secrets.py), without a database."""

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.secrets import (
    PREFIX,
    SecretKeyError,
    decrypt,
    encrypt,
    generate_key,
    is_encrypted,
    parse_keys,
    redact,
    reencrypt,
)


class TestKeys(BaseCase):
    def test_no_key_means_no_encryption(self):
        for value in (None, False, "", " ", " , "):
            self.assertIsNone(parse_keys(value))
        self.assertEqual(encrypt("hunter22", None), "hunter22")

    def test_malformed_key_is_named_by_position_never_echoed(self):
        good = generate_key()
        with self.assertRaises(SecretKeyError) as caught:
            parse_keys(f"{good},not-a-key")
        self.assertIn("key 2 of 2", str(caught.exception))
        self.assertNotIn("not-a-key", str(caught.exception))
        with self.assertRaisesRegex(SecretKeyError, "key 2 of 3 is empty"):
            parse_keys(f"{good},,{good}")


class TestEncryption(BaseCase):
    def test_round_trip_with_recognisable_prefix(self):
        keys = parse_keys(generate_key())
        stored = encrypt("s3cret-value", keys)
        self.assertTrue(stored.startswith(PREFIX))
        self.assertTrue(is_encrypted(stored))
        self.assertNotIn("s3cret-value", stored)
        self.assertEqual(decrypt(stored, keys), "s3cret-value")
        self.assertEqual(encrypt(stored, keys), stored, "ciphertext is not encrypted twice")

    def test_empty_stays_empty(self):
        keys = parse_keys(generate_key())
        self.assertFalse(encrypt("", keys))
        self.assertIsNone(encrypt(None, keys))

    def test_clear_text_from_before_the_key_still_reads(self):
        keys = parse_keys(generate_key())
        self.assertFalse(is_encrypted("legacy"))
        self.assertEqual(decrypt("legacy", keys), "legacy")
        self.assertEqual(decrypt("legacy", None), "legacy")

    def test_ciphertext_without_key_or_with_wrong_key_is_a_clear_error(self):
        stored = encrypt("s3cret-value", parse_keys(generate_key()))
        with self.assertRaisesRegex(SecretKeyError, "no ihub_encryption_key"):
            decrypt(stored, None)
        with self.assertRaisesRegex(SecretKeyError, "cannot be decrypted") as caught:
            decrypt(stored, parse_keys(generate_key()))
        self.assertNotIn("s3cret-value", str(caught.exception))

    def test_rotation_first_key_encrypts_all_decrypt(self):
        old, new = generate_key(), generate_key()
        stored_old = encrypt("rotate-me", parse_keys(old))
        both = parse_keys(f"{new},{old}")
        self.assertEqual(decrypt(stored_old, both), "rotate-me")
        rotated = reencrypt(stored_old, both)
        self.assertTrue(is_encrypted(rotated))
        self.assertEqual(decrypt(rotated, parse_keys(new)), "rotate-me", "readable with new key")
        with self.assertRaises(SecretKeyError):
            decrypt(rotated, parse_keys(old))

    def test_reencrypt_encrypts_clear_text_and_skips_empty(self):
        keys = parse_keys(generate_key())
        self.assertEqual(decrypt(reencrypt("legacy", keys), keys), "legacy")
        self.assertIsNone(reencrypt("", keys))
        self.assertIsNone(reencrypt("legacy", None), "nothing to do without a key")
        with self.assertRaises(SecretKeyError):
            reencrypt(encrypt("x-value", keys), None)


class TestRedact(BaseCase):
    def test_secrets_are_replaced_longest_first(self):
        text = redact("GET /x?key=abcd1234 failed for abcd1234xyz", ["abcd1234", "abcd1234xyz"])
        self.assertEqual(text, "GET /x?key=*** failed for ***")

    def test_short_and_empty_secrets_are_left(self):
        self.assertEqual(redact("a b c", ["a", "", None]), "a b c")
        self.assertFalse(redact("", ["abcd"]))
