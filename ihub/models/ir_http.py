from werkzeug.datastructures import ImmutableOrderedMultiDict

from odoo import models
from odoo.http import request

# Routing flag of a ``type="http"`` route that reads its request body itself, as bytes, after
# checks of its own (the webhook intake: its size limit first, then the signature over the raw
# bytes). Without it, Odoo's http dispatcher parses a form-encoded or multipart body into
# ``request.params`` before the route runs: the whole body is read whatever its size, and the
# bytes the signature covers are consumed.
RAW_BODY = "ihub_raw_body"


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        if rule.endpoint.routing.get(RAW_BODY):
            # Werkzeug keeps a form that is already set and never parses the body then; the
            # stream stays unread for the route, as it does for a JSON body. Set before super():
            # other modules' _pre_dispatch may read request parameters.
            httprequest = request.httprequest
            httprequest.form = ImmutableOrderedMultiDict()
            httprequest.files = ImmutableOrderedMultiDict()
        return super()._pre_dispatch(rule, args)
