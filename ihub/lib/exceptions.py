"""Exceptions integration code raises and catches."""

from odoo.exceptions import UserError

# The web client picks the dialog of a server error by the exception's class name and knows
# only Odoo's own classes: any other name gets the "Oops! Something went wrong" dialog with a
# traceback. It also reads a fallback class name from the error's ``context`` (see
# ``odoo.http.serialize_exception``): naming UserError there shows iHub's errors, and those of
# every subclass an integration addon defines, as the readable warning of a UserError.
USER_ERROR_CONTEXT = {"exception_class": "odoo.exceptions.UserError"}


class IHubError(UserError):
    """An integration error worth showing to a user.

    Raised by ``ihub_error(..., raise_exception=True)`` after the event is logged, so the message a
    user sees and the log entry say the same thing. Subclasses that define ``__init__`` call
    ``super().__init__(message)``: it is what makes the web client show the message as a
    warning.
    """

    def __init__(self, message):
        super().__init__(message)
        self.context = dict(USER_ERROR_CONTEXT)


class IHubPermanentError(IHubError):
    """An error that trying again will not fix (bad credentials, a refused record, …).

    A scheduled run that raises it is not retried: the integration fails at once, so that a
    person looks at it.
    """
