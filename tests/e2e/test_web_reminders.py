"""A person's reminders and deliveries through the web app, as a browser without JavaScript uses them:
the list and its filters, the form with its preview, editing, the one-click actions, and answers to
deliveries; and that another person's things read as not found and stay as they were."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import httpx2
import pytest
from starlette.testclient import TestClient

from adapters.prometheus_metrics import PrometheusMetrics
from application import views
from application.channels import PermanentChannelError
from application.commands import (
    CheckDueReminders,
    CreateReminder,
    CreateUser,
    ReminderPatch,
    SendReminderNow,
    UpdateReminder,
)
from domain.audience import MAX_RECIPIENTS
from domain.delivery import Delivery, DeliveryKind, DeliveryStatus
from domain.reminder import Reminder
from entrypoints.bootstrap import Service
from entrypoints.settings import ServeSettings
from entrypoints.web import pages_reminder_form
from entrypoints.web.reminder_form import ReminderForm
from tests.e2e.teams import Person, add_person, admin_of, issue_key
from tests.e2e.web_helpers import browser, csrf_of, sign_in
from tests.fakes import FixedClock, RecordingChannel, new_team, run_queue, team_of
from tests.stores import StoreUnderTest

# The fixed clock starts on Monday 2026-01-05 at 08:00 UTC; nothing runs in the background.
SETTINGS = ServeSettings(scheduler_enabled=False, delivery_enabled=False)
NEW = "/app/reminders/new"


@pytest.fixture
def admin(service: Service) -> Person:
    return admin_of(team_of(service))


@pytest.fixture
def mia(service: Service, admin: Person) -> Person:
    """A member in Berlin, signed in in most tests."""
    user = service.bus.handle(
        CreateUser(actor=admin.actor, name="Mia", email="mia@example.com", timezone="Europe/Berlin")
    )
    issued = issue_key(service, admin, user.id)
    return Person(user.id, user.team_id, user.role, issued.plain, issued.key.id)


@pytest.fixture
def otto(service: Service, admin: Person) -> Person:
    return add_person(service, admin, "Otto", "otto@example.com")


@pytest.fixture
def web(service: Service, metrics: PrometheusMetrics, store: StoreUnderTest) -> Iterator[TestClient]:
    """A browser, not signed in yet."""
    with browser(service, metrics, store, SETTINGS) as client:
        yield client


def remind(service: Service, person: Person, title: str = "Stand-up", **fields: object) -> Reminder:
    values: dict[str, object] = {
        "message": "Join the call",
        "channel": "recording",
        "time_of_day": "09:00",
        "frequency": "daily",
        **fields,
    }
    reminder: Reminder = service.bus.handle(CreateReminder(actor=person.actor, title=title, **values))
    return reminder


def reminder_of(service: Service, admin: Person, reminder_id: str) -> Reminder:
    return views.get_reminder(service.uow_factory, admin.actor, reminder_id)


def deliveries_of(service: Service, admin: Person, reminder_id: str) -> list[Delivery]:
    page = views.list_deliveries(
        service.uow_factory, admin.actor, limit=100, offset=0, reminder_id=reminder_id
    )
    return page.items


def post(
    client: TestClient, path: str, fields: dict[str, str | list[str]], *, from_page: str = NEW
) -> httpx2.Response:
    """Post as a form of `from_page` would, with that page's form token."""
    token = csrf_of(client.get(from_page).text)
    return client.post(path, data={**fields, "csrf_token": token}, follow_redirects=False)


def form_of(html: str, action: str) -> dict[str, str | list[str]]:
    """What a browser sends for the form posting to `action`, as the page filled it."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no form posts to {action}"
    fields: dict[str, str | list[str]] = {}
    for name, value in reader.fields:
        if name in fields:
            before = fields[name]
            fields[name] = [*before, value] if isinstance(before, list) else [before, value]
        else:
            fields[name] = value
    return fields


class _FormReader(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.found, self.inside = action, False, False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        if tag == "form":
            self.inside = given.get("action") == self.action
            self.found = self.found or self.inside
        if not self.inside:
            return
        name = given.get("name") or ""
        if tag == "input" and given.get("type") not in ("submit", "button"):
            if given.get("type") in ("checkbox", "radio") and "checked" not in given:
                return
            self.fields.append((name, given.get("value") or ""))
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((given.get("value") or "", "selected" in given))
        elif tag == "textarea":
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected] or [self._options[0][0]]
            self.fields.append((self._select, chosen[0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, _as_a_browser_posts(self._text)))
            self._textarea = None


def _as_a_browser_posts(text: str) -> str:
    """A textarea's text as a browser sends it: the parser drops a newline right after the opening
    tag, and a post writes every line break as CR LF."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.removeprefix("\n").replace("\n", "\r\n")


