"""The data inventory lists every column, and nothing labor enforcement does not need is stored."""
import re
from pathlib import Path

import yaml

from coenforce.models import metadata

INVENTORY = Path(__file__).resolve().parent.parent / "coenforce" / "data_inventory.yaml"
CLASSES = {"reference", "org", "staff", "secret", "case", "sensitive"}
# Names that suggest immigration status, citizenship, SSN, or date or place of birth.
FORBIDDEN = re.compile(r"immigration|citizen|nationality|visa_status|ssn|social_security|birth|dob|alien|"
                       r"undocumented|legal_status|a_number|country", re.I)
# Only the detention module may hold these (country for the consulate, the A-Number), encrypted.
DETENTION_FIELDS: dict[str, set[str]] = {"detentions": {"a_number_enc", "a_number_bidx", "country_enc"}}
# Reference data about offices, not people: the country a consulate represents.
OFFICE_FIELDS: dict[str, set[str]] = {"consulates": {"country"}}


def inventory() -> dict:
    return yaml.safe_load(INVENTORY.read_text())


def test_every_column_is_in_the_inventory_with_purpose_and_class():
    listed = inventory()
    missing = [f"{t.name}.{c.name}" for t in metadata.sorted_tables for c in t.columns
               if c.name not in (listed.get(t.name) or {})]
    assert not missing, f"add these to {INVENTORY.name}: {missing}"
    for table, columns in listed.items():
        for column, entry in columns.items():
            assert entry.get("class") in CLASSES, f"{table}.{column}: class must be one of {sorted(CLASSES)}"
            assert str(entry.get("purpose", "")).strip(), f"{table}.{column}: say why it is stored"


def test_the_inventory_lists_no_column_that_does_not_exist():
    tables = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    stale = [f"{t}.{c}" for t, cols in inventory().items() for c in cols if c not in tables.get(t, set())]
    assert not stale, stale


def test_no_field_for_immigration_status_citizenship_ssn_or_birth():
    offending = [f"{t.name}.{c.name}" for t in metadata.sorted_tables for c in t.columns
                 if FORBIDDEN.search(c.name) and c.name not in DETENTION_FIELDS.get(t.name, set())
                 and c.name not in OFFICE_FIELDS.get(t.name, set())]
    assert not offending, f"labor enforcement does not need: {offending}"


def test_the_check_would_catch_such_a_column():
    assert FORBIDDEN.search("immigration_status") and FORBIDDEN.search("date_of_birth")
    assert FORBIDDEN.search("worker_ssn") and FORBIDDEN.search("citizenship")
    assert not FORBIDDEN.search("employer_name")
