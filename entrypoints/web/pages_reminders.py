"""My reminders: the list with its filters, a reminder's page with its next occurrences and its
deliveries, and the one-click actions (pause, resume, send now, delete). The form that creates and
changes one is pages_reminder_form's; this area's routes include it.

Every read and change goes through the application's views and commands as the viewer, so the pages
allow exactly what the API allows. Another person's reminder reads as one that does not exist.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application import previews, web_lists
from application.commands import DeleteReminder, ReminderPatch, SendReminderNow, UpdateReminder
from domain.redaction import redact
from domain.reminder_state import reminder_state
from entrypoints.http.api import service
from entrypoints.http.link_pages import SNOOZE_CHOICES
from entrypoints.web import pages_reminder_form, paging, reminder_form
from entrypoints.web.actions import local_path, read, run, see_other
from entrypoints.web.forms import form, text
from entrypoints.web.owned import mine, own_reminder
from entrypoints.web.pages import page
from entrypoints.web.pages_reminder_form import PREVIEW_COUNT, detail, members
from entrypoints.web.rendering import render
from entrypoints.web.viewer import viewer

LIST: Final = "/app/reminders"
PER_PAGE: Final = 50
DELIVERIES_PER_PAGE: Final = 20
STATES: Final = (("", "All"), ("active", "Active"), ("paused", "Paused"), ("ended", "Ended"))
_MAX_SEARCH: Final = 200


@page
async def list_reminders(request: Request) -> Response:
    query = request.query_params
    state = query.get("status", "")
    state = state if state in ("active", "paused", "ended") else ""
    channels = sorted(service(request).channels)
    channel = query.get("channel", "")
    channel = channel if channel in channels else ""
    search = query.get("q", "").strip()[:_MAX_SEARCH]
    found = await read(
        request,
        web_lists.my_reminders,
        now=service(request).clock.now(),
        limit=PER_PAGE,
        offset=paging.offset(request, PER_PAGE),
        state=state or None,
        channel=channel or None,
        text=search or None,
    )
    return render(
        request,
        "reminders/list.html",
        rows=found.items,
        paging=paging.paging(request, found),
        states=STATES,
        state=state,
        channels=[("", "All"), *((name, name) for name in channels)],
        channel=channel,
        search=search,
        filtered=bool(state or channel or search),
        here=paging.here(request),
    )


@page
async def show_reminder(request: Request) -> Response:
    reminder = await own_reminder(request)
    now = service(request).clock.now()
    occurrences = await read(
        request, previews.reminder_occurrences, reminder.id, after=now, count=PREVIEW_COUNT
    )
    deliveries = await read(
        request,
        web_lists.delivery_rows,
        limit=DELIVERIES_PER_PAGE,
        offset=paging.offset(request, DELIVERIES_PER_PAGE),
        reminder_id=reminder.id,
    )
    reached = {occurrence.recipient_id for occurrence in occurrences if occurrence.recipient_id}
    people = await members(request, {*reminder.recipients.user_ids, *reached})
    return render(
        request,
        "reminders/detail.html",
        reminder=reminder,
        state=reminder_state(reminder, now),
        target=redact(reminder.target) if reminder.target else None,
        weekdays=dict(reminder_form.WEEKDAYS),
        frequencies=dict(reminder_form.FREQUENCIES),
        names={person.id: person.name for person in people.people},
        occurrences=occurrences,
        preview_problems={},
        snooze_choices=SNOOZE_CHOICES,
        deliveries=deliveries.items,
        paging=paging.paging(request, deliveries),
        here=paging.here(request),
    )


async def _switch(request: Request, *, active: bool) -> Response:
    data = await form(request)
    reminder_id = request.path_params["reminder_id"]
    command = UpdateReminder(
        actor=viewer(request).actor, reminder_id=reminder_id, changes=ReminderPatch(active=active)
    )
    await mine(run(request, command))
    return see_other(local_path(text(data, "next"), detail(reminder_id)), "resumed" if active else "paused")


@page
async def pause_reminder(request: Request) -> Response:
    return await _switch(request, active=False)


@page
async def resume_reminder(request: Request) -> Response:
    return await _switch(request, active=True)


@page
async def send_now(request: Request) -> Response:
    await form(request)
    reminder_id = request.path_params["reminder_id"]
    command = SendReminderNow(actor=viewer(request).actor, reminder_id=reminder_id)
    await mine(run(request, command, send=True))
    return see_other(detail(reminder_id), "sent")


@page
async def confirm_delete(request: Request) -> Response:
    """Deleting cannot be undone, and takes the reminder's history with it: one more question."""
    return render(request, "reminders/delete.html", reminder=await own_reminder(request))


@page
async def delete_reminder(request: Request) -> Response:
    await form(request)
    command = DeleteReminder(actor=viewer(request).actor, reminder_id=request.path_params["reminder_id"])
    await mine(run(request, command))
    return see_other(LIST, "deleted")


ROUTES = [
    Route("/reminders", list_reminders, methods=["GET"]),
    *pages_reminder_form.ROUTES,
    Route("/reminders/{reminder_id}", show_reminder, methods=["GET"]),
    Route("/reminders/{reminder_id}/pause", pause_reminder, methods=["POST"]),
    Route("/reminders/{reminder_id}/resume", resume_reminder, methods=["POST"]),
    Route("/reminders/{reminder_id}/send", send_now, methods=["POST"]),
    Route("/reminders/{reminder_id}/delete", confirm_delete, methods=["GET"]),
    Route("/reminders/{reminder_id}/delete", delete_reminder, methods=["POST"]),
]
