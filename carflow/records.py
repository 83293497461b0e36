"""Handing a record's facts on to another record made of the same parts (dataclasses)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def fields_of(record: object, part: type) -> dict[str, Any]:
    """The values `record` holds for the fields of the dataclass `part`, by name.

    `part` is a base that `record` shares with the record to build (a machine's facts and
    the workflow's projection, a workflow candidate and the item ADV sees): the shared
    facts are handed on as they are, with no field forgotten.
    """
    return {f.name: getattr(record, f.name) for f in fields(part)}
