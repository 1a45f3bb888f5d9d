"""The operations of iHub's REST API v1: what each does, as the API key's user.

Each handler gets ``(env, args, values)``: ``env`` is the key's user (no superuser: groups,
companies and record rules apply), ``args`` the path arguments, ``values`` the checked query
parameters and body fields. It returns ``(data, meta)`` or raises. ``route_table(env)`` is the
table the controller dispatches with and the OpenAPI document describes: the core operations,
those whose model is installed (``requires``), and those each integration type declares
(``api_endpoints`` on its sub-model, see ``ihub.abstract_integration``).
"""

from datetime import timedelta

from odoo import fields

from odoo.addons.ihub.lib import api
from odoo.addons.ihub.lib.api import Param, Route

from ..models.ihub_job import JOB_STATES, TRIGGERS

INTEGRATION_STATES = ("draft", "active", "stopped", "failed")
LEVELS = ("info", "warning", "error")
SINCE = Param("since", "datetime", "Only those at or after this date-time (ISO 8601, UTC).")
UNTIL = Param("until", "datetime", "Only those before this date-time (ISO 8601, UTC).")
INTEGRATION_ID = Param("integration_id", "integer", "Only those of this integration.", minimum=1)


def _nullable(schema):
    return {**schema, "type": [schema["type"], "null"]}


DATETIME_OUT = {"type": "string", "format": "date-time"}
JOB_SUMMARY_SCHEMA = {
    "type": "object",
    "required": ["id", "state", "trigger"],
    "properties": {
        "id": {"type": "integer"},
        "state": {"type": "string", "enum": [s for s, _label in JOB_STATES]},
        "trigger": {"type": "string", "enum": [t for t, _label in TRIGGERS]},
        "queued_at": _nullable(DATETIME_OUT),
        "started_at": _nullable(DATETIME_OUT),
        "ended_at": _nullable(DATETIME_OUT),
    },
}
SCHEMAS = {
    "Integration": {
        "type": "object",
        "required": ["id", "name", "type", "state", "health"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "type": {"type": "string", "description": "The model of its type."},
            "type_name": {"type": "string"},
            "state": {"type": "string", "enum": list(INTEGRATION_STATES)},
            "health": {
                "type": "string",
                "enum": list(api.HEALTHS),
                "description": "failing: the integration failed; degraded: its last run "
                "failed; ok: neither.",
            },
            "company_id": {"type": ["integer", "null"]},
            "last_run": {"oneOf": [JOB_SUMMARY_SCHEMA, {"type": "null"}]},
            "last_error_at": _nullable(DATETIME_OUT),
            "scheduled_until": _nullable(DATETIME_OUT),
        },
    },
    "Job": {
        "type": "object",
        "required": ["id", "integration_id", "state", "trigger"],
        "properties": {
            **JOB_SUMMARY_SCHEMA["properties"],
            "integration_id": {"type": "integer"},
            "date_from": _nullable(DATETIME_OUT),
            "date_to": _nullable(DATETIME_OUT),
            "dry_run": {"type": "boolean"},
            "attempt": {"type": "integer"},
            "max_attempts": {"type": "integer"},
            "processed": {"type": "integer"},
            "succeeded": {"type": "integer"},
            "failed": {"type": "integer"},
            "error_message": {"type": ["string", "null"]},
            "requested_by": {"type": ["integer", "null"]},
        },
    },
    "Event": {
        "type": "object",
        "required": ["id", "date", "level", "summary"],
        "properties": {
            "id": {"type": "integer"},
            "date": DATETIME_OUT,
            "level": {"type": "string", "enum": list(LEVELS)},
            "summary": {"type": "string"},
            "details": {"type": ["string", "null"]},
            "integration_id": {"type": ["integer", "null"]},
            "job_id": {"type": ["integer", "null"]},
            "res_model": {"type": ["string", "null"]},
            "res_id": {"type": ["integer", "null"]},
        },
    },
    "WebhookEvent": {
        "type": "object",
        "required": ["id", "state"],
        "properties": {"id": {"type": "integer"}, "state": {"type": "string"}},
    },
}


def _dt(value):
    return api.format_datetime(value)


def _id(record):
    return record.id or None


# ---- Serializers (read as the key's user)


def job_summary(job):
    if not job:
        return None
    return {
        "id": job.id,
        "state": job.state,
        "trigger": job.trigger,
        "queued_at": _dt(job.queued_at),
        "started_at": _dt(job.started_at),
        "ended_at": _dt(job.ended_at),
    }


