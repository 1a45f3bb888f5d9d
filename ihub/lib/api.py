"""The REST API's plain logic: routes, parameters, pagination and the JSON envelope.

Nothing here imports Odoo. ``ihub/controllers/api.py`` feeds requests through a
:class:`RouteTable`; ``lib/api_spec.py`` builds the OpenAPI document from the same table, so the
document cannot drift from what is served.

Every answer is an envelope: ``{"data": ..., "meta": {...}}`` on success (``meta`` holds
``page``, ``per_page`` and ``total`` for lists), ``{"error": {"code", "message", "details"}}``
otherwise, where ``details`` lists ``{"field", "message"}`` for each field at fault.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# ISO 8601 / RFC 3339 date-times: a date, optionally a time and a zone.
DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?([Zz]|[+-]\d{2}:?\d{2})?"
)


class ApiError(Exception):
    """An answer other than success: an HTTP status, a stable code and a readable message."""

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self):
        return error_body(self.code, self.message, self.details)


def error_body(code, message, details=None):
    return {"error": {"code": code, "message": message, "details": list(details or [])}}


def data_body(data, meta=None):
    return {"data": data, "meta": meta or {}}


def invalid(field_name, message, status=422):
    """The error for one invalid value, naming its field."""
    return ApiError(
        status,
        "invalid_parameter",
        f"{field_name}: {message}",
        [{"field": field_name, "message": message}],
    )


# ---- Parameters


@dataclass(frozen=True)
class Param:
    """A query parameter or a field of a JSON body.

    ``kind``: ``integer``, ``string``, ``boolean`` or ``datetime`` (ISO 8601; a value without a
    zone is UTC; parsed to a naive UTC ``datetime`` as Odoo stores them).
    """

    name: str
    kind: str = "string"
    description: str = ""
    required: bool = False
    enum: tuple = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 256
    default: Any = None

    def parse(self, raw, from_json=False):
        """The value of ``raw`` (text from a query, or a JSON value), or ``invalid``.

        In a JSON body, numbers and booleans must be JSON's own: ``"5"`` is not an integer.
        """
        if self.kind == "integer":
            if from_json and not isinstance(raw, int):
                raise invalid(self.name, "must be an integer")
            return self._parse_integer(raw)
        if self.kind == "boolean":
            if from_json and not isinstance(raw, bool):
                raise invalid(self.name, "must be true or false")
            return self._parse_boolean(raw)
        if self.kind == "datetime":
            return parse_datetime(self.name, raw)
        if not isinstance(raw, str):
            raise invalid(self.name, "must be a string")
        if len(raw) > self.max_length:
            raise invalid(self.name, f"must be at most {self.max_length} characters")
        if self.enum and raw not in self.enum:
            raise invalid(self.name, f"must be one of: {', '.join(self.enum)}")
        return raw

    def _parse_integer(self, raw):
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise invalid(self.name, "must be an integer")
        if isinstance(raw, str):
            if not re.fullmatch(r"-?[0-9]{1,18}", raw):
                raise invalid(self.name, "must be an integer")
            raw = int(raw)
        if self.minimum is not None and raw < self.minimum:
            raise invalid(self.name, f"must be at least {self.minimum}")
        if self.maximum is not None and raw > self.maximum:
            raise invalid(self.name, f"must be at most {self.maximum}")
        return raw

    def _parse_boolean(self, raw):
        if isinstance(raw, bool):
            return raw
        if raw in ("true", "false"):
            return raw == "true"
        raise invalid(self.name, "must be true or false")


def parse_datetime(name, raw):
    """``raw`` (ISO 8601) as a naive UTC datetime; a value without a zone is taken as UTC."""
    if not isinstance(raw, str) or not DATETIME.fullmatch(raw):
        raise invalid(name, "must be an ISO 8601 date-time, e.g. 2026-05-01T08:00:00Z")
    try:
        value = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, "is not a valid date-time") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if not 1900 <= value.year <= 9999:
        raise invalid(name, "must be between the years 1900 and 9999")
    return value


def format_datetime(value):
    """A naive UTC datetime as ISO 8601 with its zone (``Z``), or None."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


