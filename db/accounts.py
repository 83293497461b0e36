"""Accounts and their bearer tokens: creation (token returned once) and authentication."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from carflow.tokens import display_prefix, hash_token, new_token
from db.models import AccessToken, Dealer, Inspector, Role, StaffMember


@dataclass(frozen=True)
class Principal:
    """Who is calling: the role and the account the token belongs to."""

    role: Role
    id: uuid.UUID
    name: str
    remote_sale_enabled: bool = False


@dataclass(frozen=True)
class Created:
    id: uuid.UUID
    token: str


async def issue_token(session: AsyncSession, role: Role, owner_id: uuid.UUID) -> str:
    token = new_token(role.value)
    owner_column = {Role.DEALER: "dealer_id", Role.STAFF: "staff_id", Role.INSPECTOR: "inspector_id"}
    session.add(
        AccessToken(
            role=role.value,
            token_hash=hash_token(token),
            display_prefix=display_prefix(token),
            **{owner_column[role]: owner_id},
        )
    )
    await session.flush()
    return token


async def create_dealer(
    session: AsyncSession,
    name: str,
    *,
    remote_sale_enabled: bool = True,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
) -> Created:
    dealer = Dealer(
        name=name,
        remote_sale_enabled=remote_sale_enabled,
        email=email,
        phone=phone,
        address=address,
    )
    session.add(dealer)
    await session.flush()
    return Created(dealer.id, await issue_token(session, Role.DEALER, dealer.id))


async def create_staff(session: AsyncSession, name: str) -> Created:
    staff = StaffMember(name=name)
    session.add(staff)
    await session.flush()
    return Created(staff.id, await issue_token(session, Role.STAFF, staff.id))


async def create_inspector(session: AsyncSession, name: str) -> Created:
    inspector = Inspector(name=name)
    session.add(inspector)
    await session.flush()
    return Created(inspector.id, await issue_token(session, Role.INSPECTOR, inspector.id))


# The token and its account joined, one round trip (a revoked token is refused at once).
# Plain columns, not ORM objects: every request runs this, and loading four entities into
# the session (identity map, joined eager loading) cost more than the query. Built once, the
# token's hash bound at execution: building and keying it per request cost as much again.
_PRINCIPAL_OF_TOKEN = (
    select(
        AccessToken.role,
        Dealer.id,
        Dealer.name,
        Dealer.remote_sale_enabled,
        StaffMember.id,
        StaffMember.name,
        Inspector.id,
        Inspector.name,
    )
    .select_from(AccessToken)
    .outerjoin(Dealer, Dealer.id == AccessToken.dealer_id)
    .outerjoin(StaffMember, StaffMember.id == AccessToken.staff_id)
    .outerjoin(Inspector, Inspector.id == AccessToken.inspector_id)
    .where(AccessToken.token_hash == bindparam("token_hash"), AccessToken.revoked_at.is_(None))
)


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    """The principal behind a bearer token, or None for an unknown or revoked token."""
    # On the session's connection: plain columns need none of the ORM's result machinery.
    connection = await session.connection()
    row = (await connection.execute(_PRINCIPAL_OF_TOKEN, {"token_hash": hash_token(token)})).first()
    if row is None:
        return None
    role_value, dealer_id, dealer_name, remote_sale, staff_id, staff_name, inspector_id, inspector_name = row
    role = Role(role_value)
    if role is Role.DEALER and dealer_id is not None:
        return Principal(role, dealer_id, dealer_name, remote_sale)
    if role is Role.STAFF and staff_id is not None:
        return Principal(role, staff_id, staff_name)
    if role is Role.INSPECTOR and inspector_id is not None:
        return Principal(role, inspector_id, inspector_name)
    return None