def integration_data(integration):
    return {
        "id": integration.id,
        "name": integration.name,
        "type": integration.model_name,
        "type_name": integration.type_id.name,
        "state": integration.state,
        "health": api.health(integration.state, integration.last_job_state),
        "company_id": _id(integration.company_id),
        "last_run": job_summary(integration.last_job_id),
        "last_error_at": _dt(integration.last_error_date),
        "scheduled_until": _dt(integration.scheduled_until),
    }


def job_data(job):
    return {
        **job_summary(job),
        "integration_id": job.integration_id.id,
        "date_from": _dt(job.date_from),
        "date_to": _dt(job.date_to),
        "dry_run": job.dry_run,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "processed": job.processed_count,
        "succeeded": job.succeeded_count,
        "failed": job.failed_count,
        "error_message": job.error_message or None,
        "requested_by": _id(job.user_id),
    }


def event_data(event):
    return {
        "id": event.id,
        "date": _dt(event.date),
        "level": event.level,
        "summary": event.summary,
        "details": event.details or None,
        "integration_id": _id(event.integration_id),
        "job_id": _id(event.job_id),
        "res_model": event.res_model or None,
        "res_id": event.res_id or None,
    }


# ---- Helpers


def visible(env, model, record_id):
    """The record ``record_id`` of ``model`` as the user sees it; a 404 if they do not.

    A search, not a browse: record rules filter it, so a record of another company is
    "not found", exactly like one that does not exist (no hint that it does).
    """
    record = env[model].search([("id", "=", record_id)], limit=1)
    if not record:
        raise api.not_found()
    return record


def lister(model, serialize, filters, period=None):
    """The handler of a list operation: a page of ``model``'s records (in the model's order)
    the key's user sees, each as ``serialize`` writes it.

    ``filters`` ({query parameter: field}, or parameter names that are their field's name) and
    ``period`` say which query parameters filter it, as ``api.filter_domain`` reads them.
    """
    filters = {name: name for name in filters} if not isinstance(filters, dict) else filters

    def handle(env, _args, values):
        page = api.page_of(values)
        domain = api.filter_domain(values, filters, period)
        Model = env[model]
        total = Model.search_count(domain)
        records = Model.search(domain, offset=page.offset, limit=page.size)
        return [serialize(record) for record in records], page.meta(total)

    return handle


def reader(model, serialize):
    """The handler of a read operation: the record ``{id}`` of ``model`` as ``serialize``
    writes it, a 404 if the key's user does not see it."""

    def handle(env, args, _values):
        return serialize(visible(env, model, args["id"])), {}

    return handle


# ---- Handlers


list_integrations = lister(
    "ihub.integration", integration_data, {"state": "state", "type": "model_name"}
)
read_integration = reader("ihub.integration", integration_data)


def start_integration(env, args, _values):
    integration = visible(env, "ihub.integration", args["id"])
    integration.action_start()
    return integration_data(integration), {}


def stop_integration(env, args, _values):
    integration = visible(env, "ihub.integration", args["id"])
    integration.action_stop()
    return integration_data(integration), {}


def run_integration(env, args, values):
    """Queue a run now, through the method Run Manually uses (its rules apply alike)."""
    integration = visible(env, "ihub.integration", args["id"])
    date_from, date_to = values["date_from"], values["date_to"]
    if integration.has_time_period:
        if bool(date_from) != bool(date_to):
            missing = "date_to" if date_from else "date_from"
            raise api.invalid(missing, "give both date_from and date_to, or neither")
        if not date_from:
            # What Run Manually proposes: the last day.
            date_to = fields.Datetime.now()
            date_from = date_to - timedelta(days=1)
        if date_from >= date_to:
            raise api.invalid("date_to", "must be after date_from")
    else:
        for name in ("date_from", "date_to"):
            if values[name]:
                raise api.invalid(name, "this integration does not run over a period")
        date_to = fields.Datetime.now()
    job = integration._run_manually(date_from, date_to, bool(values["dry_run"]), trigger="api")
    return job_data(job.with_env(env)), {}


list_jobs = lister("ihub.job", job_data, ("integration_id", "state", "trigger"), period="queued_at")
read_job = reader("ihub.job", job_data)


list_events = lister("ihub.log", event_data, ("integration_id", "job_id", "level"), period="date")
read_event = reader("ihub.log", event_data)


def replay_webhook_event(env, args, _values):
    event = visible(env, "ihub.webhook.event", args["id"])
    event.action_replay()
    return {"id": event.id, "state": event.state}, {}


# ---- The table

