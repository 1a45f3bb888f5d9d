"""iHub's HTTP client against real local servers on loopback (no database).

Every test runs under a socket tripwire: a connect to anything but loopback, or a lookup of a
name through the system resolver, fails the test before a packet can leave the machine. Names in
URLs are answered by fake resolvers; the servers listen on 127.0.0.1 (and 127.0.0.2).
"""

import json
import os
import socket
import ssl
import tempfile
import traceback
from contextlib import ExitStack
from unittest import mock
from urllib.parse import urlsplit

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.auth import HeaderAuth, OAuth2TokenAuth, QueryParamAuth
from odoo.addons.ihub.lib.exceptions import IHubError, IHubPermanentError
from odoo.addons.ihub.lib.http import (
    IHubAuthError,
    IHubHTTPError,
    build_session,
)
from odoo.addons.ihub.lib.netguard import NetworkRefused
from odoo.addons.ihub.tests.http_helpers import (
    SECRET,
    RequestsToIHubGuard,
    Tripwire,
    TripwireError,
    self_signed_certificate,
    start_server,
)


class HttpCase(RequestsToIHubGuard, BaseCase):
    """Base: one server on 127.0.0.1, a tripwire, and a fake resolver for test names."""

    def setUp(self):
        super().setUp()
        self.server = start_server(self)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        stack = ExitStack()
        self.addCleanup(stack.close)
        self.tripwire = Tripwire().start(stack)
        self.exchanges = []
        self.waits = []

    def session(self, base_url=None, **kwargs):
        kwargs.setdefault("allow_private", True)
        kwargs.setdefault("recorder", self.exchanges.append)
        kwargs.setdefault("backoff_factor", 0)
        session = build_session(base_url or self.base, **kwargs)
        session.sleep = self.waits.append
        self.addCleanup(session.close)
        return session

    def paths_seen(self, server=None):
        return [(method, urlsplit(path).path) for method, path, *_ in (server or self.server).seen]

    def assertOnlyLoopbackTraffic(self):
        self.assertEqual(self.tripwire.lookups, [])
        self.assertTrue(all(host.startswith("127.") for host in self.tripwire.connects))


