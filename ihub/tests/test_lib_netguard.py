"""The SSRF guard's decisions as pure functions: no socket is opened and no name is looked up."""

import ipaddress
import socket
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.tests import BaseCase

from odoo.addons.ihub.lib.exceptions import IHubError, IHubPermanentError
from odoo.addons.ihub.lib.netguard import (
    NetworkRefused,
    check_url,
    parse_ipv4,
    refusal_reason,
)


def no_resolver(host, port):
    raise AssertionError(f"{host}:{port} is a literal or refused by name: nothing to resolve")


def fake_resolver(table):
    """A resolver answering from ``table`` (name -> addresses), recording what it was asked."""
    asked = []

    def resolve(host, port):
        asked.append((host, port))
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    resolve.asked = asked
    return resolve


class TestRefusalReason(BaseCase):
    def assertRefused(self, address, fragment, **kwargs):
        reason = refusal_reason(address, **kwargs)
        self.assertIsNotNone(reason, f"{address} must be refused")
        self.assertIn(fragment, reason, address)

    def test_every_non_public_range_is_refused_with_its_rule(self):
        cases = [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.0.0.5", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.254", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "shared"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.10.10", "link-local"),
            ("100.100.100.200", "cloud metadata"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"),
            ("192.0.2.10", "not publicly routable"),
            ("198.18.0.1", "not publicly routable"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fd00:ec2::254", "cloud metadata"),
            ("fe80::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "not publicly routable"),
            ("64:ff9b:1::a00:5", "local-use NAT64"),
        ]
        for address, fragment in cases:
            self.assertRefused(address, fragment)
            self.assertRefused(ipaddress.ip_address(address), fragment)

    def test_ipv6_forms_are_judged_by_the_ipv4_address_they_carry(self):
        self.assertRefused("::ffff:127.0.0.1", "IPv4-mapped IPv6 form of 127.0.0.1, a loopback")
        self.assertRefused("::ffff:10.0.0.5", "IPv4-mapped IPv6 form of 10.0.0.5, a private")
        self.assertRefused("::ffff:169.254.169.254", "cloud metadata")
        self.assertRefused("::127.0.0.1", "IPv4-compatible IPv6 form of 127.0.0.1")
        self.assertRefused("64:ff9b::10.0.0.5", "NAT64 IPv6 form of 10.0.0.5, a private")
        self.assertRefused("2002:7f00:1::", "6to4 IPv6 form of 127.0.0.1")
        self.assertIsNone(refusal_reason("::ffff:93.184.216.34"))
        self.assertIsNone(refusal_reason("64:ff9b::93.184.216.34"))

    def test_every_ipv4_spelling_of_loopback_is_refused(self):
        for spelling in ("2130706433", "0x7f.1", "017700000001", "0177.0.0.1", "127.1"):
            self.assertRefused(spelling, "loopback")

    def test_public_addresses_pass(self):
        # Decisions only: nothing here connects anywhere.
        for address in ("93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700:4700::1111"):
            self.assertIsNone(refusal_reason(address), address)

    def test_allow_private_lifts_private_rules_but_never_metadata_or_multicast(self):
        for address in ("127.0.0.1", "10.0.0.5", "192.168.1.1", "fd12::1", "::ffff:127.0.0.1"):
            self.assertIsNone(refusal_reason(address, allow_private=True), address)
        for address in ("169.254.169.254", "fd00:ec2::254", "0.0.0.0", "224.0.0.1", "ff02::1"):
            self.assertIsNotNone(refusal_reason(address, allow_private=True), address)

    def test_allow_private_can_name_the_networks_allowed(self):
        allowed = ["10.1.0.0/16", "fd00:1::/32"]
        self.assertIsNone(refusal_reason("10.1.2.3", allow_private=allowed))
        self.assertIsNone(refusal_reason("fd00:1::5", allow_private=allowed))
        self.assertRefused("10.2.0.1", "private", allow_private=allowed)
        self.assertRefused("127.0.0.1", "loopback", allow_private=allowed)
        self.assertRefused("169.254.169.254", "metadata", allow_private=["169.254.0.0/16"])


class TestParseIPv4(BaseCase):
    def test_every_literal_form_a_url_host_may_use(self):
        loopback = ipaddress.IPv4Address("127.0.0.1")
        for text in (
            "127.0.0.1",
            "2130706433",
            "017700000001",
            "0177.0.0.1",
            "0x7f.1",
            "0X7F.0.0.1",
            "0x7f000001",
            "127.1",
            "127.0.1",
            "0x7f.0.0x0.01",
        ):
            self.assertEqual(parse_ipv4(text), loopback, text)
        self.assertEqual(parse_ipv4("10.0x10203"), ipaddress.IPv4Address("10.1.2.3"))

    def test_what_is_not_an_ipv4_literal(self):
        for text in (
            "",
            "256.0.0.1",
            "1.2.3.4.5",
            "1..1",
            "1.2.3.",
            "08",
            "0x",
            "0xg",
            "4294967296",
            "1.16777216",
            "example.com",
            "-1",
            " 1",
        ):
            self.assertIsNone(parse_ipv4(text), text)

    @staticmethod
    def inet_aton(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet=string.hexdigits + "xX.", max_size=24))
    def test_parser_agrees_with_inet_aton_on_any_text(self, text):
        self.assertEqual(parse_ipv4(text), self.inet_aton(text), repr(text))

    @settings(max_examples=400, deadline=None)
    @given(
        st.lists(
            st.tuples(st.integers(0, 2**32), st.sampled_from(["{:d}", "0{:o}", "0x{:x}"])),
            min_size=1,
            max_size=5,
        )
    )
    def test_parser_agrees_with_inet_aton_on_numbers_in_any_base(self, parts):
        text = ".".join(fmt.format(value) for value, fmt in parts)
        self.assertEqual(parse_ipv4(text), self.inet_aton(text), text)


class TestCheckUrl(BaseCase):
    def assertRefusedUrl(self, url, *fragments, **kwargs):
        kwargs.setdefault("resolver", no_resolver)
        with self.assertRaises(NetworkRefused) as caught:
            check_url(url, **kwargs)
        message = str(caught.exception)
        self.assertTrue(message.startswith("iHub refused "), message)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return message

    def test_literal_hosts_in_every_form_are_refused_without_a_lookup(self):
        cases = [
            ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
            ("http://10.0.0.5/x", "10.0.0.5 is a private address"),
            ("http://172.16.3.4:8080/", "172.16.3.4 is a private address"),
            ("https://192.168.0.10/", "192.168.0.10 is a private address"),
            ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
            ("http://[::1]:8069/", "::1 is a loopback address"),
            ("http://[fc00::5]/", "unique-local"),
            ("http://[::ffff:127.0.0.1]/", "IPv4-mapped IPv6 form of 127.0.0.1"),
            ("http://2130706433/", "127.0.0.1 is a loopback address"),
            ("http://0x7f.1/", "127.0.0.1 is a loopback address"),
            ("http://017700000001/", "127.0.0.1 is a loopback address"),
            ("http://0177.0.0.1/", "127.0.0.1 is a loopback address"),
            ("http://127.1/", "127.0.0.1 is a loopback address"),
            ("http://127.0.0.1./", "127.0.0.1 is a loopback address"),
            ("http://0.0.0.0:8069/", "unspecified"),
        ]
        for url, fragment in cases:
            self.assertRefusedUrl(url, fragment)

    def test_the_message_names_the_redacted_url_the_rule_and_the_remedy(self):
        message = self.assertRefusedUrl("http://10.0.0.5/x?token=abc&page=2", "10.0.0.5")
        self.assertEqual(
            message,
            "iHub refused http://10.0.0.5/x?token=***&page=2: 10.0.0.5 is a private address "
            "(allow private networks on the integration to reach on-premise systems)",
        )
        self.assertNotIn("abc", message)
        metadata = self.assertRefusedUrl("http://169.254.169.254/", "cloud metadata")
        self.assertNotIn("allow private networks", metadata, "no switch lifts this rule")

    def test_refusals_are_permanent_errors(self):
        self.assertTrue(issubclass(NetworkRefused, IHubPermanentError))

    def test_localhost_is_refused_by_name(self):
        for url in (
            "http://localhost:8069/web",
            "http://LOCALHOST/",
            "http://api.localhost/",
            "http://localhost./",
            "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/",  # full-width
        ):
            self.assertRefusedUrl(url, "loopback")

    def test_a_name_resolving_to_a_private_address_is_refused(self):
        resolver = fake_resolver(
            {
                "intranet.example": ["10.0.0.5"],
                "loop.example": ["127.0.0.1"],
                "mixed.example": ["93.184.216.34", "192.168.1.7"],
                "mapped.example": ["::ffff:127.0.0.1"],
            }
        )
        self.assertRefusedUrl(
            "https://intranet.example/api",
            "intranet.example resolves to 10.0.0.5, a private address",
            resolver=resolver,
        )
        self.assertRefusedUrl("http://loop.example/", "127.0.0.1, a loopback", resolver=resolver)
        self.assertRefusedUrl("http://mixed.example/", "192.168.1.7", resolver=resolver)
        self.assertRefusedUrl("http://mapped.example/", "IPv4-mapped", resolver=resolver)
        self.assertEqual(resolver.asked[0], ("intranet.example", 443))

    def test_a_public_name_gives_the_addresses_to_connect_to(self):
        resolver = fake_resolver({"api.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
        target = check_url("https://API.example.com:8443/v1?x=1", resolver=resolver)
        self.assertEqual(target.scheme, "https")
        self.assertEqual(target.host, "api.example.com")
        self.assertEqual(target.port, 8443)
        self.assertEqual(target.addresses, ("93.184.216.34", "2606:2800:220:1::1"))
        literal = check_url("http://93.184.216.34/", resolver=no_resolver)
        self.assertEqual((literal.port, literal.addresses), (80, ("93.184.216.34",)))

    def test_allow_private_lets_on_premise_systems_through(self):
        resolver = fake_resolver({"erp.lan": ["10.0.0.5"], "localhost": ["127.0.0.1"]})
        target = check_url("http://erp.lan:8069/", allow_private=True, resolver=resolver)
        self.assertEqual(target.addresses, ("10.0.0.5",))
        self.assertEqual(
            check_url("http://localhost:8069/", allow_private=True, resolver=resolver).addresses,
            ("127.0.0.1",),
        )
        self.assertEqual(
            check_url("http://0x7f.1:8069/", allow_private=True, resolver=no_resolver).addresses,
            ("127.0.0.1",),
        )
        self.assertRefusedUrl("http://169.254.169.254/", "cloud metadata", allow_private=True)

    def test_other_schemes_credentials_and_zone_ids_are_refused(self):
        self.assertRefusedUrl("ftp://files.example/x", "only http and https")
        self.assertRefusedUrl("file:///etc/passwd", "only http and https")
        self.assertRefusedUrl("gopher://127.0.0.1:25/", "only http and https")
        message = self.assertRefusedUrl(
            "https://bob:hunter2@api.example.com/", "credentials in the URL"
        )
        self.assertNotIn("hunter2", message)
        self.assertRefusedUrl("http://[fe80::1%25eth0]/", "zone id")
        self.assertRefusedUrl("http:///path-only", "no host")
        self.assertRefusedUrl("http://[::1/", "not valid")

    def test_a_name_that_does_not_resolve_is_a_retryable_error(self):
        with self.assertRaises(IHubError) as caught:
            check_url("https://nowhere.example/?api_key=k", resolver=fake_resolver({}))
        self.assertNotIsInstance(caught.exception, IHubPermanentError)
        self.assertIn("could not resolve nowhere.example", str(caught.exception))
        self.assertIn("api_key=***", str(caught.exception))
