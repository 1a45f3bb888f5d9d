"""Exceptions integration code raises and catches."""

from odoo.exceptions import UserError


class IHubError(UserError):
    """An integration error worth showing to a user.

    Raised by ``ihub_error(..., raise_exception=True)`` after the event is logged, so the message a
    user sees and the log entry say the same thing.
    """


class IHubPermanentError(IHubError):
    """An error that trying again will not fix (bad credentials, a refused record, …).

    A scheduled run that raises it is not retried: the integration fails at once, so that a
    person looks at it.
    """