def new_fields(**changes: str | list[str]) -> dict[str, str | list[str]]:
    fields: dict[str, str | list[str]] = {
        "title": "Stand-up",
        "message": "Join the call",
        "channel": "recording",
        "target": "",
        "frequency": "weekly",
        "date": "",
        "time_of_day": "09:30",
        "weekdays": ["0", "2"],
        "timezone": "Europe/Berlin",
        "rrule": "",
        "cron": "",
        "starts_on": "",
        "ends_on": "",
        "recipients_choice": "owner",
        "active": "yes",
        "action": "save",
    }
    return {**fields, **changes}


def problem(html: str, field: str) -> str:
    found = re.search(rf'<p class="problem" id="{field}-problem">([^<]*)</p>', html)
    assert found is not None, f"no message beside {field}"
    return unescape(found.group(1))


def h1(html: str) -> str:
    found = re.search(r"<h1>([^<]*)</h1>", html)
    assert found is not None
    return unescape(found.group(1))


def titles(html: str) -> list[str]:
    return [
        unescape(title) for title in re.findall(r'<td data-label="Title"><a href="[^"]+">([^<]*)</a>', html)
    ]


def previews(html: str) -> list[str]:
    found = re.search(r'<ol class="previews">(.*?)</ol>', html, re.DOTALL)
    assert found is not None, "no previews"
    return [
        unescape(" ".join(item.split())) for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.DOTALL)
    ]


def mine(service: Service, person: Person) -> list[Reminder]:
    return views.list_reminders_of(service.uow_factory, person.actor, person.id, limit=500, offset=0).items


# The list


def test_the_list_shows_my_own_reminders_only(
    web: TestClient, service: Service, admin: Person, mia: Person, otto: Person
) -> None:
    remind(service, mia, "Mia's stand-up")
    remind(service, otto, "Otto's stand-up")
    remind(service, admin, "The admin's own")
    sign_in(web, mia.key)
    page = web.get("/app/reminders")
    assert page.status_code == 200
    assert h1(page.text) == "My reminders"
    assert "<caption>My reminders</caption>" in page.text
    assert titles(page.text) == ["Mia's stand-up"]
    # The next slot is in Mia's own time, the zone named.
    assert "Tue 6 Jan 2026, 09:00 CET" in page.text
    assert ">Pause<span" in page.text


def test_with_no_reminders_the_list_says_so_and_leads_to_the_form(web: TestClient, mia: Person) -> None:
    sign_in(web, mia.key)
    page = web.get("/app/reminders")
    assert "You have no reminders yet" in page.text
    assert '<a href="/app/reminders/new">New reminder</a>' in page.text


def test_the_list_filters_by_state_channel_and_words(
    web: TestClient, service: Service, clock: FixedClock, mia: Person
) -> None:
    remind(service, mia, "Stand-up", message="Daily call")
    lunch = remind(service, mia, "Lunch", channel="log", message="Eat something")
    once = remind(service, mia, "Dentist", frequency="once", date="2026-01-06", message="Teeth")
    for reminder in (lunch, once):
        changes = ReminderPatch(active=False)
        service.bus.handle(UpdateReminder(actor=mia.actor, reminder_id=reminder.id, changes=changes))
    clock.advance(days=2)  # the dentist's one slot has gone: it ended, where the lunch is only paused
    sign_in(web, mia.key)

    assert titles(web.get("/app/reminders").text) == ["Stand-up", "Lunch", "Dentist"]
    assert titles(web.get("/app/reminders?status=active").text) == ["Stand-up"]
    assert titles(web.get("/app/reminders?status=paused").text) == ["Lunch"]
    ended = web.get("/app/reminders?status=ended").text
    assert titles(ended) == ["Dentist"]
    assert '<span class="status status-ended">Ended</span>' in ended
    assert "Resume" not in ended  # an ended series has nothing to resume
    assert titles(web.get("/app/reminders?channel=log").text) == ["Lunch"]
    assert titles(web.get("/app/reminders?q=STAND").text) == ["Stand-up"]
    assert titles(web.get("/app/reminders?q=teeth").text) == ["Dentist"]
    assert titles(web.get("/app/reminders?q=teeth&status=paused").text) == []
    assert "No reminder matches these filters" in web.get("/app/reminders?q=nothing").text


