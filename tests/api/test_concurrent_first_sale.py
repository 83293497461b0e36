"""Concurrent creates for the same new seller all succeed (the chaos suite found this one).

Before: `_remember_seller` rolled the session back after the duplicate seller insert, which
expired the proposal row that the create then read: SQLAlchemy `MissingGreenlet`, a 500,
and a proposal left as a draft (1 of 3 concurrent creates on a fresh database).
"""

from __future__ import annotations

import asyncio

from db.models import Seller


async def test_concurrent_first_sales_by_one_seller_all_answer_201(
    client, dealers, new_body, count_rows
) -> None:
    for _ in range(3):  # the race is not certain on every try; three rounds make it likely
        bodies = []
        for n in range(4):
            body = new_body()
            body["buyer"]["email"] = f"buyer{n}-{len(bodies)}@example.com"
            body["seller"]["email"] = f"new-seller-{await count_rows()}@garage.example.com"
            bodies.append(body)
        answers = await asyncio.gather(
            *(client.post("/api/v1/proposals", json=b, headers=dealers.a.headers) for b in bodies)
        )
        assert [a.status_code for a in answers] == [201] * 4, [a.text[:200] for a in answers]
    assert await count_rows() == 12
    assert await count_rows(Seller) == 3
