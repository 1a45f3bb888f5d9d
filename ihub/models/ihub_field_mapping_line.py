from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.ihub.lib.exceptions import IHubError
from odoo.addons.ihub.lib.sync import FieldRule, RecordError, parse_date, parse_datetime


class IHubFieldMappingLine(models.Model):
    _name = "ihub.field.mapping.line"
    _description = "iHub Field Mapping Line"
    _order = "mapping_id, sequence, id"

    mapping_id = fields.Many2one(
        "ihub.field.mapping", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    path = fields.Char(
        string="Outside Value",
        required=True,
        help="Where the value is in the outside record: keys separated by dots, e.g. "
        "address.country_code, or lines.0.sku for the first line.",
    )
    res_model = fields.Selection(related="mapping_id.res_model")
    field_name = fields.Char(
        string="Odoo Field", required=True, help="The field of the Odoo record the value fills."
    )
    conversion = fields.Selection(
        [
            ("none", "As is"),
            ("integer", "Whole number"),
            ("float", "Decimal number"),
            ("boolean", "Yes/No"),
            ("date", "Date"),
            ("datetime", "Date and time"),
            ("value_map", "Through a value map"),
            ("reference", "Outside id of a record"),
        ],
        default="none",
        required=True,
        help="Through a value map: translate the value with one of the integration's value "
        "maps. Outside id of a record: the value is the outside id of a record imported "
        "before (its mapping finds the Odoo record).",
    )
    value_map_id = fields.Many2one("ihub.value.map", ondelete="restrict")
    required = fields.Boolean(help="A record without this value is skipped and reported.")

    @api.constrains("conversion", "value_map_id", "field_name")
    def _check_conversion(self):
        for line in self:
            field = line._odoo_field()
            if not field or not field.store or field.type in ("one2many", "many2many", "binary"):
                raise ValidationError(
                    _(
                        "'%(field)s' is not a field an import can fill on %(model)s.",
                        field=line.field_name,
                        model=line.res_model,
                    )
                )
            if line.conversion == "value_map" and not line.value_map_id:
                raise ValidationError(_("Choose the value map of '%(path)s'.", path=line.path))
            if line.conversion == "reference" and field.type != "many2one":
                raise ValidationError(
                    _(
                        "'%(field)s' is not a link to a record: an outside id cannot fill it.",
                        field=field.string,
                    )
                )

    def _odoo_field(self):
        model = self.env[self.res_model] if self.res_model in self.env else None
        return model._fields.get(self.field_name) if model is not None else None

    def _ihub_rule(self):
        self.ensure_one()
        convert, reference = CONVERSIONS.get(self.conversion), None
        if self.conversion == "value_map":
            value_map = self.mapping_id.integration_id.ihub_value_map(self.value_map_id.code)

            def convert(value, value_map=value_map):
                try:
                    target = value_map.to_odoo(value)
                except IHubError as error:
                    # One record with a value nobody mapped yet is skipped, not the whole run.
                    raise RecordError(str(error)) from error
                return target.id if isinstance(target, models.BaseModel) else target

        elif self.conversion == "reference":
            reference = self._odoo_field().comodel_name
        return FieldRule(
            self.path,
            self.field_name,
            convert=convert,
            reference=reference,
            required=self.required,
        )


def _boolean(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "on")
    return bool(value)


CONVERSIONS = {
    "none": None,
    "integer": int,
    "float": float,
    "boolean": _boolean,
    "date": parse_date,
    "datetime": parse_datetime,
}
