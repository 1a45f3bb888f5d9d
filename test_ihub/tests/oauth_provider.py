"""A local OAuth2 provider on 127.0.0.1 for the tests, built from oauthlib's server classes.

``oauthlib.oauth2.Server`` does the protocol (authorization code with PKCE, refresh, client
credentials); ``Validator`` keeps clients, codes and tokens in memory; a ``http.server``
thread serves ``/authorize`` (approves at once, as if the user clicked Allow), ``/token`` and
``/api`` (a resource that wants a valid bearer token). oauthlib only allows plain http when
``OAUTHLIB_INSECURE_TRANSPORT`` is set: the tests set it.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from oauthlib.oauth2 import RequestValidator, Server

CLIENT_ID = "ihub-test-client"
CLIENT_SECRET = "client-s3cret-value"
SCOPES = ["contacts"]


class _Client:
    client_id = CLIENT_ID


class Validator(RequestValidator):
    def __init__(self):
        super().__init__()
        self.codes = {}  # code -> dict(challenge, method, redirect_uri, scopes)
        self.access_tokens = set()
        self.refresh_tokens = set()
        self.token_requests = []  # grant types asked for, in order

    # Clients
    def client_authentication_required(self, request, *args, **kwargs):
        return True

    def authenticate_client(self, request, *args, **kwargs):
        if request.client_id == CLIENT_ID and request.client_secret == CLIENT_SECRET:
            request.client = _Client()
            return True
        return False

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        return False

    def validate_client_id(self, client_id, request, *args, **kwargs):
        return client_id == CLIENT_ID

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        self.token_requests.append(grant_type)
        return grant_type in ("authorization_code", "refresh_token", "client_credentials")

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code"

    # Redirects and scopes
    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return redirect_uri.startswith("http://127.0.0.1:")

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        return None

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return set(scopes) <= set(SCOPES)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return SCOPES

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        return SCOPES

    def is_within_original_scope(self, request_scopes, refresh_token, request, *args, **kwargs):
        return True

    # Authorization codes and PKCE
    def is_pkce_required(self, client_id, request):
        return True

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        self.codes[code["code"]] = {
            "challenge": request.code_challenge,
            "method": request.code_challenge_method,
            "redirect_uri": request.redirect_uri,
        }

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if code not in self.codes:
            return False
        request.scopes = SCOPES
        request.user = "alice"
        return True

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kw):
        return self.codes.get(code, {}).get("redirect_uri") == redirect_uri

    def get_code_challenge(self, code, request):
        return self.codes.get(code, {}).get("challenge")

    def get_code_challenge_method(self, code, request):
        return self.codes.get(code, {}).get("method")

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        self.codes.pop(code, None)

    # Tokens
    def save_bearer_token(self, token, request, *args, **kwargs):
        self.access_tokens.add(token["access_token"])
        if "refresh_token" in token:
            self.refresh_tokens.add(token["refresh_token"])

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if refresh_token not in self.refresh_tokens:
            return False
        request.user = "alice"
        return True

    def rotate_refresh_token(self, request):
        return True

    def revoke_all(self):
        """What a provider does when the user withdraws the app's access."""
        self.access_tokens.clear()
        self.refresh_tokens.clear()


class Provider:
    """Serve the provider on a free port of 127.0.0.1 in a thread (``with Provider() as p``)."""

    def __init__(self, expires_in=3600):
        self.validator = Validator()
        self.server = Server(self.validator, token_expires_in=expires_in)
        self.api_calls = []  # the bearer token of each /api request
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, headers, body):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                body = (body or "").encode()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                uri = provider.url + self.path
                path = urlsplit(self.path).path
                if path == "/authorize":
                    scopes, _info = provider.server.validate_authorization_request(uri)
                    headers, body, status = provider.server.create_authorization_response(
                        uri, scopes=scopes, credentials={"user": "alice"}
                    )
                    self._send(status, headers, body)
                elif path == "/api":
                    header = self.headers.get("Authorization", "")
                    token = header.removeprefix("Bearer ")
                    provider.api_calls.append(token)
                    if token in provider.validator.access_tokens:
                        self._send(200, {"Content-Type": "application/json"}, '{"ok": true}')
                    else:
                        self._send(401, {}, "")
                else:
                    self._send(404, {}, "")

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                headers, answer, status = provider.server.create_token_response(
                    provider.url + self.path, "POST", body, dict(self.headers)
                )
                self._send(status, headers, answer)

        return Handler