def test_a_state_filter_pages_through_every_match(web: TestClient, service: Service, mia: Person) -> None:
    for number in range(110):
        reminder = remind(service, mia, f"R{number:03}")
        if number % 2:
            changes = ReminderPatch(active=False)
            service.bus.handle(UpdateReminder(actor=mia.actor, reminder_id=reminder.id, changes=changes))
    sign_in(web, mia.key)
    first = web.get("/app/reminders?status=paused")
    assert titles(first.text) == [f"R{number:03}" for number in range(1, 100, 2)]
    assert "1\N{EN DASH}50 of 55" in first.text
    next_page = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first.text)
    assert next_page is not None
    assert unescape(next_page.group(1)) == "/app/reminders?status=paused&page=2"
    second = web.get(unescape(next_page.group(1)))
    assert titles(second.text) == [f"R{number:03}" for number in range(101, 110, 2)]
    assert 'rel="next"' not in second.text
    assert 'href="/app/reminders?status=paused" rel="prev"' in second.text


def test_pause_and_resume_in_one_click_each(
    web: TestClient, service: Service, admin: Person, mia: Person
) -> None:
    reminder = remind(service, mia)
    sign_in(web, mia.key)
    here = "/app/reminders?q=stand"
    paused = post(web, f"/app/reminders/{reminder.id}/pause", {"next": here}, from_page=here)
    assert paused.status_code == 303
    assert paused.headers["location"] == "/app/reminders?q=stand&notice=paused"
    assert not reminder_of(service, admin, reminder.id).active
    page = web.get(paused.headers["location"])
    assert "Reminder paused." in page.text
    assert '<span class="status status-paused">Paused</span>' in page.text
    resumed = post(
        web, f"/app/reminders/{reminder.id}/resume", {"next": "https://evil.example/"}, from_page=here
    )
    assert resumed.headers["location"] == f"/app/reminders/{reminder.id}?notice=resumed"
    assert reminder_of(service, admin, reminder.id).active


# Creating


def test_a_valid_reminder_is_created_and_shown(web: TestClient, service: Service, mia: Person) -> None:
    sign_in(web, mia.key)
    form = web.get(NEW)
    assert h1(form.text) == "New reminder"
    assert 'data-reminder-form data-preview-url="/app/preview"' in form.text
    assert '<option value="Europe/Berlin" selected>' in form.text  # the viewer's own zone
    # A date left in the hidden block of a weekly reminder is not sent, so nothing refuses it.
    answer = post(web, NEW, new_fields(date="not a date"))
    assert answer.status_code == 303, answer.text
    [reminder] = mine(service, mia)
    assert answer.headers["location"] == f"/app/reminders/{reminder.id}?notice=created"
    assert reminder.schedule.weekdays == (0, 2)
    assert reminder.schedule.timezone == "Europe/Berlin"
    assert reminder.schedule.date is None
    page = web.get(answer.headers["location"])
    assert h1(page.text) == "Stand-up"
    assert "Reminder created." in page.text
    assert "Monday, Wednesday" in page.text
    assert previews(page.text)[0] == "Mon 5 Jan 2026, 09:30 CET"
    assert titles(web.get("/app/reminders").text) == ["Stand-up"]


def test_recipients_and_their_own_local_time_are_taken(
    web: TestClient, service: Service, mia: Person, otto: Person
) -> None:
    sign_in(web, mia.key)
    form = web.get(NEW).text
    assert re.search(
        r'name="recipient_ids" value="[0-9a-f]+">\s*<label for="recipient-\d+">Otto</label>', form
    )
    assert "more than 500 members" not in form  # the whole team is listed
    fields = new_fields(
        channel="log", recipients_choice="users", recipient_ids=[otto.id, mia.id], local_time="recipient"
    )
    assert post(web, NEW, fields).status_code == 303
    [reminder] = mine(service, mia)
    assert reminder.recipients.user_ids == (otto.id, mia.id)
    assert reminder.local_time == "recipient"
    page = web.get(f"/app/reminders/{reminder.id}").text
    assert "<dd>Otto, Mia, each at their own local time</dd>" in page
    # Otto's zone is UTC: his 09:30 is Mia's 10:30, and each slot names whose it is.
    assert previews(page)[:2] == ["Mon 5 Jan 2026, 09:30 CET, for Mia", "Mon 5 Jan 2026, 10:30 CET, for Otto"]
    assert post(web, NEW, new_fields(title="All", recipients_choice="team")).status_code == 303
    assert [r.recipients.kind for r in mine(service, mia)] == ["users", "team"]


