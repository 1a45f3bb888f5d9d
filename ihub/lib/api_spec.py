"""The OpenAPI 3.1 document of a :class:`~.api.RouteTable` (no Odoo here).

Built from the very table the API dispatches with, so each served operation is documented with
the parameters it checks and the statuses it answers.
"""

ERROR_TEXTS = {
    400: "Malformed request: an unknown query parameter, a body that is not JSON.",
    401: "No API key, or a key that is unknown, expired or revoked.",
    403: "The key's user may not do this.",
    404: "No such record, or not visible to the key's user.",
    409: "Refused in the record's current state (e.g. it is running now).",
    413: "The body is too large.",
    415: "The body is not application/json.",
    422: "A value is invalid; the error names the field.",
    429: "Too many requests with this key: wait Retry-After seconds.",
}

RATE_HEADERS = {
    "RateLimit-Limit": "Requests allowed per period with this key.",
    "RateLimit-Remaining": "Requests still allowed now.",
    "RateLimit-Reset": "Seconds until the whole quota is available again.",
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["message"],
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}

META_SCHEMA = {
    "type": "object",
    "properties": {
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 0},
    },
}


def param_schema(param):
    """The JSON schema of one :class:`~.api.Param`."""
    if param.kind == "integer":
        schema = {"type": "integer"}
        if param.minimum is not None:
            schema["minimum"] = param.minimum
        if param.maximum is not None:
            schema["maximum"] = param.maximum
    elif param.kind == "boolean":
        schema = {"type": "boolean"}
    elif param.kind == "datetime":
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string", "maxLength": param.max_length}
        if param.enum:
            schema["enum"] = list(param.enum)
    if param.default is not None:
        schema["default"] = param.default
    return schema


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _error_response(status, headers=None):
    response = {
        "description": ERROR_TEXTS[status],
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


def _rate_headers(with_retry=False):
    headers = {
        name: {"description": text, "schema": {"type": "integer"}}
        for name, text in RATE_HEADERS.items()
    }
    if with_retry:
        headers["Retry-After"] = {
            "description": "Seconds to wait before the next request.",
            "schema": {"type": "integer"},
        }
    return headers


def operation(route):
    """The OpenAPI operation object of ``route``."""
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        }
        for name in route.path_params
    ]
    for param in route.all_params:
        entry = {"name": param.name, "in": "query", "required": param.required}
        if param.description:
            entry["description"] = param.description
        entry["schema"] = param_schema(param)
        parameters.append(entry)
    op = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
    }
    if route.description:
        op["description"] = route.description
    if parameters:
        op["parameters"] = parameters
    if route.body:
        op["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            p.name: {**param_schema(p), "description": p.description}
                            for p in route.body
                        },
                        "required": [p.name for p in route.body if p.required],
                    }
                }
            },
        }
    op["responses"] = _responses(route)
    if route.public:
        op["security"] = []
    return op


def _responses(route):
    success = {"description": route.summary}
    if route.public:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
        return {str(route.status): success}
    if route.status != 204:
        data = route.schema if isinstance(route.schema, dict) else {}
        if isinstance(route.schema, str):
            data = _ref(route.schema)
        if route.paginated:
            data = {"type": "array", "items": data}
        success["content"] = {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["data", "meta"],
                    "additionalProperties": False,
                    "properties": {"data": data, "meta": _ref("Meta")},
                }
            }
        }
    success["headers"] = _rate_headers()
    if route.location:
        success["headers"]["Location"] = {
            "description": "Where what was created is read.",
            "schema": {"type": "string"},
        }
    responses = {str(route.status): success}
    statuses = {400, 401, 403, 422, 429, *route.errors}
    if route.path_params:
        statuses.add(404)
    if route.body:
        statuses |= {413, 415}
    for status in sorted(statuses):
        responses[str(status)] = _error_response(status, _rate_headers(status == 429))
    return responses


def build(table, schemas, title, version, description="", server_url="/ihub/api/v1"):
    """The OpenAPI 3.1 document (a dict) of ``table``; ``schemas`` names the data schemas."""
    paths = {}
    for route in table.routes:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": server_url}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An Odoo API key (Preferences > Account Security > New API "
                    "Key), sent as 'Authorization: Bearer <key>'.",
                }
            },
            "schemas": {"Error": ERROR_SCHEMA, "Meta": META_SCHEMA, **schemas},
        },
    }
