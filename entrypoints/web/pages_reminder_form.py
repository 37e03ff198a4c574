"""The form that creates or changes a reminder, with its preview of the next five occurrences: on the
form's page, rendered by the service (the "Preview" button works without script), and as a fragment
the page's script asks for while a person types.

The edit form carries a fingerprint of what it showed: a save made after someone else changed one of
those fields (paused the reminder, say) would put back what the form showed, so it is refused and the
form shows the reminder as it is now. The scheduler's own writes (each firing) change none of them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application import previews, web_lists
from application.commands import CreateReminder, UpdateReminder
from application.previews import Occurrence
from domain.audience import MAX_RECIPIENTS
from domain.errors import InvalidInput
from domain.reminder import Reminder
from domain.time_zones import time_zone_names
from entrypoints.http.api import service
from entrypoints.web import reminder_form
from entrypoints.web.actions import read, run, see_other
from entrypoints.web.forms import WHOLE, Problems, form, problems, text
from entrypoints.web.owned import mine, own_reminder
from entrypoints.web.pages import page
from entrypoints.web.reminder_form import ReminderForm
from entrypoints.web.rendering import HEADERS, render
from entrypoints.web.viewer import maybe_viewer, viewer

PREVIEW_COUNT: Final = 5
CHANGED_SINCE: Final = (
    "This reminder was changed since you opened it. Its current values are shown; make your change again."
)
NO_VERSION: Final = (
    "This form does not say what it was filled from. Its current values are shown; make your change again."
)


def detail(reminder_id: str) -> str:
    return f"/app/reminders/{reminder_id}"


async def members(request: Request, chosen: Collection[str]) -> web_lists.Members:
    """The team's people a reminder may reach, by name, those `chosen` always among them."""
    found: web_lists.Members = await read(request, web_lists.members, chosen, limit=MAX_RECIPIENTS)
    return found


async def _preview(request: Request, values: ReminderForm) -> tuple[list[Occurrence], Problems]:
    """The next occurrences of the schedule the form describes, or why there are none."""
    now = service(request).clock.now()
    try:
        occurrences = await read(
            request,
            previews.schedule_preview,
            values.new_schedule(),
            after=now,
            count=PREVIEW_COUNT,
            now=now,
        )
    except (ValidationError, InvalidInput) as error:
        return [], reminder_form.on_page(problems(error))
    return occurrences, {}


async def _form_page(
    request: Request,
    values: ReminderForm,
    *,
    reminder: Reminder | None = None,
    status: int = 200,
    refused: Problems | None = None,
) -> Response:
    chosen = set(values.recipient_ids)
    people = await members(request, chosen)
    occurrences, preview_problems = await _preview(request, values)
    zones = sorted(time_zone_names() | {values.timezone} - {""})
    return render(
        request,
        "reminders/form.html",
        status=status,
        reminder=reminder,
        values=values,
        problems=refused or {},
        channels=[(name, name) for name in sorted(service(request).channels)],
        zones=[(zone, zone) for zone in zones],
        frequencies=reminder_form.FREQUENCIES,
        weekdays=reminder_form.WEEKDAYS,
        recipient_choices=reminder_form.RECIPIENT_CHOICES,
        members=[person for person in people.people if person.active or person.id in chosen],
        members_cut=people.cut,
        max_members=MAX_RECIPIENTS,
        names={person.id: person.name for person in people.people},
        occurrences=occurrences,
        preview_problems=preview_problems,
    )


def _new_values(request: Request) -> ReminderForm:
    channels = service(request).channels
    channel = "log" if "log" in channels else next(iter(sorted(channels)), "")
    return ReminderForm(timezone=viewer(request).user.timezone, channel=channel)


@page
async def new_reminder(request: Request) -> Response:
    return await _form_page(request, _new_values(request))


@page
async def create_reminder(request: Request) -> Response:
    data = await form(request)
    values = ReminderForm.read(data)
    if text(data, "action") == "preview":
        return await _form_page(request, values)
    try:
        body = values.new_reminder()
        reminder = await run(request, CreateReminder(**dict(body), actor=viewer(request).actor))
    except (ValidationError, InvalidInput) as error:
        return await _form_page(request, values, status=400, refused=reminder_form.on_page(problems(error)))
    return see_other(detail(reminder.id), "created")


@page
async def edit_reminder(request: Request) -> Response:
    reminder = await own_reminder(request)
    return await _form_page(request, ReminderForm.of(reminder), reminder=reminder)


@page
async def save_reminder(request: Request) -> Response:
    data = await form(request)
    reminder = await own_reminder(request)
    values = ReminderForm.read(data)
    if text(data, "action") == "preview":
        return await _form_page(request, values, reminder=reminder)
    current = ReminderForm.of(reminder)
    if values.version != current.version:
        status, problem = (409, CHANGED_SINCE) if values.says_what_it_showed else (400, NO_VERSION)
        return await _form_page(
            request, current, reminder=reminder, status=status, refused={WHOLE: [problem]}
        )
    try:
        changes = values.changes_from(current)
        command = UpdateReminder(actor=viewer(request).actor, reminder_id=reminder.id, changes=changes)
        await mine(run(request, command))
    except (ValidationError, InvalidInput) as error:
        refused = reminder_form.on_page(problems(error))
        return await _form_page(request, values, reminder=reminder, status=400, refused=refused)
    return see_other(detail(reminder.id), "saved")


@page
async def preview(request: Request) -> Response:
    """The form's next occurrences as a fragment of HTML, for the form's live preview."""
    values = ReminderForm.read(await form(request))
    if maybe_viewer(request) is None:
        # Not the sign-in page in place of the preview: the script shows only a preview or problems.
        return Response("Sign in again to see the preview.", 401, HEADERS, media_type="text/plain")
    occurrences, found = await _preview(request, values)
    names: dict[str, str] = {}
    reached = {occurrence.recipient_id for occurrence in occurrences if occurrence.recipient_id}
    if reached:
        names = {person.id: person.name for person in (await members(request, reached)).people}
    return render(
        request,
        "reminders/_previews.html",
        status=400 if found else 200,
        occurrences=occurrences,
        preview_problems=found,
        names=names,
    )


# Before the reminder's own addresses: "new" is no reminder's id.
ROUTES = [
    Route("/reminders/new", new_reminder, methods=["GET"]),
    Route("/reminders/new", create_reminder, methods=["POST"]),
    Route("/reminders/{reminder_id}/edit", edit_reminder, methods=["GET"]),
    Route("/reminders/{reminder_id}/edit", save_reminder, methods=["POST"]),
    Route("/preview", preview, methods=["POST"]),
]