class TestRequests(HttpCase):
    def test_paths_are_relative_to_the_base_url_and_carry_the_user_agent(self):
        session = self.session(f"{self.base}/api/v1", user_agent="iHub/18.0 (Shop orders)")
        answer = session.get_json("/echo/partners", params={"page": 2})
        self.assertEqual(answer["path"], "/api/v1/echo/partners?page=2")
        self.assertEqual(answer["headers"]["User-Agent"], "iHub/18.0 (Shop orders)")
        self.assertEqual(answer["headers"]["Accept"], "application/json")
        other = session.get_json(f"{self.base}/echo/absolute")
        self.assertEqual(other["path"], "/echo/absolute")
        self.assertOnlyLoopbackTraffic()

    def test_retry_after_is_honoured_up_to_the_cap(self):
        session = self.session(max_retry_after=2)
        answer = session.get_json("/flaky", params={"statuses": "429,503", "after": "1,3600"})
        self.assertEqual(answer, {"ok": True, "attempts": 3})
        self.assertEqual(self.paths_seen(), [("GET", "/flaky")] * 3)
        self.assertEqual(self.waits, [1, 2], "Retry-After 1, then 3600 capped at 2")
        self.assertEqual([e["status"] for e in self.exchanges], [429, 503, 200])
        self.assertEqual([e["attempt"] for e in self.exchanges], [1, 2, 3])

    def test_backoff_grows_between_retries_without_retry_after(self):
        session = self.session(backoff_factor=0.5, retries=3)
        with self.assertRaises(IHubHTTPError) as caught:
            session.get("/flaky", params={"statuses": "502,503,504,502", "after": ",,,"})
        self.assertEqual(caught.exception.status, 502)
        self.assertNotIsInstance(caught.exception, IHubPermanentError, "runs retry a 5xx")
        self.assertEqual(len(self.server.seen), 4, "the first try and three retries")
        self.assertEqual(self.waits, [1.0, 2.0], "urllib3 retries at once the first time")

    def test_post_is_not_retried_once_it_may_have_reached_the_server(self):
        session = self.session()
        with self.assertRaises(IHubHTTPError):
            session.post("/flaky", json={"a": 1}, params={"statuses": "503", "after": ""})
        with self.assertRaises(IHubError) as caught:
            session.post("/drop", json={"a": 1})
        self.assertIn(f"POST {self.base}/drop failed: the connection broke", str(caught.exception))
        self.assertEqual(self.paths_seen(), [("POST", "/flaky"), ("POST", "/drop")])
        with self.assertRaises(IHubError):
            session.get("/drop")
        self.assertEqual(self.paths_seen().count(("GET", "/drop")), 4, "a GET is retried")

    def test_a_refused_connection_is_retried_even_for_post(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
        probe.close()
        session = self.session(f"http://127.0.0.1:{closed_port}", retries=2)
        with self.assertRaises(IHubError) as caught:
            session.post("/orders", json={})
        self.assertNotIsInstance(caught.exception, IHubPermanentError)
        self.assertIn(f"POST http://127.0.0.1:{closed_port}/orders failed", str(caught.exception))
        self.assertIn("could not connect", str(caught.exception))
        self.assertEqual(len(self.exchanges), 3, "never connected, so safe to retry")
        self.assertTrue(all(e["status"] is None and e["error"] for e in self.exchanges))

    def test_a_read_timeout_becomes_an_ihub_error_naming_the_request(self):
        session = self.session(timeouts=(5, 0.2), retries=0)
        with self.assertRaises(IHubError) as caught:
            session.get("/slow")
        self.assertEqual(
            str(caught.exception),
            f"GET {self.base}/slow failed: no answer within 0.2 s (read timeout)",
        )
        self.assertNotIsInstance(caught.exception, IHubPermanentError)

    def test_a_timeout_given_by_the_caller_wins(self):
        session = self.session(timeouts=(5, 30), retries=0)
        with self.assertRaises(IHubError) as caught:
            session.get("/slow", timeout=(5, 0.3))
        self.assertIn("no answer within 0.3 s (read timeout)", str(caught.exception))

    def test_the_answer_size_is_capped(self):
        session = self.session(max_response_bytes=1000, retries=0)
        for params in ({"size": 5000}, {"size": 5000, "stream": 1}):
            with self.assertRaises(IHubError) as caught:
                session.get("/big", params=params)
            self.assertIn(f"GET {self.base}/big?", str(caught.exception))
            self.assertIn("the answer is larger than 1000 bytes", str(caught.exception))
        self.assertEqual(len(session.get("/big", params={"size": 1000}).content), 1000)
        head = session.head("/big", params={"size": 5000})
        self.assertEqual(head.headers["Content-Length"], "5000", "a HEAD answer has no body")
        response = session.get("/big", params={"size": 5000}, max_response_bytes=5000)
        self.assertEqual(len(response.content), 5000)

    def test_bad_json_answers_are_clear_errors(self):
        session = self.session(retries=1)
        cases = [
            ("/html", "answered HTML instead of JSON (200): <!DOCTYPE html><html><body>Login"),
            ("/badjson", "answered invalid JSON (Expecting value at position 19)"),
            ("/truncated", "failed: the answer was cut short (truncated body)"),
        ]
        for path, fragment in cases:
            with self.assertRaises(IHubError) as caught:
                session.get_json(path)
            self.assertIn(f"GET {self.base}{path} ", str(caught.exception))
            self.assertIn(fragment, str(caught.exception))
        self.assertEqual(self.paths_seen().count(("GET", "/truncated")), 2, "a read error: retried")

    def test_statuses_become_ihub_errors_unless_expected(self):
        session = self.session(secrets=[SECRET])
        with self.assertRaises(IHubAuthError) as caught:
            session.get("/status/401")
        error = caught.exception
        self.assertIsInstance(error, IHubPermanentError)
        self.assertIsInstance(error, IHubHTTPError)
        self.assertEqual(error.status, 401)
        self.assertEqual(error.response.status_code, 401)
        self.assertIn(f"GET {self.base}/status/401 answered 401 Unauthorized:", str(error))
        self.assertIn('"error": "nope"', str(error))
        self.assertNotIn("leaked-token", str(error))
        self.assertNotIn(SECRET, str(error))
        with self.assertRaises(IHubAuthError):
            session.get("/status/403")
        with self.assertRaises(IHubHTTPError) as caught:
            session.get("/status/500", params={"api_key": "k"})
        self.assertNotIsInstance(caught.exception, IHubPermanentError)
        self.assertIn("/status/500?api_key=*** answered 500", str(caught.exception))
        with self.assertRaises(IHubHTTPError) as caught:
            session.post_json("/status/422", json={})
        self.assertEqual(caught.exception.status, 422)
        self.assertEqual(session.get("/status/404", expected_status=(404,)).status_code, 404)

    def test_json_helpers_send_and_parse(self):
        session = self.session()
        answer = session.post_json("/echo", json={"name": "Azure"})
        self.assertEqual(json.loads(answer["body"]), {"name": "Azure"})
        answer = session.request_json("PUT", "/echo", json=[1])
        self.assertEqual(answer["body"], "[1]")

    def test_throttle_is_called_before_every_attempt_and_hop(self):
        calls = []
        session = self.session(throttle=lambda: calls.append(len(self.server.seen)))
        session.get_json("/flaky", params={"statuses": "503", "after": ""})
        session.get("/redirect", params={"to": "/echo"})
        self.assertEqual(calls, [0, 1, 2, 3])

    def test_proxies_and_other_schemes_are_refused(self):
        session = self.session()
        with self.assertRaises(NetworkRefused):
            session.get("/echo", proxies={"http": f"{self.base}/proxy"})
        with self.assertRaises(NetworkRefused):
            session.get("ftp://127.0.0.1/x")
        self.assertEqual(self.server.seen, [])


class TestGuard(HttpCase):
    def test_a_refused_request_never_connects(self):
        resolver = mock.Mock(return_value=["10.0.0.5"])
        session = self.session(allow_private=False, resolver=resolver)
        for url in (
            f"{self.base}/echo",
            f"http://2130706433:{self.port}/echo",
            f"http://0x7f.1:{self.port}/echo",
            f"http://[::ffff:127.0.0.1]:{self.port}/echo",
            f"http://localhost:{self.port}/echo",
            "http://intranet.test/echo",
            "http://169.254.169.254/latest/meta-data/",
        ):
            with self.assertRaises(NetworkRefused):
                session.get(url)
        self.assertEqual(self.tripwire.connects, [])
        self.assertEqual(self.tripwire.lookups, [])
        self.assertEqual(self.server.seen, [])
        self.assertEqual(resolver.call_args_list, [mock.call("intranet.test", 80)])
        self.assertTrue(
            all(e["status"] is None and "refused" in e["error"] for e in self.exchanges)
        )

    def test_a_redirect_to_a_refused_address_is_not_followed(self):
        resolver = mock.Mock(return_value=["192.168.1.10"])
        # Only the test server's own address is allowed, as an on-premise system would be.
        session = self.session(allow_private=["127.0.0.1/32"], resolver=resolver)
        for target, fragment in (
            ("http://10.0.0.5/admin", "10.0.0.5 is a private address"),
            ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
            ("http://internal.test/", "internal.test resolves to 192.168.1.10"),
            (f"http://127.0.0.2:{self.port}/echo", "127.0.0.2 is a loopback address"),
        ):
            with self.assertRaises(NetworkRefused) as caught:
                session.get("/redirect", params={"to": target})
            self.assertIn(fragment, str(caught.exception))
        self.assertEqual(self.paths_seen(), [("GET", "/redirect")] * 4)
        self.assertEqual(set(self.tripwire.connects), {"127.0.0.1"})
        self.assertEqual(self.tripwire.lookups, [])
        self.assertEqual([e["status"] for e in self.exchanges], [302, None] * 4)

    def test_the_connection_goes_to_the_address_that_was_checked(self):
        # DNS rebinding: the name answers 127.0.0.1 at the first check and 127.0.0.2 later. Each
        # request must connect to what its own check saw, never re-resolve nor reuse the
        # kept-alive connection to the first address.
        try:
            second = start_server(self, "127.0.0.2", self.port, name="B")
        except OSError:
            self.skipTest("127.0.0.2 is not available on this machine")
        answers = [["127.0.0.1"], ["127.0.0.2"], ["127.0.0.2"]]
        resolver = mock.Mock(side_effect=answers)
        session = self.session(f"http://rebind.test:{self.port}", resolver=resolver)
        first = session.get_json("/echo")
        self.assertEqual(
            (first["server"], first["headers"]["Host"]), ("A", f"rebind.test:{self.port}")
        )
        second_answer = session.get_json("/echo")
        self.assertEqual(second_answer["server"], "B")
        self.assertEqual(session.get_json("/echo")["server"], "B", "B's connection is reused")
        self.assertEqual(self.tripwire.connects, ["127.0.0.1", "127.0.0.2"])
        self.assertEqual(self.tripwire.lookups, [], "the name was never resolved by the system")
        self.assertEqual(resolver.call_count, 3, "one check per request")
        self.assertEqual(len(second.seen), 2)

    def test_a_name_checked_as_elsewhere_never_connects_to_a_fresh_lookup(self):
        # The check sees an outside address (a documentation range, allowed here by name); a
        # fresh lookup at connect time could answer 127.0.0.1 and reach the test server. The
        # tripwire shows the connect went to the checked address, and stops it before any packet.
        session = self.session(
            f"http://api.rebind.test:{self.port}",
            allow_private=["198.51.100.0/24"],
            resolver=mock.Mock(return_value=["198.51.100.7"]),
            retries=0,
        )
        with self.assertRaises(TripwireError):
            session.get("/echo")
        self.assertEqual(self.tripwire.connects, ["198.51.100.7"])
        self.assertEqual(self.tripwire.lookups, [])
        self.assertEqual(self.server.seen, [])


class TestTLS(HttpCase):
    def test_tls_verifies_the_name_while_connecting_to_the_checked_address(self):
        folder = tempfile.mkdtemp()
        self.addCleanup(lambda: [os.remove(os.path.join(folder, f)) for f in os.listdir(folder)])
        cert_path, key_path = self_signed_certificate(folder, "api.test")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        names = []
        context.sni_callback = lambda sock, name, ctx: names.append(name)
        server = start_server(self, name="TLS")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        port = server.server_address[1]
        resolver = mock.Mock(return_value=["127.0.0.1"])
        session = self.session(resolver=resolver, retries=0)
        session.verify = cert_path
        answer = session.get_json(f"https://api.test:{port}/echo")
        self.assertEqual((answer["server"], answer["headers"]["Host"]), ("TLS", f"api.test:{port}"))
        self.assertEqual(names, ["api.test"], "SNI carries the name, not the address")
        # Same address, another name: the certificate does not match it.
        with self.assertRaises(IHubError) as caught:
            session.get(f"https://other.test:{port}/echo")
        message = str(caught.exception)
        self.assertIn(f"GET https://other.test:{port}/echo failed: TLS failed", message)
        self.assertNotIsInstance(caught.exception, IHubPermanentError)
        self.assertEqual(set(self.tripwire.connects), {"127.0.0.1"})
        self.assertEqual(self.tripwire.lookups, [])


class TestAuthAndRecords(HttpCase):
    def test_the_recorder_sees_every_exchange_without_secrets(self):
        session = self.session(
            auth=QueryParamAuth("api_key", "k3y-in-query"),
            secrets=[SECRET],
            debug_bodies=True,
        )
        with self.assertLogs("odoo.addons.ihub.lib.http", "DEBUG") as logs:
            response = session.post(
                "/echo", json={"password": "pw-1", "note": SECRET}, params={"x": 1}
            )
            with self.assertRaises(IHubHTTPError) as caught:
                session.get("/status/500", params={"token": "tok-2"})
        posted, failed = self.exchanges
        self.assertEqual(posted["method"], "POST")
        self.assertEqual(posted["url"], f"{self.base}/echo?x=1&api_key=***")
        self.assertEqual(posted["status"], 200)
        self.assertEqual(posted["request_bytes"], len(self.server.seen[0][3]))
        self.assertEqual(posted["response_bytes"], len(response.content))
        self.assertIsNone(posted["error"])
        self.assertIn('"note": "***"', posted["request_body"])
        self.assertIn('"password": "***"', posted["request_body"])
        self.assertIn('"server": "A"', posted["response_body"])
        self.assertEqual(failed["status"], 500)
        self.assertEqual(failed["url"], f"{self.base}/status/500?token=***&api_key=***")
        everything = json.dumps(self.exchanges) + str(caught.exception) + "\n".join(logs.output)
        for secret in ("k3y-in-query", SECRET, "pw-1", "tok-2", "leaked-token"):
            self.assertNotIn(secret, everything)
        self.assertIn("k3y-in-query", self.server.seen[0][1], "the key did reach the server")

    def test_a_traceback_of_a_failure_holds_no_secret(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
        probe.close()
        session = self.session(secrets=[SECRET], retries=0)
        failures = []
        for url in (f"http://127.0.0.1:{closed_port}/x", f"{self.base}/status/500"):
            with self.assertRaises(IHubError) as caught:
                session.get(url, params={"api_key": "k-77", "q": SECRET})
            failures.append("".join(traceback.format_exception(caught.exception)))
        self.assertIn("could not connect", failures[0])
        self.assertIn("answered 500", failures[1])
        for secret in ("k-77", SECRET, "leaked-token"):
            self.assertNotIn(secret, "\n".join(failures))

    def test_bodies_are_recorded_only_in_debug(self):
        session = self.session()
        session.get("/echo")
        self.assertNotIn("response_body", self.exchanges[0])
        self.assertNotIn("request_body", self.exchanges[0])

    def test_api_key_header_is_dropped_on_a_redirect_to_another_host(self):
        resolver = mock.Mock(return_value=["127.0.0.1"])
        session = self.session(auth=HeaderAuth("X-Api-Key", "k-1"), resolver=resolver)
        same = session.get_json("/redirect", params={"to": "/echo"})
        self.assertEqual(same["headers"]["X-Api-Key"], "k-1")
        other = session.get_json("/redirect", params={"to": f"http://other.test:{self.port}/echo"})
        self.assertNotIn("X-Api-Key", other["headers"])

    def test_bearer_token_is_refreshed_once_on_401(self):
        auth = OAuth2TokenAuth(lambda: ("fresh", None), access_token="stale")
        session = self.session(auth=auth)
        self.assertEqual(session.get_json("/bearer"), {"ok": True})
        auths = [headers.get("Authorization") for _m, _p, headers, _b in self.server.seen]
        self.assertEqual(auths, ["Bearer stale", "Bearer fresh"])
        self.assertEqual(session.get_json("/bearer"), {"ok": True})
        self.assertEqual(len(self.server.seen), 3, "the fresh token is used at once")

        revoked = OAuth2TokenAuth(lambda: ("revoked", None), access_token="revoked")
        stuck = self.session(auth=revoked)
        with self.assertRaises(IHubAuthError) as caught:
            stuck.get("/bearer")
        self.assertEqual(len(self.server.seen), 5, "one retry after the refresh, no loop")
        self.assertNotIn("revoked", str(caught.exception))
        self.assertNotIn("revoked", json.dumps(self.exchanges))
