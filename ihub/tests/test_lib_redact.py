"""Masking secrets in URLs, text and headers (no database)."""

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.redact import redact_headers, redact_text, redact_url


class TestRedaction(BaseCase):
    def test_redact_url(self):
        self.assertEqual(
            redact_url("https://u:pw@api.example.com/x?api_key=abc&page=2#access_token=t"),
            "https://u:***@api.example.com/x?api_key=***&page=2#access_token=***",
        )
        for name in ("token", "refresh_token", "apikey", "key", "client_secret", "sig", "code"):
            self.assertEqual(redact_url(f"http://h/?{name}=v&a=1"), f"http://h/?{name}=***&a=1")
        self.assertEqual(
            redact_url("http://h/p/Sekr%2Fet?q=Sekr/et", ["Sekr/et"]), "http://h/p/***?q=***"
        )
        self.assertEqual(
            redact_url("http://h/?X-Amz-Signature=abc"), "http://h/?X-Amz-Signature=***"
        )
        self.assertEqual(redact_url("http://h/a?page=1"), "http://h/a?page=1")
        self.assertIsNone(redact_url(None))

    def test_redact_text(self):
        text = (
            'Error {"access_token": "eyJhbGci", "code": "E42", "client_secret": "cs"} from '
            "https://bob:pw@h/?refresh_token=rt&x=1 with Bearer abcdef123456 and my-own-secret"
        )
        self.assertEqual(
            redact_text(text, secrets=["my-own-secret", ""]),
            'Error {"access_token": "***", "code": "E42", "client_secret": "***"} from '
            "https://bob:***@h/?refresh_token=***&x=1 with Bearer *** and ***",
        )
        self.assertEqual(
            redact_text("grant_type=password&password=p%40ss&user=a"),
            "grant_type=password&password=***&user=a",
        )
        self.assertIsNone(redact_text(None))

    def test_redact_headers(self):
        headers = {
            "Authorization": "Basic dTpw",
            "Proxy-Authorization": "x",
            "Cookie": "sid=1",
            "Set-Cookie": "sid=2",
            "X-Api-Key": "k",
            "X-Auth-Token": "t",
            "X-Hub-Signature-256": "sha256=1",
            "Accept": "application/json",
            "X-Note": "contains s3",
        }
        self.assertEqual(
            redact_headers(headers, secrets=["s3"]),
            {
                "Authorization": "***",
                "Proxy-Authorization": "***",
                "Cookie": "***",
                "Set-Cookie": "***",
                "X-Api-Key": "***",
                "X-Auth-Token": "***",
                "X-Hub-Signature-256": "***",
                "Accept": "application/json",
                "X-Note": "contains ***",
            },
        )
