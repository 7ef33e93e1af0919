"""schemas.row_serializer writes dict rows exactly as the response model writes
itself, and refuses a row it would have to guess at."""
import json
from datetime import datetime, timezone

import pytest
from pydantic import AliasChoices, BaseModel, Field, computed_field, model_serializer
from pydantic_core import PydanticSerializationError

from coenforce.complaints.types import Language
from coenforce.escalation import ClockState
from coenforce.schemas import Output, row_serializer


class Step(Output):
    at: datetime
    by: int = Field(validation_alias=AliasChoices("by_id", "by"))


class Clock(Output):
    state: ClockState
    due_at: datetime
    remaining_seconds: int | None


class Item(Output):
    id: int
    language: Language
    note: str | None
    clock: Clock
    last: Clock | None
    steps: list[Step]
    partners: list[int]


WHEN = datetime(2026, 12, 4, 22, 0, 30, 250_000, tzinfo=timezone.utc)
ROWS = [
    {"id": 1, "language": Language.ES, "note": None, "partners": [3, 7], "last": None,
     "clock": {"state": ClockState.RUNNING, "due_at": WHEN, "remaining_seconds": 3600},
     "steps": [{"at": WHEN, "by": 9}], "starts_at": WHEN, "types": "a,b"},
    {"id": 2, "language": Language.EN, "note": "Pagó tarde", "partners": [], "steps": [],
     "clock": {"state": ClockState.MET, "due_at": WHEN, "remaining_seconds": None},
     "last": {"state": ClockState.BREACHED, "due_at": WHEN, "remaining_seconds": -5}},
]


def test_rows_are_written_as_the_validated_models_write_themselves():
    models = [Item.model_validate(row) for row in ROWS]
    expected = [model.model_dump(mode="json") for model in models]
    written = json.loads(row_serializer(list[Item]).to_json(ROWS, warnings="error"))
    assert written == expected
    assert written[0]["clock"]["due_at"] == "2026-12-04T22:00:30.250000Z"
    assert "starts_at" not in written[0] and "types" not in written[0], "keys the model lacks are left out"


def test_a_page_model_with_rows_inside_is_written_the_same_way():
    class ItemPage(BaseModel):
        items: list[Item]
        total: int
        next: str | None

    page = {"items": ROWS, "total": 2, "next": None}
    written = row_serializer(ItemPage).to_json(page, warnings="error")
    assert json.loads(written) == json.loads(ItemPage.model_validate(page).model_dump_json())


@pytest.mark.parametrize("field, wrong", [
    ("language", "es"),  # text where a member is expected: the model would have checked it
    ("id", "1"),
    ("steps", ({"at": WHEN, "by": 9},)),  # a tuple where a list is expected
])
def test_a_value_of_the_wrong_type_is_an_error_not_a_guess(field, wrong):
    row = {**ROWS[0], field: wrong}
    with pytest.raises(PydanticSerializationError):
        row_serializer(list[Item]).to_json([row], warnings="error")


def test_a_missing_field_is_left_out_so_lists_are_checked_against_their_documented_schema():
    # What the API tests of each shaped list rely on (assert_documented): the
    # serializer itself does not say a field is missing.
    row = {key: value for key, value in ROWS[1].items() if key != "note"}
    assert "note" not in json.loads(row_serializer(list[Item]).to_json([row], warnings="error"))[0]


def test_a_model_that_writes_itself_is_refused():
    class Computed(Output):
        a: int

        @computed_field
        def double(self) -> int:
            return self.a * 2

    class Custom(Output):
        a: int

        @model_serializer
        def write(self):
            return {"a": str(self.a)}

    for model in (Computed, Custom):
        with pytest.raises(TypeError, match="writes itself"):
            row_serializer(list[model])