def test_an_invalid_reminder_is_refused_beside_its_fields_and_nothing_is_created(
    web: TestClient, service: Service, mia: Person
) -> None:
    sign_in(web, mia.key)
    answer = post(web, NEW, new_fields(title="", time_of_day="25:00", message="Kept as typed"))
    assert answer.status_code == 400
    assert problem(answer.text, "title") == "title must not be empty"
    assert "HH:MM" in problem(answer.text, "time_of_day")
    assert 'aria-invalid="true" aria-describedby="title-hint title-problem"' in answer.text
    assert 'role="alert"' in answer.text
    assert ">\nKept as typed</textarea>" in answer.text
    assert mine(service, mia) == []
    # A rule of the domain speaks too, in the API's words.
    weekly = post(web, NEW, new_fields(weekdays=[]))
    assert weekly.status_code == 400
    assert problem(weekly.text, "weekdays") == "a weekly schedule needs at least one weekday"
    some = post(web, NEW, new_fields(recipients_choice="users"))
    assert some.status_code == 400
    assert "recipients" in problem(some.text, "recipients")
    assert mine(service, mia) == []


def test_a_message_of_several_lines_is_taken_as_a_browser_posts_it(
    web: TestClient, service: Service, mia: Person
) -> None:
    sign_in(web, mia.key)
    answer = post(web, NEW, new_fields(message="First line\r\nSecond line\rThird"))
    assert answer.status_code == 303, answer.text
    [reminder] = mine(service, mia)
    assert reminder.message == "First line\nSecond line\nThird"


def test_a_form_without_its_token_creates_nothing(web: TestClient, service: Service, mia: Person) -> None:
    sign_in(web, mia.key)
    answer = web.post(NEW, data=new_fields(), follow_redirects=False)
    assert answer.status_code == 403
    assert h1(answer.text) == "Not allowed"
    assert web.post("/app/preview", data=new_fields(), follow_redirects=False).status_code == 403
    assert mine(service, mia) == []


# The preview


def test_the_preview_lists_the_next_five_in_the_viewers_zone(web: TestClient, mia: Person) -> None:
    sign_in(web, mia.key)
    fragment = post(web, "/app/preview", new_fields(frequency="daily", time_of_day="10:00", timezone="UTC"))
    assert fragment.status_code == 200
    assert "<html" not in fragment.text  # a fragment, not a page
    assert previews(fragment.text) == [
        "Mon 5 Jan 2026, 11:00 CET",
        "Tue 6 Jan 2026, 11:00 CET",
        "Wed 7 Jan 2026, 11:00 CET",
        "Thu 8 Jan 2026, 11:00 CET",
        "Fri 9 Jan 2026, 11:00 CET",
    ]


def test_a_preview_of_a_schedule_that_cannot_be_says_why(web: TestClient, mia: Person) -> None:
    sign_in(web, mia.key)
    fragment = post(web, "/app/preview", new_fields(frequency="rrule", rrule="FREQ=SOMETIMES"))
    assert fragment.status_code == 400
    assert '<ol class="previews">' not in fragment.text
    assert "FREQ" in fragment.text
    past = post(web, "/app/preview", new_fields(frequency="once", date="2025-01-01"))
    assert past.status_code == 400


def test_the_preview_button_works_without_script_and_saves_nothing(
    web: TestClient, service: Service, mia: Person
) -> None:
    sign_in(web, mia.key)
    answer = post(web, NEW, new_fields(action="preview", title="Not yet", weekdays=["4"]))
    assert answer.status_code == 200
    assert h1(answer.text) == "New reminder"
    assert previews(answer.text)[:2] == ["Fri 9 Jan 2026, 09:30 CET", "Fri 16 Jan 2026, 09:30 CET"]
    assert 'value="Not yet"' in answer.text
    assert mine(service, mia) == []


# Editing


def test_an_edit_sends_only_what_changed(
    web: TestClient, service: Service, admin: Person, mia: Person
) -> None:
    reminder = remind(service, mia, "Dentist", frequency="once", date="2026-03-02", time_of_day="10:15")
    sign_in(web, mia.key)
    edit = f"/app/reminders/{reminder.id}/edit"
    page = web.get(edit)
    assert h1(page.text) == "Edit reminder"
    fields = form_of(page.text, edit)
    assert fields["date"] == "2026-03-02"
    fields["title"] = "Dentist at ten"
    answer = post(web, edit, {**fields, "action": "save"}, from_page=edit)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/app/reminders/{reminder.id}?notice=saved"
    changed = reminder_of(service, admin, reminder.id)
    assert changed.title == "Dentist at ten"
    assert changed.schedule == reminder.schedule
    assert changed.schedule.date == date(2026, 3, 2)