CORE_ROUTES = (
    Route(
        "GET",
        "/integrations",
        list_integrations,
        "List integrations",
        "listIntegrations",
        params=(
            Param("state", description="Only those in this state.", enum=INTEGRATION_STATES),
            Param("type", description="Only those of this type (its model)."),
        ),
        schema="Integration",
        paginated=True,
    ),
    Route(
        "GET",
        "/integrations/{id}",
        read_integration,
        "Read an integration",
        "getIntegration",
        schema="Integration",
    ),  # fmt: skip
    Route(
        "POST",
        "/integrations/{id}/start",
        start_integration,
        "Start an integration (and its children): it runs on its schedule",
        "startIntegration",
        schema="Integration",
        errors=(409,),
    ),
    Route(
        "POST",
        "/integrations/{id}/stop",
        stop_integration,
        "Stop an integration (and its children); queued scheduled runs are cancelled",
        "stopIntegration",
        schema="Integration",
        errors=(409,),
    ),
    Route(
        "POST",
        "/integrations/{id}/runs",
        run_integration,
        "Run an integration now, optionally over a period (as Run Manually)",
        "runIntegration",
        body=(
            Param("date_from", "datetime", "Start of the period (included); default: a day ago."),
            Param("date_to", "datetime", "End of the period (excluded); default: now."),
            Param("dry_run", "boolean", "Report what the run would do, write nothing."),
        ),
        schema="Job",
        status=202,
        errors=(409,),
        location="/jobs/{id}",
        description="Queues the run and answers at once (202) with the queued run; follow it "
        "at /jobs/{id}. The same rules as Run Manually apply (409 when refused).",
    ),
    Route(
        "GET",
        "/jobs",
        list_jobs,
        "List runs, newest first",
        "listJobs",
        params=(
            INTEGRATION_ID,
            Param(
                "state",
                description="Only runs in this state.",
                enum=tuple(s for s, _label in JOB_STATES),
            ),  # fmt: skip
            Param(
                "trigger",
                description="Only runs started this way.",
                enum=tuple(t for t, _label in TRIGGERS),
            ),  # fmt: skip
            SINCE,
            UNTIL,
        ),
        schema="Job",
        paginated=True,
        tag="runs",
        description="since/until apply to when the run was queued.",
    ),
    Route("GET", "/jobs/{id}", read_job, "Read a run", "getJob", schema="Job", tag="runs"),
    Route(
        "GET",
        "/events",
        list_events,
        "List events, newest first",
        "listEvents",
        params=(
            INTEGRATION_ID,
            Param("job_id", "integer", "Only events of this run.", minimum=1),
            Param("level", description="Only events of this level.", enum=LEVELS),
            SINCE,
            UNTIL,
        ),
        schema="Event",
        paginated=True,
        tag="events",
    ),
    Route(
        "GET", "/events/{id}", read_event, "Read an event", "getEvent", schema="Event", tag="events"
    ),  # fmt: skip
)

# Operations on models another addon (or a later version) brings: listed only once that model
# exists, so the document never promises what the server cannot do.
OPTIONAL_ROUTES = (
    (
        "ihub.webhook.event",
        Route(
            "POST",
            "/webhook-events/{id}/replay",
            replay_webhook_event,
            "Replay a webhook event (a dead letter): process it again",
            "replayWebhookEvent",
            schema="WebhookEvent",
            status=202,
            errors=(409,),
            tag="webhooks",
        ),
    ),
)


def type_routes(env):
    """The operations integration types declare (``api_endpoints`` on their sub-model)."""
    routes = []
    for model_name in sorted(env.registry):
        model_class = env.registry[model_name]
        endpoints = getattr(model_class, "api_endpoints", ())
        if not endpoints or model_class._abstract:
            continue
        if not model_class._inherits.get("ihub.integration"):
            continue
        prefix = api.type_prefix(model_name)
        for endpoint in endpoints:
            routes.append(
                endpoint.route(
                    prefix, _type_handler(model_name, endpoint), model_class._description
                )
            )
    return routes


def _type_handler(model_name, endpoint):
    def handle(env, args, values):
        integration = visible(env, "ihub.integration", args["id"])
        if integration.model_name != model_name:
            raise api.not_found()
        return getattr(integration.sub_id, endpoint.handler)(**values), {}

    return handle


def route_table(env):
    table = api.RouteTable(CORE_ROUTES)
    for model_name, route in OPTIONAL_ROUTES:
        if model_name in env:
            table.add(route)
    for route in type_routes(env):
        table.add(route)
    return table
