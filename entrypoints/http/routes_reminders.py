"""/notifications: reminders, sending one now, a reminder's deliveries and its next slots."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from application import previews, views
from application.commands import (
    CreateReminder,
    DeleteReminder,
    NewReminder,
    ReminderPatch,
    SendReminderNow,
    UpdateReminder,
)
from entrypoints.http.api import (
    Operation,
    actor,
    given,
    handle,
    json_response,
    read,
    read_body,
    read_query,
    service,
)
from entrypoints.http.examples import NEW_REMINDER, REMINDER_CHANGES
from entrypoints.http.outcomes import outcome_response, request_began, wait_for_outcome
from entrypoints.http.queries import OccurrenceQuery, ReminderDeliveryQuery, ReminderQuery
from entrypoints.http.schemas import DeliveryOut, DeliveryPage, ReminderOut, ReminderPage
from entrypoints.http.schemas_occurrences import OccurrencesOut


async def create_reminder(request: Request) -> Response:
    body = await read_body(request, NewReminder)
    reminder = await handle(request, given(request, CreateReminder, body))
    return json_response(ReminderOut.of(reminder), 201)


async def get_reminder(request: Request) -> Response:
    reminder_id = request.path_params["reminder_id"]
    reminder = await read(
        request, views.get_reminder, service(request).uow_factory, actor(request), reminder_id
    )
    return json_response(ReminderOut.of(reminder))


async def update_reminder(request: Request) -> Response:
    changes = await read_body(request, ReminderPatch)
    command = given(request, UpdateReminder, reminder_id=request.path_params["reminder_id"], changes=changes)
    return json_response(ReminderOut.of(await handle(request, command)))


async def delete_reminder(request: Request) -> Response:
    await handle(request, given(request, DeleteReminder, reminder_id=request.path_params["reminder_id"]))
    return Response(status_code=204)


async def list_reminders_of_owner(request: Request) -> Response:
    query = read_query(request, ReminderQuery)
    page = await run_in_threadpool(
        views.list_reminders_of,
        service(request).uow_factory,
        actor(request),
        request.path_params["owner_id"],
        limit=query.limit,
        offset=query.offset,
        channel=query.channel,
        frequency=query.frequency,
        active=query.active,
    )
    return json_response(ReminderPage.of(page, ReminderOut.of))


async def send_now(request: Request) -> Response:
    began = request_began()
    command = given(request, SendReminderNow, reminder_id=request.path_params["reminder_id"])
    delivery = await handle(request, command)
    return outcome_response(await wait_for_outcome(request, delivery, began=began))


async def list_deliveries_of_reminder(request: Request) -> Response:
    query = read_query(request, ReminderDeliveryQuery)
    page = await run_in_threadpool(
        views.list_deliveries,
        service(request).uow_factory,
        actor(request),
        reminder_id=request.path_params["reminder_id"],
        limit=query.limit,
        offset=query.offset,
        status=query.status,
    )
    return json_response(DeliveryPage.of(page, DeliveryOut.of))


async def list_occurrences(request: Request) -> Response:
    query = read_query(request, OccurrenceQuery)
    the_service = service(request)
    occurrences = await run_in_threadpool(
        previews.reminder_occurrences,
        the_service.uow_factory,
        actor(request),
        request.path_params["reminder_id"],
        after=query.after or the_service.clock.now(),
        count=query.count,
    )
    return json_response(OccurrencesOut.of(occurrences))


OPERATIONS = [
    Operation(
        "POST", "/notifications/", create_reminder,
        "Create a reminder: yours, or (admins) anyone's in the team", "reminders",
        status=201, body=NewReminder, response=ReminderOut, errors=(400, 403, 404, 409, 413, 415),
        examples=NEW_REMINDER,
    ),
    Operation(
        "GET", "/notifications/{reminder_id}", get_reminder, "Get a reminder", "reminders",
        response=ReminderOut, errors=(403, 404),
    ),
    Operation(
        "PATCH", "/notifications/{reminder_id}", update_reminder,
        "Change a reminder; a schedule change recomputes next_run_at", "reminders",
        body=ReminderPatch, response=ReminderOut, errors=(400, 403, 404, 409, 413, 415),
        examples=REMINDER_CHANGES,
    ),
    Operation(
        "DELETE", "/notifications/{reminder_id}", delete_reminder, "Delete a reminder", "reminders",
        status=204, errors=(403, 404, 409),
    ),
    Operation(
        "GET", "/notifications/user/{owner_id}/", list_reminders_of_owner,
        "List a user's reminders in creation order", "reminders",
        query=ReminderQuery, response=ReminderPage, errors=(400, 403, 404),
    ),
    Operation(
        "POST", "/notifications/send/{reminder_id}", send_now,
        "Queue a reminder to be sent now, without moving its schedule, and wait for the outcome: "
        "200 sent, 502 failed, 202 still retrying", "reminders",
        also_returns=(202,), response=DeliveryOut, errors=(403, 404, 409, 502),
    ),
    Operation(
        "GET", "/notifications/{reminder_id}/deliveries", list_deliveries_of_reminder,
        "List a reminder's deliveries, newest first", "deliveries",
        query=ReminderDeliveryQuery, response=DeliveryPage, errors=(400, 403, 404),
    ),
    Operation(
        "GET", "/notifications/{reminder_id}/occurrences", list_occurrences,
        "Preview a reminder's next slots after a moment (default now), skipped ones included and "
        "flagged: skip_date, quiet_hours or paused; each recipient's own for a reminder in their time",
        "reminders", query=OccurrenceQuery, response=OccurrencesOut, errors=(400, 403, 404),
    ),
]  # fmt: skip
