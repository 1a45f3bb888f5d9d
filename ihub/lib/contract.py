"""The rules a sub-model (an integration's own model) is held to when the registry loads.

Two things are checked or applied per sub-model class, in plain Python so that they are
testable without a database:

* its contract methods (``run_from_to`` and, as they land, ``hook``, ``activate``,
  ``deactivate``, ``test_connection``) are wrapped so that a guard runs before the author's
  code, whoever overrides them and whether or not they call ``super()``. Odoo publishes every
  public method over RPC; the guard is what keeps these from being driven from outside iHub's
  checked paths;
* none of its fields shadows a field of the integration (the *super*) or a name the contract
  reserves, which would silently break scheduling or the type catalogue.
"""

import functools

GUARDED_MARK = "_ihub_guard"

# Class attributes a sub-model sets (see AbstractIntegration) and names the super will hold:
# a field of the same name on a sub-model would hide them.
RESERVED_NAMES = frozenset(
    {
        "is_job",
        "is_manually_runnable",
        "has_time_period",
        "is_multi_company_compatible",
        "is_singleton",
        "has_dry_run",
        "accepts_webhooks",
        "delay",
        "description",
        "base_url",
        "allow_private_network",
        "credential_ids",
        "webhook_url",
        "webhook_ids",
        "mapper_ids",
        "credential_kinds",
        "api_key_header",
        "api_key_param",
        "http_timeouts",
        "oauth2",
        "api_endpoints",
    }
)


def guard_methods(cls, guards):
    """Wrap each method of ``cls`` named in ``guards`` (name -> guard method name).

    The wrapper calls ``self.<guard>(method_name)`` first, then the method. A method already
    wrapped (the registry class is set up again) or missing is left alone. Returns the names
    wrapped.
    """
    wrapped = []
    for name, guard_name in guards.items():
        method = getattr(cls, name, None)
        if method is None or getattr(method, GUARDED_MARK, False):
            continue
        setattr(cls, name, _guarded(method, name, guard_name))
        wrapped.append(name)
    return wrapped


def _guarded(method, name, guard_name):
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        getattr(self, guard_name)(name)
        return method(self, *args, **kwargs)

    setattr(guarded, GUARDED_MARK, True)
    return guarded


def field_clashes(own_fields, super_fields, reserved=RESERVED_NAMES, allowed=()):
    """The field names of a sub-model that hide a super field or a reserved name, sorted.

    ``own_fields`` are the names the sub-model defines itself, ``super_fields`` those iHub
    defines on ``ihub.integration``; ``allowed`` are shared on purpose (``id``, mixin fields).
    """
    clashes = (set(own_fields) & (set(super_fields) | set(reserved))) - set(allowed)
    return sorted(clashes)