def test_the_form_of_a_reminder_sends_only_the_fields_a_person_changed(service: Service, mia: Person) -> None:
    reminder = remind(service, mia, frequency="once", date="2026-03-02", time_of_day="10:15")
    current = ReminderForm.of(reminder)
    assert current.time_of_day == "10:15"
    assert current.changes_from(current).changes() == {}
    assert replace(current, title="New", time_of_day="10:15:00").changes_from(current).changes() == {
        "title": "New"
    }
    # The date of a once reminder is not sent once it is daily; weekdays are, as numbers, once weekly.
    daily = replace(current, frequency="daily", date="not a date")
    assert daily.changes_from(current).changes() == {"frequency": "daily"}
    weekly = replace(current, frequency="weekly", weekdays=("4", "1"))
    assert weekly.changes_from(current).changes() == {"frequency": "weekly", "weekdays": [4, 1]}
    # Members ticked under "Some members" count only when it is chosen.
    ticked = replace(current, recipient_ids=(mia.id,))
    assert ticked.changes_from(current).changes() == {}
    assert replace(ticked, recipients_choice="users").changes_from(current).changes() == {
        "recipients": [mia.id]
    }
    assert replace(current, ends_on="").changes_from(replace(current, ends_on="2026-05-01")).changes() == {
        "ends_on": None
    }


def test_an_edit_is_refused_in_the_apis_words_and_changes_nothing(
    web: TestClient, service: Service, admin: Person, mia: Person
) -> None:
    reminder = remind(service, mia)
    sign_in(web, mia.key)
    edit = f"/app/reminders/{reminder.id}/edit"
    fields = form_of(web.get(edit).text, edit)
    answer = post(
        web, edit, {**fields, "frequency": "weekly", "title": "Weekly now", "action": "save"}, from_page=edit
    )
    assert answer.status_code == 400
    assert problem(answer.text, "weekdays") == "weekdays are required when the frequency changes to weekly"
    assert 'value="Weekly now"' in answer.text
    assert reminder_of(service, admin, reminder.id).title == "Stand-up"


def test_a_target_is_shown_masked_and_kept_when_left_as_it_is(
    web: TestClient, service: Service, admin: Person, mia: Person, failing: RecordingChannel
) -> None:
    secret = "https://hooks.example.com/services/T000/B000/abcdefSECRET"
    failing.takes_target = True
    reminder = remind(service, mia, target=secret)
    sign_in(web, mia.key)
    edit = f"/app/reminders/{reminder.id}/edit"
    page = web.get(edit)
    assert "abcdefSECRET" not in page.text
    assert "abcdefSECRET" not in web.get(f"/app/reminders/{reminder.id}").text
    fields = form_of(page.text, edit)
    answer = post(web, edit, {**fields, "message": "New words", "action": "save"}, from_page=edit)
    assert answer.status_code == 303, answer.text
    assert reminder_of(service, admin, reminder.id).target == secret


def test_an_edit_of_the_title_leaves_a_message_of_several_lines_as_it_was(
    web: TestClient, service: Service, admin: Person, mia: Person
) -> None:
    message = "\nAgenda:\n- news\n- plans"  # through the API, its first line blank
    reminder = remind(service, mia, message=message)
    sign_in(web, mia.key)
    edit = f"/app/reminders/{reminder.id}/edit"
    fields = form_of(web.get(edit).text, edit)
    assert fields["message"] == message.replace("\n", "\r\n")
    answer = post(web, edit, {**fields, "title": "Weekly news", "action": "save"}, from_page=edit)
    assert answer.status_code == 303, answer.text
    changed = reminder_of(service, admin, reminder.id)
    assert (changed.title, changed.message) == ("Weekly news", message)


def test_a_form_opened_before_a_change_does_not_undo_it(
    web: TestClient, service: Service, admin: Person, mia: Person
) -> None:
    reminder = remind(service, mia)
    sign_in(web, mia.key)
    edit = f"/app/reminders/{reminder.id}/edit"
    opened = form_of(web.get(edit).text, edit)
    assert opened["active"] == "yes"
    # Paused meanwhile, through the API or another tab.
    changes = ReminderPatch(active=False)
    service.bus.handle(UpdateReminder(actor=mia.actor, reminder_id=reminder.id, changes=changes))

    answer = post(web, edit, {**opened, "title": "Stand-up at ten", "action": "save"}, from_page=edit)
    assert answer.status_code == 409
    assert h1(answer.text) == "Edit reminder"
    assert (
        "This reminder was changed since you opened it. Its current values are shown; make your change again."
        in unescape(answer.text)
    )
    shown = form_of(answer.text, edit)
    assert shown["title"] == "Stand-up"
    assert "active" not in shown  # paused, as it is now
    after = reminder_of(service, admin, reminder.id)
    assert (after.title, after.active) == ("Stand-up", False)

    # The form shown is of the reminder as it is now: the change made again is saved, and it stays paused.
    again = post(web, edit, {**shown, "title": "Stand-up at ten", "action": "save"}, from_page=edit)
    assert again.status_code == 303, again.text
    after = reminder_of(service, admin, reminder.id)
    assert (after.title, after.active) == ("Stand-up at ten", False)


