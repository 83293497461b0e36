"""What the dealer's proposal endpoints do: create, replace, fire events, correct contacts.

The database holds the content; the workflow holds the lifecycle. The order of writes is
chosen so a failure in the middle leaves nothing half-made: the row is committed before
the workflow starts (its activities read the row), and removed again if the start fails.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError

from api.deps import Clock
from api.errors import ApiError
from api.lifecycle_client import ActionPending, EventRefused, NotStarted, ProposalWorkflows, WorkflowGone
from api.proposals.schemas import EDITABLE_FIELDS, ProposalCreate, ProposalDetail, ProposalPatch
from api.proposals.views import lifecycle_of, proposal_detail
from carflow.links import buyer_token_hash
from carflow.settings import Settings
from db.accounts import Principal
from db.models import IdempotencyRecord, Proposal, Seller
from statemachines.proposal import Actor, ProposalMachine, new_proposal
from workflows.proposal_contract import PROPOSAL, EventRequest, ProposalStart, ProposalStatus

log = structlog.get_logger(__name__)

T = TypeVar("T")

CONTRACT_NUMBER_PREFIX = "CF"
CONTRACT_NUMBER_DIGITS = 10
_INSERT_ATTEMPTS = 5


def new_contract_number() -> str:
    return (
        CONTRACT_NUMBER_PREFIX + f"{secrets.randbelow(10**CONTRACT_NUMBER_DIGITS):0{CONTRACT_NUMBER_DIGITS}d}"
    )


def request_fingerprint(scope: str, body: BaseModel) -> str:
    """SHA-256 of the normalised request: "06 12…" and "+336…" are the same request."""
    canonical = json.dumps(
        {"scope": scope, "body": body.model_dump(mode="json")}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def client_ip(request: Request) -> str:
    """The signer's address for the signature audit (face to face, and the buyer's own)."""
    return request.client.host if request.client else "inconnue"


def validation_error(err: ValidationError) -> RequestValidationError:
    """A pydantic error on a body we validate ourselves, in FastAPI's format (field names kept)."""
    return RequestValidationError(
        [
            {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"], "input": e.get("input")}
            for e in err.errors(include_url=False)
        ]
    )


def classify_patch(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Split a PATCH body's fields into (not editable, unknown), as dotted paths.

    Not editable: a field of a proposal other than the buyer's email/mobile and the
    seller's details; changing it needs a new proposal. Unknown: not a proposal field at
    all (a typo), which is a plain validation error.
    """
    offending: list[str] = []
    unknown: list[str] = []
    groups = {path.partition(".")[0] for path in EDITABLE_FIELDS}

    def walk(model: type[BaseModel], data: dict[str, Any], prefix: str) -> None:
        for key, value in data.items():
            path = f"{prefix}{key}"
            field = model.model_fields.get(key)
            if field is None or path == "send":  # `send` is an instruction, not content
                unknown.append(path)
                continue
            sub = field.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel) and isinstance(value, dict) and value:
                walk(sub, value, path + ".")
            elif path not in EDITABLE_FIELDS and path not in groups:
                offending.append(path)

    walk(ProposalCreate, body, "")
    return offending, unknown


async def store_then_fire(
    session: AsyncSession, row: Proposal, changes: dict[str, Any], fire: Callable[[], Awaitable[T]]
) -> T:
    """Store what the person gave for a step (bank details...), then ask the workflow.

    Committed first, so an activity of the step reads it and a slow workflow loses nothing: an
    action still under way (ActionPending) keeps it, the workflow decides what it means. Only
    a definite refusal (an ApiError: 409, 422...) takes the step's data back.
    """
    before = {name: getattr(row, name) for name in changes}
    for name, value in changes.items():
        setattr(row, name, value)
    await session.commit()
    try:
        return await fire()
    except ApiError:
        for name, value in before.items():
            setattr(row, name, value)
        await session.commit()
        raise


@dataclass(frozen=True)
class Created:
    detail: ProposalDetail
    replayed: bool  # an earlier request with the same Idempotency-Key did the work


@dataclass
class ProposalService:
    session: AsyncSession
    settings: Settings
    dealer: Principal
    workflows: ProposalWorkflows | None
    clock: Clock

    @property
    def temporal(self) -> ProposalWorkflows:
        if self.workflows is None:  # routes that change things depend on TemporalDep
            raise ApiError(503, "temporal_unavailable", "Temporal is not reachable.")
        return self.workflows

    # --- reading: the read model, never the worker -------------------------------------------

    async def detail(self, row: Proposal, status: ProposalStatus | None = None) -> ProposalDetail:
        """The proposal as the read model has it, or with the status an action just returned."""
        return proposal_detail(row, status, self.clock())

    async def detail_after(self, row: Proposal, status: ProposalStatus) -> ProposalDetail:
        """The proposal after an action whose workflow projected its new state meanwhile."""
        await self.session.refresh(row)
        return await self.detail(row, status)

    async def lifecycle(self, row: Proposal) -> ProposalMachine:
        """The proposal's machine where the read model says it stands (the workflow projects
        each transition before answering, and decides for good when asked to act)."""
        await self.session.refresh(row)
        return lifecycle_of(row)

    def refused(self, machine: ProposalMachine, event: str, *, as_verb: str | None = None) -> EventRefused:
        return EventRefused(
            PROPOSAL, event, machine.state, machine.allowed(now=self.clock()), as_verb=as_verb
        )

    # --- events -----------------------------------------------------------------------------

    async def fire(
        self,
        row: Proposal,
        event: str,
        request: EventRequest,
        *,
        update_id: str | None = None,
        start: bool = False,
    ) -> ProposalStatus:
        """Fire `event`; with `start` (a new proposal, `update_id` given) its workflow is
        started by the same call, or the row taken back (`NotStarted`)."""
        try:
            if start:
                assert update_id is not None
                return await self.temporal.start_and_fire(
                    row.id,
                    self._start_input(row),
                    lambda: self._undo(row),
                    event,
                    request,
                    update_id=update_id,
                )
            return await self.temporal.fire(
                row.id, event, request, update_id=update_id, version=row.state_version
            )
        except ActionPending as pending:
            # Under way, not failed: the dealer sees the proposal as it stands meanwhile.
            await self.session.refresh(row)
            detail = await self.detail(row)
            raise pending.at(f"/api/v1/proposals/{row.id}", detail.model_dump(mode="json")) from None
        except WorkflowGone:
            # A closed workflow (cancelled, expired, binding…) no longer takes updates; the
            # read model's final state explains the refusal as the workflow would have.
            await self.session.refresh(row)
            machine = lifecycle_of(row)
            if not machine.can(event, now=self.clock(), actor=request.actor):
                raise self.refused(machine, event) from None
            log.error("proposal_workflow_missing", proposal_id=str(row.id), state=row.state)
            raise ApiError(
                404,
                "workflow_not_found",
                "This proposal's workflow was not found; ADV has to look at it.",
                contract_number=row.contract_number,
            ) from None

    async def fire_and_show(self, row: Proposal, event: str, request: EventRequest) -> ProposalDetail:
        status = await self.fire(row, event, request)
        return await self.detail(row, status)

    # --- create and replace -----------------------------------------------------------------

    async def create(
        self, body: ProposalCreate, idempotency_key: str | None, *, replaces: Proposal | None = None
    ) -> Created:
        fingerprint = request_fingerprint("create" if replaces is None else f"replace:{replaces.id}", body)
        if idempotency_key is not None:
            earlier = await self._earlier_request(idempotency_key, fingerprint)
            if earlier is not None:
                return Created(await self._converge(earlier, body, replaces), replayed=True)
        if replaces is not None:
            machine = await self.lifecycle(replaces)
            if not machine.can("cancel", now=self.clock(), actor=Actor.DEALER):  # before anything is created
                raise self.refused(machine, "cancel", as_verb="replace")
        row = await self._insert(body, replaces, idempotency_key, fingerprint)
        if row is None:  # a concurrent request with the same key won the race
            assert idempotency_key is not None
            earlier = await self._earlier_request(idempotency_key, fingerprint)
            assert earlier is not None
            return Created(await self._converge(earlier, body, replaces), replayed=True)
        status: ProposalStatus | None = None
        send_failed: ApiError | None = None
        if body.send and replaces is None:
            # Started and sent in one call (update-with-start). With a proposal to replace, that
            # one is cancelled first: the buyer must not hear of its successor before.
            try:
                status = await self._send_new(row, start=True)
            except NotStarted:
                raise
            except ApiError as err:
                send_failed = err
        else:
            await self._start_or_undo(row)
        await self._remember_seller(row.seller_name, row.seller_email, row.seller_phone, row, replaces)
        if replaces is not None:
            await self._cancel_replaced(replaces, row)
        if body.send and status is None and send_failed is None:
            try:
                status = await self._send_new(row)
            except ApiError as err:
                send_failed = err
        if send_failed is not None:
            # The proposal exists (a draft with its workflow): say so, so the dealer sends it
            # later instead of creating a duplicate.
            raise ApiError(
                send_failed.status_code,
                "send_failed",
                f"The proposal was saved as draft {row.contract_number} but could not be sent "
                f"({send_failed.message}). Send it with POST /api/v1/proposals/{row.id}/send.",
                proposal_id=str(row.id),
                contract_number=row.contract_number,
                cause=send_failed.code,
            ) from None
        if status is None:
            # Just started, so the fresh row is exactly the workflow's state: no need to ask.
            return Created(proposal_detail(row, None, self.clock()), replayed=False)
        return Created(await self.detail(row, status), replayed=False)

    async def _earlier_request(self, key: str, fingerprint: str) -> Proposal | None:
        record = await self.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.dealer_id == self.dealer.id, IdempotencyRecord.key == key
            )
        )
        if record is None:
            return None
        if record.request_hash != fingerprint:
            raise ApiError(
                409,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request; use a new key.",
            )
        return await self.session.get(Proposal, record.proposal_id)

    async def _converge(
        self, row: Proposal, body: ProposalCreate, replaces: Proposal | None
    ) -> ProposalDetail:
        """Finish what an earlier request with the same key may have left undone.

        Usually everything is done and this only reads. After a crash between two steps, it
        starts the workflow, cancels the replaced proposal or sends, each exactly once.
        """
        try:
            await self.temporal.start(row.id, self._start_input(row))
        except RPCError as err:
            # Temporal is down: the proposal is saved, nothing is lost; the same retry finishes it.
            log.warning("proposal_converge_unavailable", proposal_id=str(row.id), error=str(err)[:200])
            raise ApiError(
                503,
                "temporal_unavailable",
                f"Temporal is not reachable: proposal {row.contract_number} is saved but its "
                "workflow could not be reached. Retry with the same Idempotency-Key to finish it.",
                headers={"Retry-After": "5"},
                proposal_id=str(row.id),
                contract_number=row.contract_number,
            ) from None
        if replaces is not None:
            machine = await self.lifecycle(replaces)
            if machine.can("cancel", now=self.clock(), actor=Actor.DEALER):
                await self._cancel_replaced(replaces, row)
        status: ProposalStatus | None = None
        if body.send and (await self.lifecycle(row)).can(
            "send_to_buyer", now=self.clock(), actor=Actor.DEALER
        ):
            status = await self._send_new(row)
        return await self.detail(row, status)

    async def _insert(
        self, body: ProposalCreate, replaces: Proposal | None, key: str | None, fingerprint: str
    ) -> Proposal | None:
        """Insert the proposal (and its idempotency record); None if the key is taken meanwhile."""
        for _ in range(_INSERT_ATTEMPTS):
            now = self.clock()
            row = self._new_row(body, replaces, now)
            self.session.add(row)
            try:
                await self.session.flush()  # the record below refers to the row
                if key is not None:
                    self.session.add(
                        IdempotencyRecord(
                            dealer_id=self.dealer.id,
                            key=key,
                            request_hash=fingerprint,
                            proposal_id=row.id,
                            created_at=now,
                        )
                    )
                await self.session.commit()
            except IntegrityError:
                await self.session.rollback()
                if key is not None and await self._earlier_request(key, fingerprint) is not None:
                    return None
                # Otherwise the random contract number was taken: draw another.
                log.warning("contract_number_collision", contract_number=row.contract_number)
                continue
            return row
        raise RuntimeError(f"no free contract number after {_INSERT_ATTEMPTS} attempts")

    def _new_row(self, body: ProposalCreate, replaces: Proposal | None, now: datetime) -> Proposal:
        proposal_id = uuid.uuid4()
        product, buyer, vehicle, seller = body.product, body.buyer, body.vehicle, body.seller
        # The read model's starting point, as the workflow's machine starts; the workflow's
        # records activity owns it after.
        lifecycle = new_proposal(product.kind, now)
        return Proposal(
            id=proposal_id,
            dealer_id=self.dealer.id,
            contract_number=new_contract_number(),
            buyer_token_hash=buyer_token_hash(self.settings, proposal_id),
            product_code=product.code,
            product_label=product.label,
            product_kind=product.kind,
            price_cents=product.price_cents,
            duration_months=product.duration_months,
            buyer_first_name=buyer.first_name,
            buyer_last_name=buyer.last_name,
            buyer_email=buyer.email,
            buyer_mobile=buyer.mobile,
            buyer_address_line1=buyer.address.line1,
            buyer_postal_code=buyer.address.postal_code,
            buyer_city=buyer.address.city,
            vehicle_vin=vehicle.vin,
            vehicle_registration=vehicle.registration,
            vehicle_make=vehicle.make,
            vehicle_model=vehicle.model,
            vehicle_first_registration=vehicle.first_registration,
            vehicle_mileage_km=vehicle.mileage_km,
            seller_name=seller.name,
            seller_email=seller.email,
            seller_phone=seller.phone,
            replaces_id=replaces.id if replaces is not None else None,
            created_at=now,
            state=lifecycle.state,
            state_version=0,
            expires_at=lifecycle.model.expires_at,
            updated_at=now,
        )

    def _start_input(self, row: Proposal) -> ProposalStart:
        summary = (
            f"{row.buyer_first_name} {row.buyer_last_name} · {row.vehicle_make} {row.vehicle_model}"
            f" {row.vehicle_registration} · {self.dealer.name}"
        )
        return ProposalStart(
            proposal_id=str(row.id),
            dealer_id=str(row.dealer_id),
            contract_number=row.contract_number,
            kind=row.product_kind,
            saved_at=row.created_at,
            summary=summary,
            # Sending is a separate update so the response carries the state after sending.
            send_now=False,
            remind_after_sent_days=self.settings.reminder_after_sent_days,
            remind_before_expiry_days=self.settings.reminder_before_expiry_days,
        )

    async def _start_or_undo(self, row: Proposal) -> None:
        await self.temporal.start_or_undo(row.id, self._start_input(row), lambda: self._undo(row))

    async def _undo(self, row: Proposal) -> None:
        await self.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.proposal_id == row.id))
        await self.session.execute(delete(Proposal).where(Proposal.id == row.id))
        await self.session.commit()

    async def _cancel_replaced(self, old: Proposal, new: Proposal) -> None:
        """Cancel the replaced proposal; if that fails, take the new one back."""
        try:
            await self.fire(
                old,
                "cancel",
                EventRequest(actor="dealer", reason=f"replaced by {new.contract_number}"),
                update_id=f"replaced-by-{new.id}",
            )
        except ApiError as err:
            # The old proposal moved on meanwhile (the buyer started signing): two live
            # proposals for one sale must not exist, so the new one goes. Its key is
            # forgotten so a retry gets this refusal again rather than the dead proposal.
            log.warning("replace_cancel_failed", old=str(old.id), new=str(new.id), code=err.code)
            try:
                await self.fire(new, "cancel", EventRequest(actor="dealer", reason="replace failed"))
            except ApiError:
                log.error("replace_compensation_failed", new=str(new.id))
            await self.session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.proposal_id == new.id)
            )
            await self.session.commit()
            if isinstance(err, EventRefused):
                raise EventRefused(
                    PROPOSAL,
                    "cancel",
                    str(err.details["state"]),
                    list(err.details["allowed_events"]),
                    as_verb="replace",
                ) from None
            raise

    async def _send_new(self, row: Proposal, *, start: bool = False) -> ProposalStatus:
        """Send the new proposal; with `start`, its workflow is started by the same call.
        A fixed update id: a retried create sends the proposal once, not twice."""
        return await self.fire(
            row,
            "send_to_buyer",
            EventRequest(actor="dealer"),
            update_id=f"send-on-create-{row.id}",
            start=start,
        )

    async def _remember_seller(
        self, name: str, email: str, phone: str | None, *keep: Proposal | None
    ) -> None:
        """Save or refresh the seller's profile, offered again at the dealer's next sale.

        A convenience: if it cannot be saved, the proposal stands anyway. A rollback (a
        concurrent first sale by the same seller) expires every loaded row: the rows in `keep`
        are loaded again, or the next read of one (`row.id`) would do I/O outside the event
        loop's greenlet (`MissingGreenlet`, a 500 seen on concurrent creates).
        """
        try:
            await self._save_seller(name, email, phone)
        finally:
            for row in keep:
                if row is not None and inspect(row).expired_attributes:
                    await self.session.refresh(row)

    async def _save_seller(self, name: str, email: str, phone: str | None) -> None:
        for _ in range(2):  # a concurrent first sale by the same seller: update on retry
            try:
                seller = await self.session.scalar(
                    select(Seller).where(Seller.dealer_id == self.dealer.id, Seller.email == email)
                )
                now = self.clock()
                if seller is None:
                    self.session.add(
                        Seller(
                            dealer_id=self.dealer.id,
                            name=name,
                            email=email,
                            phone=phone,
                            created_at=now,
                            last_used_at=now,
                        )
                    )
                else:
                    seller.name = name
                    seller.phone = phone if phone is not None else seller.phone
                    seller.last_used_at = now
                await self.session.commit()
                return
            except IntegrityError:
                await self.session.rollback()
            except SQLAlchemyError as err:
                await self.session.rollback()
                log.warning("seller_profile_not_saved", error=str(err)[:200])
                return

    # --- corrections ------------------------------------------------------------------------

    async def patch(self, row: Proposal, body: dict[str, Any]) -> ProposalDetail:
        offending, unknown = classify_patch(body)
        if offending:
            raise ApiError(
                409,
                "requires_new_proposal",
                "Only the buyer's email and mobile and the seller's details can be changed; "
                f"changing {', '.join(offending)} needs a new proposal: "
                f"POST /api/v1/proposals/{row.id}/replace creates it and cancels this one.",
                fields=offending,
                editable_fields=sorted(EDITABLE_FIELDS),
            )
        if unknown:
            raise RequestValidationError(
                [
                    {"type": "extra_forbidden", "loc": ("body", *path.split(".")), "msg": "Unknown field"}
                    for path in unknown
                ]
            )
        try:
            patch = ProposalPatch.model_validate(body)
        except ValidationError as err:
            raise validation_error(err) from None

        machine = await self.lifecycle(row)
        now = self.clock()
        # The machine says when contact details can be corrected (while the proposal is open).
        if not machine.accepts_corrections(now):
            raise ApiError(
                409,
                "not_editable",
                f"cannot edit a proposal in state {machine.state}: corrections stop once signing has started",
                state=machine.state,
                allowed_events=machine.allowed(now=now),
            )

        email_changed = False
        if patch.buyer is not None:
            if patch.buyer.email is not None:
                email_changed = patch.buyer.email.lower() != row.buyer_email.lower()
                row.buyer_email = patch.buyer.email
            if patch.buyer.mobile is not None:
                row.buyer_mobile = patch.buyer.mobile
        if patch.seller is not None:
            for name in patch.seller.model_fields_set:
                setattr(row, f"seller_{name}", getattr(patch.seller, name))
        await self.session.commit()
        if patch.seller is not None and patch.seller.model_fields_set:
            await self._remember_seller(row.seller_name, row.seller_email, row.seller_phone, row)

        status: ProposalStatus | None = None
        if email_changed and machine.can("resend", now=now, actor=Actor.DEALER):
            # The email activity reads the address when sending, so the row is committed first.
            try:
                status = await self.fire(row, "resend", EventRequest(actor="dealer", reason="email_changed"))
            except EventRefused:
                # The buyer moved on in the meantime (e.g. started signing): the correction is
                # saved, there is just nothing to resend any more.
                log.info("resend_after_email_change_refused", proposal_id=str(row.id))
        return await self.detail(row, status)
