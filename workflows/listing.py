"""ListingWorkflow: one inspected vehicle's listing, from the owner's survey to its archive.

The machine (statemachines/listing.py) decides what is legal; this workflow holds it, the
3-month publication timer and the 1-month "VENDU" timer, and the queue of side effects
(the report PDF, the owner's credentials, contact and share emails). Every owner action is
an update whose validator asks the machine first, so an illegal action never reaches
history, and nothing but the survey is possible before the survey is done.

The read model is written by the `project_listing` activity before an update returns, so
the owner's next page and the public search see the change at once.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from statemachines.deadlines import listing_publication_ends_at, listing_sold_period_ends_at
    from statemachines.listing import (
        LISTING_FINAL_STATES,
        ListingState,
        TransitionNotAllowed,
        accepts_contact,
        apply_event,
        enabled_event_names,
        is_publicly_visible,
        restore_listing,
    )
    from workflows.listing_contract import (
        ACTIVITY_EMAIL,
        ACTIVITY_OWNER_WELCOME,
        ACTIVITY_PROJECT,
        ACTIVITY_REPORT,
        INVALID_INPUT_ERROR_TYPE,
        MAX_LOCATION_LENGTH,
        MAX_PRICE_CENTS,
        OWNER_ACTIONS,
        OWNER_EVENTS,
        QUERY_STATUS,
        REFUSED_ERROR_TYPE,
        SIGNAL_RETRY_EMAILS,
        SURVEY_LEVELS,
        SURVEY_QUESTIONS,
        UPDATE_CONTACT_OWNER,
        UPDATE_EDIT,
        UPDATE_SHARE_REPORT,
        WORKFLOW_TYPE,
        ContactRequest,
        EventRequest,
        ListingEdit,
        ListingProjection,
        ListingStart,
        ListingStatus,
        ListingTask,
        OwnerWelcome,
        ShareRequest,
        SurveyRecord,
    )
    from workflows.search_attributes import EMAIL_FAILED, LISTING_STATE

PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# About 10 minutes of retries before ADV is asked to look (EmailFailed), as for proposals.
TASK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=8,
    non_retryable_error_types=["BadEmail", "NoSuchListing"],
)
REPORT_TIMEOUT = timedelta(minutes=2)
EMAIL_TIMEOUT = timedelta(minutes=1)

# States where the listing's price, location and visibility may be edited.
EDITABLE_STATES = frozenset({ListingState.PRIVATE, ListingState.PUBLISHED, ListingState.EXPIRED})
SURVEY_FIRST = "complete the satisfaction survey first"


@workflow.defn(name=WORKFLOW_TYPE, failure_exception_types=[TransitionNotAllowed])
class ListingWorkflow:
    @workflow.init
    def __init__(self, start: ListingStart) -> None:
        self.start = start
        self.machine = restore_listing()
        self.price_cents = start.price_cents
        self.negotiable = start.negotiable
        self.location = start.location
        self.published_at: datetime | None = None
        self.publication_ends_at: datetime | None = None
        self.publications = 0
        self.sold_at: datetime | None = None
        self.sold_period_ends_at: datetime | None = None
        self.survey: SurveyRecord | None = None
        self.version = 0
        # The intake's side effects come first: the report PDF, then the owner's credentials.
        self.tasks: list[ListingTask] = [
            self._task("report_pdf", "1"),
            self._task("owner_welcome", "1"),
        ]
        self.email_failed = False
        self.email_error: str | None = None
        # One transition at a time: handlers interleave at every await.
        self.lock = asyncio.Lock()

    @property
    def state(self) -> str:
        return str(self.machine.current_state_value)

    @property
    def visible_when_sold(self) -> bool:
        return bool(self.machine.model.visible_when_sold)

    # --- main loop: timers and the task queue --------------------------------------------

    @workflow.run
    async def run(self, start: ListingStart) -> ListingStatus:
        self._publish()
        while not (self.state in LISTING_FINAL_STATES and not self.tasks):
            if self.tasks and not self.email_failed:
                await self._run_next_task()
                continue
            seen = self.version
            deadline = self._deadline()
            if deadline is not None and deadline <= workflow.now():
                async with self.lock:
                    await self._deadline_passed()
                continue
            timeout = None if deadline is None else deadline - workflow.now()
            try:
                await workflow.wait_condition(functools.partial(self._woken, seen), timeout=timeout)
            except TimeoutError:
                async with self.lock:
                    await self._deadline_passed()
        # The update that ended the lifecycle may still be writing its projection.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status()

    def _woken(self, seen_version: int) -> bool:
        return self.version != seen_version or bool(self.tasks and not self.email_failed)

    def _deadline(self) -> datetime | None:
        if self.state == ListingState.PUBLISHED:
            return self.publication_ends_at
        if self.state == ListingState.SOLD:
            return self.sold_period_ends_at
        return None

    async def _deadline_passed(self) -> None:
        deadline = self._deadline()
        if deadline is None or workflow.now() < deadline:
            return  # an owner action moved or removed the deadline while the timer ran
        if self.state == ListingState.PUBLISHED:
            self._fire("publication_ends")
            self.tasks.append(self._task("listing_expired", str(self.publications)))
        else:
            self._fire("sold_period_ends")
        await self._project()

    def _task(self, kind: str, suffix: str, ref_id: str | None = None) -> ListingTask:
        return ListingTask(
            listing_id=self.start.listing_id,
            kind=kind,
            idempotency_key=f"listing-{self.start.listing_id}:{kind}:{suffix}",
            ref_id=ref_id,
        )

    async def _run_next_task(self) -> None:
        task = self.tasks[0]
        try:
            if task.kind == "report_pdf":
                await workflow.execute_activity(
                    ACTIVITY_REPORT,
                    task,
                    start_to_close_timeout=REPORT_TIMEOUT,
                    retry_policy=TASK_RETRY,
                    summary="inspection report (PDF)",
                )
            elif task.kind == "owner_welcome":
                # The password is generated, hashed and mailed inside the activity: it is
                # never an input or a result, so it never reaches history.
                await workflow.execute_activity(
                    ACTIVITY_OWNER_WELCOME,
                    OwnerWelcome(self.start.listing_id, self.start.new_owner, task.idempotency_key),
                    start_to_close_timeout=EMAIL_TIMEOUT,
                    retry_policy=TASK_RETRY,
                    summary="owner's access to their space",
                )
            else:
                await workflow.execute_activity(
                    ACTIVITY_EMAIL,
                    task,
                    start_to_close_timeout=EMAIL_TIMEOUT,
                    retry_policy=TASK_RETRY,
                    summary=task.kind,
                )
        except ActivityError as err:
            cause = err.cause
            self.email_failed = True
            self.email_error = str(cause.message if isinstance(cause, ApplicationError) else cause or err)
            workflow.logger.warning(
                "task %s failed; waiting for ADV retry: %s", task.idempotency_key, self.email_error
            )
        else:
            self.tasks.pop(0)
            if not self.email_failed and self.email_error is None:
                return
            self.email_failed, self.email_error = False, None
        async with self.lock:
            self.version += 1
            await self._project()

    # --- owner events: updates with validators -------------------------------------------

    @workflow.update
    async def complete_survey(self, request: EventRequest) -> ListingStatus:
        return await self._handle("complete_survey", request)

    @complete_survey.validator
    def _validate_complete_survey(self, request: EventRequest) -> None:
        self._validate("complete_survey")
        _check_survey(request)

    @workflow.update
    async def publish(self, request: EventRequest) -> ListingStatus:
        return await self._handle("publish", request)

    @publish.validator
    def _validate_publish(self, request: EventRequest) -> None:
        self._validate("publish")

    @workflow.update
    async def unpublish(self, request: EventRequest) -> ListingStatus:
        return await self._handle("unpublish", request)

    @unpublish.validator
    def _validate_unpublish(self, request: EventRequest) -> None:
        self._validate("unpublish")

    @workflow.update
    async def mark_sold(self, request: EventRequest) -> ListingStatus:
        return await self._handle("mark_sold", request)

    @mark_sold.validator
    def _validate_mark_sold(self, request: EventRequest) -> None:
        self._validate("mark_sold")

    @workflow.update(name=UPDATE_EDIT)
    async def edit(self, change: ListingEdit) -> ListingStatus:
        async with self.lock:
            reason = self._refusal(UPDATE_EDIT, change)
            if reason is not None:
                raise self._refused(UPDATE_EDIT, reason)
            event = self._publication_event(change.published)
            if change.price_cents is not None:
                self.price_cents = change.price_cents
            if change.negotiable is not None:
                self.negotiable = change.negotiable
            if change.location is not None:
                self.location = change.location
            if event is not None:
                self._fire(event)
            else:
                self.version += 1
                self._publish()
            await self._project()
        return self._status()

    @edit.validator
    def _validate_edit(self, change: ListingEdit) -> None:
        _check_edit(change)
        reason = self._refusal(UPDATE_EDIT, change)
        if reason is not None:
            raise self._refused(UPDATE_EDIT, reason)

    @workflow.update(name=UPDATE_SHARE_REPORT)
    async def share_report(self, request: ShareRequest) -> ListingStatus:
        async with self.lock:
            reason = self._refusal(UPDATE_SHARE_REPORT)
            if reason is not None:
                raise self._refused(UPDATE_SHARE_REPORT, reason)
            self.tasks.append(self._task("report_shared", request.share_id, request.share_id))
        return self._status()

    @share_report.validator
    def _validate_share_report(self, request: ShareRequest) -> None:
        self._validate(UPDATE_SHARE_REPORT)

    @workflow.update(name=UPDATE_CONTACT_OWNER)
    async def contact_owner(self, request: ContactRequest) -> ListingStatus:
        async with self.lock:
            reason = self._refusal(UPDATE_CONTACT_OWNER)
            if reason is not None:
                raise self._refused(UPDATE_CONTACT_OWNER, reason)
            self.tasks.append(self._task("contact_message", request.message_id, request.message_id))
        return self._status()

    @contact_owner.validator
    def _validate_contact_owner(self, request: ContactRequest) -> None:
        self._validate(UPDATE_CONTACT_OWNER)

    @workflow.signal(name=SIGNAL_RETRY_EMAILS)
    def retry_emails(self) -> None:
        """ADV: try the failed task again (after the outage is over or the address fixed)."""
        if self.email_failed:
            self.email_failed = False

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> ListingStatus:
        return self._status()

    # --- transitions ----------------------------------------------------------------------

    def _validate(self, action: str) -> None:
        reason = self._refusal(action)
        if reason is not None:
            raise self._refused(action, reason)

    def _refusal(self, action: str, change: ListingEdit | None = None) -> str | None:
        state = self.state
        if state == ListingState.PENDING_SURVEY and action != "complete_survey":
            return SURVEY_FIRST
        if action in OWNER_EVENTS:
            if action not in enabled_event_names(self.machine):
                return f"cannot {action} a listing in state {state}"
            return None
        if action == UPDATE_EDIT:
            if state not in EDITABLE_STATES:
                return f"cannot edit a listing in state {state}"
            event = self._publication_event(change.published if change else None)
            if event is not None and event not in enabled_event_names(self.machine):
                return f"cannot {event} a listing in state {state}"
            return None
        if action == UPDATE_SHARE_REPORT:
            return f"cannot share the report of a listing in state {state}" if state == "archived" else None
        if action == UPDATE_CONTACT_OWNER:
            return None if accepts_contact(state) else f"a listing in state {state} takes no messages"
        return f"unknown action {action}"

    def _publication_event(self, published: bool | None) -> str | None:
        """The event an edit's "published" box asks for, or None when nothing changes."""
        if published is None:
            return None
        if published and self.state != ListingState.PUBLISHED:
            return "publish"
        if not published and self.state == ListingState.PUBLISHED:
            return "unpublish"
        return None

    def _allowed(self) -> list[str]:
        return [a for a in OWNER_ACTIONS if self._refusal(a) is None]

    def _refused(self, action: str, reason: str) -> ApplicationError:
        return ApplicationError(
            reason,
            {"state": self.state, "allowed_events": self._allowed(), "reason": reason, "event": action},
            type=REFUSED_ERROR_TYPE,
            non_retryable=True,
        )

    async def _handle(self, event: str, request: EventRequest) -> ListingStatus:
        async with self.lock:
            # Re-checked under the lock: another update may have moved the state since the
            # validator ran.
            reason = self._refusal(event)
            if reason is not None:
                raise self._refused(event, reason)
            workflow.logger.info("%s by %s in state %s", event, request.actor, self.state)
            if event == "complete_survey":
                assert request.survey is not None  # checked by the validator
                self.survey = SurveyRecord(
                    answers=list(request.survey.answers),
                    publish=request.survey.publish,
                    completed_at=workflow.now(),
                )
                self._fire(event, publish=request.survey.publish)
            else:
                self._fire(event)
            await self._project()
        return self._status()

    def _fire(self, event: str, **kwargs: object) -> None:
        try:
            apply_event(self.machine, event, **kwargs)
        except TransitionNotAllowed as exc:  # unreachable behind _refusal; never hang the task
            raise self._refused(event, str(exc)) from None
        now = workflow.now()
        if event in ("complete_survey", "publish") and self.state == ListingState.PUBLISHED:
            # Every publication starts a fresh 3-month period, from now (not from intake).
            self.publications += 1
            self.published_at = now
            self.publication_ends_at = listing_publication_ends_at(now)
        elif event == "unpublish":
            self.publication_ends_at = None
        elif event == "mark_sold":
            self.sold_at = now
            self.sold_period_ends_at = listing_sold_period_ends_at(now)
            self.publication_ends_at = None
        self.version += 1
        self._publish()

    async def _project(self) -> None:
        self._publish()
        await workflow.execute_activity(
            ACTIVITY_PROJECT,
            ListingProjection(
                listing_id=self.start.listing_id,
                version=self.version,
                state=self.state,
                visible_when_sold=self.visible_when_sold,
                publicly_visible=is_publicly_visible(self.state, self.visible_when_sold),
                price_cents=self.price_cents,
                negotiable=self.negotiable,
                location=self.location,
                published_at=self.published_at,
                publication_ends_at=self.publication_ends_at,
                sold_at=self.sold_at,
                sold_period_ends_at=self.sold_period_ends_at,
                survey=self.survey,
                email_failed=self.email_failed,
                email_error=self.email_error,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PROJECTION_RETRY,
            summary=f"read model: {self.state}",
        )

    def _publish(self) -> None:
        """Search attributes and the UI's current details, for ADV staff."""
        workflow.upsert_search_attributes(
            [LISTING_STATE.value_set(self.state), EMAIL_FAILED.value_set(self.email_failed)]
        )
        lines = [f"**State:** {self.state}"]
        deadline = self._deadline()
        if deadline is not None:
            what = "Public until" if self.state == ListingState.PUBLISHED else "Archived on"
            lines.append(f"**{what}:** {deadline.isoformat()}")
        if self.email_failed:
            lines.append(f"**Task failing:** {self.email_error} — signal `{SIGNAL_RETRY_EMAILS}` to retry")
        workflow.set_current_details("\n\n".join(lines))

    def _status(self) -> ListingStatus:
        return ListingStatus(
            listing_id=self.start.listing_id,
            state=self.state,
            allowed_events=self._allowed(),
            visible_when_sold=self.visible_when_sold,
            publicly_visible=is_publicly_visible(self.state, self.visible_when_sold),
            accepts_contact=accepts_contact(self.state),
            published_at=self.published_at,
            publication_ends_at=self.publication_ends_at,
            sold_at=self.sold_at,
            sold_period_ends_at=self.sold_period_ends_at,
            survey_completed_at=self.survey.completed_at if self.survey else None,
            price_cents=self.price_cents,
            negotiable=self.negotiable,
            location=self.location,
            email_failed=self.email_failed,
            email_error=self.email_error,
            pending_emails=[t.idempotency_key for t in self.tasks],
        )


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError(
        message, {"field": field, "reason": message}, type=INVALID_INPUT_ERROR_TYPE, non_retryable=True
    )


def _check_survey(request: EventRequest) -> None:
    survey = request.survey
    if survey is None:
        raise _invalid("the survey's answers are missing", "answers")
    if len(survey.answers) != SURVEY_QUESTIONS:
        raise _invalid(f"the survey has {SURVEY_QUESTIONS} questions, got {len(survey.answers)}", "answers")
    for index, answer in enumerate(survey.answers):
        if answer not in SURVEY_LEVELS:
            raise _invalid(
                f"unknown survey level {answer!r}; expected one of {SURVEY_LEVELS}", f"answers.{index}"
            )
    if survey.cgu_accepted is not True:
        raise _invalid("the terms of use (CGU) must be accepted", "cgu_accepted")


def _check_edit(change: ListingEdit) -> None:
    if change.price_cents is not None and not 0 <= change.price_cents <= MAX_PRICE_CENTS:
        raise _invalid(f"price_cents must be between 0 and {MAX_PRICE_CENTS}", "price_cents")
    if change.location is not None and len(change.location) > MAX_LOCATION_LENGTH:
        raise _invalid(f"location is longer than {MAX_LOCATION_LENGTH} characters", "location")