def test_a_form_open_while_its_reminder_fires_still_saves(
    web: TestClient, service: Service, clock: FixedClock, admin: Person, mia: Person
) -> None:
    reminder = remind(service, mia, frequency="cron", cron="*/5 * * * *", time_of_day=None)
    sign_in(web, mia.key)
    edit = f"/app/reminders/{reminder.id}/edit"
    opened = form_of(web.get(edit).text, edit)
    for _ in range(2):  # the scheduler's own writes: not a change the person would undo
        clock.advance(minutes=6)
        service.bus.handle(CheckDueReminders(now=clock.now()))
    assert reminder_of(service, admin, reminder.id).version > reminder.version

    answer = post(web, edit, {**opened, "title": "Every five minutes", "action": "save"}, from_page=edit)
    assert answer.status_code == 303, answer.text
    assert reminder_of(service, admin, reminder.id).title == "Every five minutes"


def test_an_edit_form_that_does_not_say_its_version_changes_nothing(
    web: TestClient, service: Service, admin: Person, mia: Person
) -> None:
    reminder = remind(service, mia)
    sign_in(web, mia.key)
    edit = f"/app/reminders/{reminder.id}/edit"
    opened = form_of(web.get(edit).text, edit)
    for version in (None, "", "seven", "-1", "1.0", "0" * 31, "g" * 32):
        fields = {**opened, "title": "Taken", "action": "save"}
        if version is None:
            del fields["version"]
        else:
            fields["version"] = version
        answer = post(web, edit, fields, from_page=edit)
        assert answer.status_code == 400, version
        assert h1(answer.text) == "Edit reminder"
        assert "This form does not say what it was filled from." in answer.text
        assert form_of(answer.text, edit)["title"] == "Stand-up"
    assert reminder_of(service, admin, reminder.id).title == "Stand-up"


def test_a_recipient_past_the_members_listed_is_shown_and_kept(
    web: TestClient, service: Service, admin: Person, mia: Person
) -> None:
    for number in range(MAX_RECIPIENTS):
        service.bus.handle(
            CreateUser(actor=admin.actor, name=f"Member {number:03}", email=f"m{number}@example.com")
        )
    zoe = service.bus.handle(CreateUser(actor=admin.actor, name="Zoe", email="zoe@example.com"))
    reminder = remind(service, mia, channel="log", recipients=[zoe.id, mia.id])
    sign_in(web, mia.key)
    edit = f"/app/reminders/{reminder.id}/edit"
    page = web.get(edit).text
    assert "The team has more than 500 members" in page
    assert re.search(
        r'name="recipient_ids" value="[0-9a-f]+" checked>\s*<label for="recipient-\d+">Zoe</label>', page
    )
    answer = post(web, edit, {**form_of(page, edit), "title": "All hands", "action": "save"}, from_page=edit)
    assert answer.status_code == 303, answer.text
    assert reminder_of(service, admin, reminder.id).recipients.user_ids == (zoe.id, mia.id)
    assert "<dd>Zoe, Mia</dd>" in web.get(f"/app/reminders/{reminder.id}").text


# Another person's reminder


def test_another_persons_reminder_is_not_found_and_stays_as_it_was(
    web: TestClient, service: Service, admin: Person, mia: Person, otto: Person
) -> None:
    theirs = remind(service, otto, "Otto's")
    outsider = admin_of(new_team(service, "Other team", "admin@other.example"))
    far = remind(service, outsider, "Far away")
    sign_in(web, mia.key)
    for reminder in (theirs, far):
        for path in (
            f"/app/reminders/{reminder.id}",
            *(f"/app/reminders/{reminder.id}/{p}" for p in ("edit", "delete")),
        ):
            answer = web.get(path)
            assert answer.status_code == 404, path
            assert h1(answer.text) == "Not found"
        fields = {**new_fields(title="Taken over"), "action": "save"}
        for action in ("edit", "pause", "send", "delete"):
            answer = post(web, f"/app/reminders/{reminder.id}/{action}", fields, from_page="/app/reminders")
            assert answer.status_code == 404, action
    assert reminder_of(service, admin, theirs.id).title == "Otto's"
    assert reminder_of(service, admin, theirs.id).active
    assert deliveries_of(service, admin, theirs.id) == []


