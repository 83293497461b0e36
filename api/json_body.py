"""A list page answered as JSON straight from plain data, already in its schema's shape.

FastAPI validates a route's answer against its `response_model` and serializes it again: for
a page of 20 proposals, validating the rows into models and dumping them was an eighth of
the request's CPU. The hot lists build plain dicts of exactly the model's fields
(api/proposals/views.py `proposal_fields`, api/listings/views.py `public_listing_fields`)
and answer them with pydantic's own encoder, so dates, datetimes and UUIDs read exactly as
the models write them. The route keeps its `response_model` for the OpenAPI document; a
test checks each answer validates against it and dumps back to the same JSON
(tests/api/test_statement_budgets.py).
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json
from starlette.responses import Response


class PlainJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return to_json(content)
