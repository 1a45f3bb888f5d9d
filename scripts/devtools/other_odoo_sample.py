"""Sample contacts for the other Odoo: a pure function of the counts and a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Sample partners carry this tag so that tests and importers can tell them from Odoo's own.
SAMPLE_TAG = "iHub sample"

COUNTRY_CODES = ("BE", "DE", "ES", "FR", "GB", "IT", "LU", "NL", "US", "CH")
CITIES = {
    "BE": ("Brussels", "Liège", "Ghent"),
    "DE": ("Berlin", "Köln", "München"),
    "ES": ("Madrid", "Sevilla", "Valencia"),
    "FR": ("Paris", "Lyon", "Lille"),
    "GB": ("London", "Leeds", "Bristol"),
    "IT": ("Roma", "Milano", "Torino"),
    "LU": ("Luxembourg", "Esch-sur-Alzette"),
    "NL": ("Amsterdam", "Utrecht", "Rotterdam"),
    "US": ("Boston", "Denver", "Austin"),
    "CH": ("Genève", "Zürich", "Basel"),
}
COMPANY_WORDS = (
    ("Blue", "Northern", "Agile", "Bright", "Golden", "Quiet", "Rapid", "Silver", "Solid"),
    ("Logistics", "Bakery", "Systems", "Partners", "Textiles", "Foods", "Labs", "Works"),
)
FIRST_NAMES = ("Anna", "Bram", "Chloé", "David", "Elif", "Finn", "Greta", "Hugo", "Ines", "Jan")
LAST_NAMES = ("Adams", "Bauer", "Claes", "Dubois", "Evans", "Fischer", "García", "Peeters")
FUNCTIONS = ("Buyer", "Accountant", "CEO", "Sales Manager", "Engineer", "Assistant")


@dataclass(frozen=True)
class SampleData:
    """Sample partners to create: companies, then contacts whose ``parent`` indexes ``companies``.

    Values are ``res.partner`` fields, plus ``country_code`` (resolved to ``country_id`` when
    created; a contact's is its company's, since Odoo copies the address from the parent).
    """

    companies: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)


def sample_data(companies: int, contacts: int, seed: int = 0) -> SampleData:
    """Deterministic sample partners: the same arguments always give the same values.

    Every third company and every fourth contact has a ``ref``; emails use the reserved
    ``.example`` domain. ``contacts`` > 0 needs ``companies`` > 0.
    """
    if contacts and not companies:
        raise ValueError("contacts need at least one company to belong to")
    rng = random.Random(seed)
    data = SampleData()
    for index in range(companies):
        number = index + 1
        country = rng.choice(COUNTRY_CODES)
        adjective, noun = (rng.choice(words) for words in COMPANY_WORDS)
        data.companies.append(
            {
                "name": f"{adjective} {noun} {number:04d}",
                "is_company": True,
                "email": f"info@company{number:04d}.example",
                "phone": _phone(rng),
                "street": f"{rng.randrange(1, 200)} Sample Street",
                "zip": str(rng.randrange(1000, 99999)),
                "city": rng.choice(CITIES[country]),
                "country_code": country,
                "ref": f"CO{number:05d}" if index % 3 == 0 else False,
            }
        )
    for index in range(contacts):
        number = index + 1
        parent = rng.randrange(companies)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        data.contacts.append(
            {
                "name": f"{first} {last} {number:05d}",
                "parent": parent,
                "email": f"contact{number:05d}@company{parent + 1:04d}.example",
                "phone": _phone(rng),
                "function": rng.choice(FUNCTIONS),
                "country_code": data.companies[parent]["country_code"],
                "ref": f"PE{number:05d}" if index % 4 == 0 else False,
            }
        )
    return data


def _phone(rng: random.Random) -> str:
    return f"+32 {rng.randrange(400, 500)} {rng.randrange(10, 100)} {rng.randrange(10, 100)}"