# The reminder's page and its actions


def test_send_now_adds_a_delivery_row_and_delete_goes_back_to_the_list(
    web: TestClient, service: Service, admin: Person, mia: Person
) -> None:
    reminder = remind(service, mia)
    sign_in(web, mia.key)
    detail = f"/app/reminders/{reminder.id}"
    page = web.get(detail)
    assert "<caption>Deliveries</caption>" not in page.text
    assert "Nothing has been sent yet." in page.text
    answer = post(web, f"{detail}/send", {}, from_page=detail)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{detail}?notice=sent"
    page = web.get(answer.headers["location"])
    assert "<caption>Deliveries</caption>" in page.text
    assert '<span class="status status-pending">pending</span>' in page.text
    assert '<td data-label="Recipient">Mia</td>' in page.text
    assert len(deliveries_of(service, admin, reminder.id)) == 1
    assert f'href="{detail}/delete"' in page.text  # a question first, not a button that deletes
    confirm = web.get(f"{detail}/delete")
    assert h1(confirm.text) == f"Delete “{reminder.title}”?"
    assert len(deliveries_of(service, admin, reminder.id)) == 1  # asking changed nothing
    deleted = post(web, f"{detail}/delete", {}, from_page=f"{detail}/delete")
    assert deleted.headers["location"] == "/app/reminders?notice=deleted"
    assert mine(service, mia) == []
    assert web.get(detail).status_code == 404


def test_an_ended_reminder_says_how_to_start_it_again(
    web: TestClient, service: Service, clock: FixedClock, admin: Person, mia: Person
) -> None:
    reminder = remind(service, mia, "Dentist", frequency="once", date="2026-01-06")
    changes = ReminderPatch(active=False)
    service.bus.handle(UpdateReminder(actor=mia.actor, reminder_id=reminder.id, changes=changes))
    clock.advance(days=2)
    sign_in(web, mia.key)
    detail = f"/app/reminders/{reminder.id}"
    page = unescape(" ".join(web.get(detail).text.split()))
    assert (
        "(no occurrence to come: to start it again, edit it, give it a schedule with an occurrence to come, "
        "and tick “Active”)"
    ) in page
    # As it says: a schedule with an occurrence to come is not enough; ticking Active starts it.
    edit = f"{detail}/edit"
    fields = {**form_of(web.get(edit).text, edit), "date": "2026-01-20", "action": "save"}
    assert post(web, edit, fields, from_page=edit).status_code == 303
    assert not reminder_of(service, admin, reminder.id).active
    fields = {**form_of(web.get(edit).text, edit), "active": "yes", "action": "save"}
    assert post(web, edit, fields, from_page=edit).status_code == 303
    assert reminder_of(service, admin, reminder.id).active


# Deliveries


@pytest.fixture
def failing(service: Service) -> RecordingChannel:
    channel = service.channels["recording"]
    assert isinstance(channel, RecordingChannel)
    return channel


def sent_now(service: Service, person: Person, reminder: Reminder) -> Delivery:
    service.bus.handle(SendReminderNow(actor=person.actor, reminder_id=reminder.id))
    [delivery] = [d for d in run_queue(service) if d.reminder_id == reminder.id]
    return delivery


def test_my_deliveries_offer_only_what_each_allows_and_each_answer_works(
    web: TestClient, service: Service, admin: Person, mia: Person, failing: RecordingChannel
) -> None:
    reminder = remind(service, mia)
    failing.failures = [PermanentChannelError("mailbox does not exist")]
    failed = sent_now(service, mia, reminder)
    assert failed.status is DeliveryStatus.FAILED
    sign_in(web, mia.key)
    page = web.get("/app/deliveries")
    assert h1(page.text) == "My deliveries"
    assert "<caption>My deliveries</caption>" in page.text
    assert "mailbox does not exist" in page.text
    for button in ("Retry", "Snooze", "Acknowledge"):
        assert f">{button}<span" in page.text
    assert '<label for="minutes-' in page.text
    assert ">1 hour</option>" in page.text

    retried = post(
        web, f"/app/deliveries/{failed.id}/retry", {"next": "/app/deliveries"}, from_page="/app/deliveries"
    )
    assert retried.status_code == 303
    assert retried.headers["location"] == "/app/deliveries?notice=retried"
    assert views.get_delivery(service.uow_factory, admin.actor, failed.id).status is DeliveryStatus.PENDING
    page = web.get("/app/deliveries")
    # Pending again: nothing to retry, nothing to snooze yet.
    assert f"/app/deliveries/{failed.id}/retry" not in page.text
    assert f"/app/deliveries/{failed.id}/snooze" not in page.text

    run_queue(service)
    detail = f"/app/reminders/{reminder.id}"
    snoozed = post(
        web, f"/app/deliveries/{failed.id}/snooze", {"minutes": "30", "next": detail}, from_page=detail
    )
    assert snoozed.headers["location"] == f"{detail}?notice=snoozed"
    kinds = [d.kind for d in deliveries_of(service, admin, reminder.id)]
    assert DeliveryKind.SNOOZE in kinds
    acked = post(web, f"/app/deliveries/{failed.id}/ack", {"next": detail}, from_page=detail)
    assert acked.headers["location"] == f"{detail}?notice=acknowledged"
    assert views.get_delivery(service.uow_factory, admin.actor, failed.id).acknowledged_at is not None
    answered = web.get(detail).text
    assert f"/app/deliveries/{failed.id}/ack" not in answered  # acknowledging again changes nothing
    assert f"/app/deliveries/{failed.id}/snooze" in answered


