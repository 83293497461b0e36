"""Tokens are random, shown once, stored hashed; authentication maps them to a role."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from carflow.tokens import hash_token
from db.accounts import authenticate, create_dealer, create_inspector, create_staff
from db.models import AccessToken, Role


async def test_token_is_stored_only_as_its_sha256(session_factory) -> None:
    async with session_factory() as session:
        created = await create_dealer(session, "Garage A")
        await session.commit()
        rows = (await session.scalars(select(AccessToken))).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(created.token.encode()).hexdigest()
    assert created.token not in (rows[0].token_hash, rows[0].display_prefix)
    assert created.token.startswith(rows[0].display_prefix)


async def test_tokens_are_long_random_and_prefixed_by_role(session_factory) -> None:
    async with session_factory() as session:
        dealers = [await create_dealer(session, f"G{i}") for i in range(20)]
        staff = await create_staff(session, "ADV")
        inspector = await create_inspector(session, "Expert")
        await session.commit()
    tokens = [d.token for d in dealers]
    assert len(set(tokens)) == len(tokens)
    assert all(t.startswith("cfd_") and len(t) >= 4 + 43 for t in tokens)  # 256 bits, base64url
    assert staff.token.startswith("cfs_")
    assert inspector.token.startswith("cfi_")


async def test_authenticate_returns_role_and_account(session_factory) -> None:
    async with session_factory() as session:
        dealer = await create_dealer(session, "Garage B", remote_sale_enabled=False)
        staff = await create_staff(session, "ADV")
        inspector = await create_inspector(session, "Expert")
        await session.commit()

        found = await authenticate(session, dealer.token)
        assert found is not None
        assert (found.role, found.id, found.name, found.remote_sale_enabled) == (
            Role.DEALER,
            dealer.id,
            "Garage B",
            False,
        )
        assert (await authenticate(session, staff.token)).role is Role.STAFF  # type: ignore[union-attr]
        assert (await authenticate(session, inspector.token)).role is Role.INSPECTOR  # type: ignore[union-attr]
        assert await authenticate(session, dealer.token + "x") is None
        assert await authenticate(session, "cfd_unknown") is None


async def test_revoked_token_no_longer_authenticates(session_factory) -> None:
    async with session_factory() as session:
        dealer = await create_dealer(session, "Garage C")
        await session.commit()
        await session.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == hash_token(dealer.token))
            .values(revoked_at=datetime.now(UTC))
        )
        await session.commit()
        assert await authenticate(session, dealer.token) is None


async def test_database_refuses_a_token_whose_owner_does_not_match_its_role(session_factory) -> None:
    async with session_factory() as session:
        staff = await create_staff(session, "ADV")
        await session.commit()
        session.add(AccessToken(role="dealer", token_hash="0" * 64, display_prefix="x", staff_id=staff.id))
        with pytest.raises(IntegrityError):
            await session.commit()
