from odoo import api, models

SUBSCRIPTION = "ihub.webhook.subscription"


class Base(models.AbstractModel):
    """Capture of record changes for outgoing webhooks (``ihub.webhook.subscription``).

    Every create, write and unlink asks one cached question — does any active subscription
    watch this model? — and only then looks further. Deliveries are written in the changing
    transaction: a rollback takes them away with the change.
    """

    _inherit = "base"

    def _ihub_watched(self):
        registry = self.env.registry
        if not registry.ready or SUBSCRIPTION not in registry or self._transient:
            return False
        return self._name in self.env[SUBSCRIPTION]._ihub_subscribed_models()

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if records._ihub_watched():
            self.env[SUBSCRIPTION]._ihub_capture(records, "create")
        return records

    def write(self, vals):
        result = super().write(vals)
        if self and self._ihub_watched():
            self.env[SUBSCRIPTION]._ihub_capture(self, "write", changed=tuple(vals))
        return result

    def unlink(self):
        if self and self._ihub_watched():
            self.env[SUBSCRIPTION]._ihub_capture(self, "unlink")
        return super().unlink()