def test_a_snooze_for_a_time_not_offered_is_refused(web: TestClient, service: Service, mia: Person) -> None:
    delivery = sent_now(service, mia, remind(service, mia))
    sign_in(web, mia.key)
    answer = post(web, f"/app/deliveries/{delivery.id}/snooze", {"minutes": "7"}, from_page="/app/deliveries")
    assert answer.status_code == 400


def test_nobody_answers_another_persons_delivery(
    web: TestClient, service: Service, admin: Person, mia: Person, otto: Person, failing: RecordingChannel
) -> None:
    failing.failures = [PermanentChannelError("refused")]
    theirs = sent_now(service, otto, remind(service, otto, "Otto's"))
    sign_in(web, mia.key)
    assert "Otto&#39;s" not in web.get("/app/deliveries").text
    for action in ("retry", "snooze", "ack"):
        answer = post(
            web, f"/app/deliveries/{theirs.id}/{action}", {"minutes": "10"}, from_page="/app/deliveries"
        )
        assert answer.status_code == 404, action
        assert h1(answer.text) == "Not found"
    after = views.get_delivery(service.uow_factory, admin.actor, theirs.id)
    assert after.status is DeliveryStatus.FAILED
    assert after.acknowledged_at is None
    assert len(deliveries_of(service, admin, theirs.reminder_id)) == 1


def test_the_deliveries_filter_by_status(
    web: TestClient, service: Service, mia: Person, failing: RecordingChannel
) -> None:
    failing.failures = [PermanentChannelError("refused")]
    sent_now(service, mia, remind(service, mia, "Fails"))
    sent_now(service, mia, remind(service, mia, "Works"))
    sign_in(web, mia.key)
    failed = web.get("/app/deliveries?status=failed").text
    assert ">Fails</a>" in failed
    assert ">Works</a>" not in failed
    sent = web.get("/app/deliveries?status=sent").text
    assert ">Works</a>" in sent
    assert ">Fails</a>" not in sent
    assert "No delivery is missed" in web.get("/app/deliveries?status=missed").text


def reminders_in(html: str) -> list[str]:
    cells = re.findall(r'<td data-label="Reminder">\s*(?:<a href="[^"]+">)?([^<]*)', html)
    return [unescape(cell.strip()) for cell in cells]


def test_my_deliveries_are_the_viewers_own_for_an_admin_too(
    web: TestClient, service: Service, clock: FixedClock, admin: Person, mia: Person, otto: Person
) -> None:
    later = {"frequency": "once", "date": "2026-06-01"}
    for person, title in ((mia, "Mia alone"), (admin, "Admin alone")):
        reminder = remind(service, person, title, **later)
        service.bus.handle(SendReminderNow(actor=person.actor, reminder_id=reminder.id))
    remind(service, mia, "For the team", channel="log", recipients="team")
    service.bus.handle(CheckDueReminders(now=clock.advance(days=1)))  # one for each member
    run_queue(service)
    sign_in(web, admin.key)
    page = web.get("/app/deliveries").text
    # The admin's own reminder's, and the one the team's reminder sent the admin; not Mia's or Otto's.
    assert sorted(reminders_in(page)) == ["Admin alone", "For the team"]
    assert "The deliveries of your reminders and those sent to you" in page
    sign_in(web, otto.key)
    assert reminders_in(web.get("/app/deliveries").text) == ["For the team"]


# The pages' code


def test_the_pages_take_time_zone_names_from_its_home_module() -> None:
    folder = Path(pages_reminder_form.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and any(a.name == "time_zone_names" for a in node.names):
                assert node.module == "domain.time_zones", path.name
