"""ListingWorkflow: one inspected vehicle's listing, from the owner's survey to its archive.

The machine (statemachines/listing.py) decides what is legal, by whom and until when: the
survey before anything else, the 3-month publication and the 1-month "VENDU" period, and
the owner's edits, report shares and the public's messages as internal transitions. The
lifecycle engine (workflows/lifecycle.py) runs it. This module supplies what is a
listing's own: its inputs and status, the intake's side effects (the report PDF, the
owner's credentials), the emails, and what is projected and shown.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from carflow.records import fields_of
    from statemachines.listing import (
        Actor,
        ListingEvent,
        ListingFacts,
        ListingMachine,
        ListingModel,
        TransitionNotAllowed,
    )
    from workflows.listing_contract import (
        ACTIVITY_EMAIL,
        ACTIVITY_OWNER_WELCOME,
        ACTIVITY_PROJECT,
        ACTIVITY_REPORT,
        INVALID_INPUT_ERROR_TYPE,
        MAX_LOCATION_LENGTH,
        MAX_PRICE_CENTS,
        SURVEY_LEVELS,
        SURVEY_QUESTIONS,
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
        listing_workflow_id,
    )
    from workflows.search_attributes import EMAIL_FAILED, LISTING_STATE

from workflows.lifecycle import HEARTBEAT_TIMEOUT, Effect, LifecycleWorkflow, effect_retry, lifecycle_update

# About 10 minutes of retries before ADV is asked to look (EmailFailed), as for proposals.
TASK_RETRY = effect_retry("BadEmail", "NoSuchListing")
REPORT_TIMEOUT = timedelta(minutes=2)
EMAIL_TIMEOUT = timedelta(minutes=1)
# The email each owner/public action queues (the request names its database row).
ACTION_EFFECTS: dict[str, str] = {
    ListingEvent.SHARE_REPORT: "report_shared",
    ListingEvent.CONTACT_OWNER: "contact_message",
}


def _update(event: str, argument: type = EventRequest) -> Any:
    return lifecycle_update(event, argument, ListingStatus)


@workflow.defn(name=WORKFLOW_TYPE, failure_exception_types=[TransitionNotAllowed])
class ListingWorkflow(LifecycleWorkflow[ListingMachine, ListingStatus]):
    projection_activity = ACTIVITY_PROJECT
    status_actor = Actor.OWNER
    # Updates whose input names no actor: the owner edits and shares, the public writes.
    default_actors = {
        ListingEvent.EDIT: Actor.OWNER,
        ListingEvent.SHARE_REPORT: Actor.OWNER,
        ListingEvent.CONTACT_OWNER: Actor.PUBLIC,
    }
    deadline_labels = {
        ListingEvent.PUBLICATION_ENDS: "Public until",
        ListingEvent.SOLD_PERIOD_ENDS: "Archived on",
    }

    @workflow.init
    def __init__(self, start: ListingStart) -> None:
        machine = ListingMachine(
            model=ListingModel(
                price_cents=start.price_cents, negotiable=start.negotiable, location=start.location
            )
        )
        # The intake's side effects come first: the report PDF, then the owner's credentials.
        super().__init__(machine)
        self.start = start
        self.survey: SurveyRecord | None = None
        self.effects += [self._effect("report_pdf", "1"), self._effect("owner_welcome", "1")]

    @workflow.run
    async def run(self, start: ListingStart) -> ListingStatus:
        await self._live()
        return self._status()

    # --- owner and public actions: updates with validators -----------------------------------

    complete_survey = _update(ListingEvent.COMPLETE_SURVEY)
    publish = _update(ListingEvent.PUBLISH)
    unpublish = _update(ListingEvent.UNPUBLISH)
    mark_sold = _update(ListingEvent.MARK_SOLD)
    edit = _update(ListingEvent.EDIT, ListingEdit)
    share_report = _update(ListingEvent.SHARE_REPORT, ShareRequest)
    contact_owner = _update(ListingEvent.CONTACT_OWNER, ContactRequest)

    def _refusal(self, event: str, request: Any, *, as_actor: bool = True) -> Any:
        if event == ListingEvent.EDIT:
            return self.machine.edit_refusal(now=workflow.now(), published=request.published)
        return super()._refusal(event, request, as_actor=as_actor)

    def _check_input(self, event: str, request: Any) -> None:
        if event == ListingEvent.COMPLETE_SURVEY:
            _check_survey(request)
        elif event == ListingEvent.EDIT:
            _check_edit(request)

    def _apply(self, event: str, request: Any) -> bool:
        now = workflow.now()
        if event == ListingEvent.COMPLETE_SURVEY:
            survey = request.survey
            self.survey = SurveyRecord(answers=list(survey.answers), publish=survey.publish, completed_at=now)
            self._fire(event, publish=survey.publish)
            return True
        if event == ListingEvent.EDIT:
            change: ListingEdit = request
            publication = self.machine.publication_event(change.published)
            self.machine.fire(
                event,
                now=now,
                price_cents=change.price_cents,
                negotiable=change.negotiable,
                location=change.location,
            )
            if publication is not None:
                self._fire(publication)
            else:
                self.version += 1
                self._publish()
            return True
        if event in ACTION_EFFECTS:
            # Obeys the lifecycle, changes nothing in it: the email is the whole effect.
            self.machine.fire(event, now=now)
            row_id = request.share_id if event == ListingEvent.SHARE_REPORT else request.message_id
            self.effects.append(self._effect(ACTION_EFFECTS[event], row_id, row_id))
            return False
        self._fire(event)
        return True

    # --- side effects -----------------------------------------------------------------------

    def _effect(self, kind: str, suffix: str, ref_id: str | None = None) -> Effect:
        return Effect(kind, f"{listing_workflow_id(self.start.listing_id)}:{kind}:{suffix}", ref_id=ref_id)

    def _queue_effects(self, event: str) -> None:
        if event == ListingEvent.PUBLICATION_ENDS:
            self.effects.append(self._effect("listing_expired", str(self.machine.model.publications)))

    async def _perform(self, effect: Effect) -> None:
        task = ListingTask(self.start.listing_id, effect.kind, effect.key, effect.ref_id)
        if effect.kind == "report_pdf":
            await workflow.execute_activity(
                ACTIVITY_REPORT,
                task,
                start_to_close_timeout=REPORT_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=TASK_RETRY,
                summary="inspection report (PDF)",
            )
        elif effect.kind == "owner_welcome":
            # The password is generated, hashed and mailed inside the activity: it is never
            # an input or a result, so it never reaches history.
            await workflow.execute_activity(
                ACTIVITY_OWNER_WELCOME,
                OwnerWelcome(self.start.listing_id, self.start.new_owner, effect.key),
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
                summary=effect.kind,
            )

    # --- what the world sees ------------------------------------------------------------------

    def _search_attributes(self) -> list[Any]:
        return [LISTING_STATE.value_set(self.state), EMAIL_FAILED.value_set(self.effect_failed)]

    def _projection(self) -> ListingProjection:
        facts = self.machine.model
        return ListingProjection(
            listing_id=self.start.listing_id,
            publicly_visible=self.machine.is_publicly_visible(),
            survey=self.survey,
            **fields_of(facts, ListingFacts),
            **self._lifecycle_projection(),
        )

    def _status(self) -> ListingStatus:
        facts = self.machine.model
        return ListingStatus(
            listing_id=self.start.listing_id,
            publicly_visible=self.machine.is_publicly_visible(),
            accepts_contact=self.machine.accepts_contact(),
            survey_completed_at=self.survey.completed_at if self.survey else None,
            **fields_of(facts, ListingFacts),
            **self._lifecycle_status(),
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
