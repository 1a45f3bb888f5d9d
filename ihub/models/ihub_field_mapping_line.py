from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.ihub.lib.sync import FieldRule, parse_date, parse_datetime


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
    field_id = fields.Many2one(
        "ir.model.fields",
        string="Odoo Field",
        required=True,
        ondelete="cascade",
        domain="[('model_id', '=', parent.model_id), ('store', '=', True), "
        "('ttype', 'not in', ('one2many', 'many2many', 'binary'))]",
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

    @api.constrains("conversion", "value_map_id", "field_id")
    def _check_conversion(self):
        for line in self:
            if line.conversion == "value_map" and not line.value_map_id:
                raise ValidationError(_("Choose the value map of '%(path)s'.", path=line.path))
            if line.conversion == "reference" and line.field_id.ttype != "many2one":
                raise ValidationError(
                    _(
                        "'%(field)s' is not a link to a record: an outside id cannot fill it.",
                        field=line.field_id.field_description,
                    )
                )

    def _ihub_rule(self):
        self.ensure_one()
        convert, reference = CONVERSIONS.get(self.conversion), None
        if self.conversion == "value_map":
            value_map = self.mapping_id.integration_id.ihub_value_map(self.value_map_id.code)
            convert = value_map.to_odoo
        elif self.conversion == "reference":
            reference = self.field_id.relation
        return FieldRule(
            self.path,
            self.field_id.name,
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