PAGE = Param("page", "integer", "Page number, from 1.", minimum=1, maximum=10**6, default=1)
PER_PAGE = Param(
    "per_page",
    "integer",
    f"Items per page (at most {MAX_PER_PAGE}).",
    minimum=1,
    maximum=MAX_PER_PAGE,
    default=DEFAULT_PER_PAGE,
)


def parse_query(params, query):
    """Check a query against ``params``; return {name: value} with defaults filled in.

    ``query``: (name, value) pairs as received, repeats included. A name not in ``params`` is
    a 400 (a misspelt filter must not silently return everything); a value that does not fit
    is a 422 naming the parameter.
    """
    by_name = {param.name: param for param in params}
    unknown = sorted({name for name, _value in query if name not in by_name})
    if unknown:
        raise ApiError(
            400,
            "unknown_parameter",
            f"Unknown query parameter(s): {', '.join(unknown)}",
            [
                {"field": name, "message": "is not a parameter of this operation"}
                for name in unknown
            ],
        )
    values, seen = {}, set()
    for name, raw in query:
        if name in seen:
            raise invalid(name, "must be given once")
        seen.add(name)
        values[name] = by_name[name].parse(raw)
    for param in params:
        if param.name not in values:
            if param.required:
                raise invalid(param.name, "is required")
            values[param.name] = param.default
    return values


def parse_body(params, body):
    """Check a decoded JSON body (an object) against ``params``, as ``parse_query`` does.

    Unknown fields are a 422 naming them: the body was read, it is its content that is wrong.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_body", "The body must be a JSON object.")
    by_name = {param.name: param for param in params}
    for name in body:
        if name not in by_name:
            raise invalid(name, "is not a field of this operation")
    values = {}
    for param in params:
        raw = body.get(param.name)
        if raw is None:
            if param.required:
                raise invalid(param.name, "is required")
            values[param.name] = param.default
        else:
            values[param.name] = param.parse(raw, from_json=True)
    return values


# ---- Pagination


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self):
        return (self.number - 1) * self.size

    def meta(self, total):
        return {"page": self.number, "per_page": self.size, "total": total}


def page_of(values):
    """The page asked for by parsed ``page``/``per_page`` values."""
    return Page(values.pop("page", 1) or 1, values.pop("per_page", None) or DEFAULT_PER_PAGE)


def filter_domain(values, filters, period=None):
    """The search domain of a list's filters, from its parsed query ``values``.

    ``filters`` maps each filter parameter to the field it must equal (a parameter not given,
    or empty, filters nothing); ``since``/``until`` bound the date-time field ``period`` as
    [since, until).
    """
    domain = []
    if period and values.get("since"):
        domain.append((period, ">=", values["since"]))
    if period and values.get("until"):
        domain.append((period, "<", values["until"]))
    domain += [(field, "=", values[name]) for name, field in filters.items() if values.get(name)]
    return domain


# ---- Routes


@dataclass(frozen=True)
class Route:
    """One operation: ``method`` on ``path`` (``/integrations/{id}``), served by ``handler``.

    ``params`` are its query parameters, ``body`` the fields of its JSON body (POST),
    ``schema`` the schema of its ``data`` (a component's name, or a JSON schema; ``data`` is a
    list of them when ``paginated``), ``status`` its success status, ``errors`` the error
    statuses it documents besides the common ones.
    ``public`` operations need no key (the OpenAPI document, its page). ``location``: where
    what it created is read, filled in from its ``data`` (``/jobs/{id}``).
    """

    method: str
    path: str
    handler: Any
    summary: str
    operation_id: str
    params: tuple = ()
    body: tuple = ()
    schema: str | dict | None = None
    paginated: bool = False
    status: int = 200
    errors: tuple = ()
    tag: str = "integrations"
    public: bool = False
    description: str = ""
    location: str | None = None
    pattern: Any = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def path_params(self):
        return re.findall(r"\{(\w+)\}", self.path)

    @property
    def all_params(self):
        return (PAGE, PER_PAGE, *self.params) if self.paginated else self.params


class RouteTable:
    """The operations of one API version; answers which route serves a request."""

    def __init__(self, routes=()):
        self.routes = []
        for route in routes:
            self.add(route)

    def add(self, route):
        for other in self.routes:
            if other.method == route.method and other.path == route.path:
                raise ValueError(f"{route.method} {route.path} is declared twice")
            if other.operation_id == route.operation_id:
                raise ValueError(f"operation id {route.operation_id} is declared twice")
        self.routes.append(route)

    def match(self, method, path):
        """(route, path arguments) serving ``method path``; an ``ApiError`` 404 or 405 if none.

        Path arguments named ``id`` or ending in ``_id`` must be positive integers: anything
        else names no record, a 404 like a missing one.
        """
        path = "/" + path.strip("/") if path.strip("/") else "/"
        allowed = []
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            if route.method != method:
                allowed.append(route.method)
                continue
            args = found.groupdict()
            for name, value in args.items():
                if name == "id" or name.endswith("_id"):
                    if not re.fullmatch(r"[1-9][0-9]{0,9}", value) or int(value) > 2**31 - 1:
                        raise not_found()
                    args[name] = int(value)
            return route, args
        if allowed:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{method} is not allowed here; use {', '.join(sorted(set(allowed)))}.",
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        raise not_found("No such operation.")


def not_found(message="Not found, or not visible to this key's user."):
    return ApiError(404, "not_found", message)


# ---- What integration types add


@dataclass(frozen=True)
class Endpoint:
    """An operation an integration type adds to the API (``api_endpoints`` of its sub-model).

    Served at ``/integrations/{id}/<type prefix>/<path>`` for integrations of that type only
    (``type_prefix``: ``ihub.integration.demo`` gives ``demo``). ``handler`` names a private
    method of the sub-model, called on the integration's sub-record as the API key's user with
    the checked ``params`` and ``body`` values as keyword arguments; it returns the ``data``
    of the answer (anything JSON can hold), described by ``schema`` (a JSON schema) in the
    OpenAPI document. It raises as any Odoo code does (``AccessError`` → 403,
    ``UserError`` → 409, ``ValidationError`` → 422).
    """

    method: str
    path: str
    handler: str
    summary: str
    params: tuple = ()
    body: tuple = ()
    schema: dict | None = None
    status: int = 200
    description: str = ""

    def __post_init__(self):
        if not self.handler.startswith("_"):
            raise ValueError(f"API handler {self.handler!r} must be private (start with _)")
        if self.method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise ValueError(f"unsupported method {self.method!r}")

    def route(self, prefix, handler, tag):
        words = re.findall(r"[A-Za-z0-9]+", f"{prefix} {self.path}")
        operation_id = self.method.lower() + "".join(w.capitalize() for w in words)
        return Route(
            self.method,
            f"/integrations/{{id}}/{prefix}/{self.path.strip('/')}",
            handler,
            self.summary,
            operation_id,
            params=self.params,
            body=self.body,
            schema=self.schema,
            status=self.status,
            errors=(409,),
            tag=tag,
            description=self.description,
        )


def type_prefix(model_name):
    """The path segment of a type's own operations: its model name, shortened."""
    name = model_name.removeprefix("ihub.integration.")
    return re.sub(r"[._]+", "-", name)


HEALTHS = ("ok", "degraded", "failing")


def health(state, last_run_state):
    """failing: the integration failed; degraded: its last run failed; ok otherwise."""
    if state == "failed":
        return "failing"
    if last_run_state == "failed":
        return "degraded"
    return "ok"
