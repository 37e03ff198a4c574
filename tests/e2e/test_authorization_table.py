"""Who may call what: every route of the API, called by everyone who might try.

One row per route (or per kind of change a route makes), one column per caller. The target
resources belong to `member`; `other` is another member of the same team; `outsider` is the admin
of another team. A cell's status is checked, and so is the state of both teams: a refused call
(and any read) leaves them exactly as they were, and an allowed change has its effect. A route
that has no row here fails `test_every_route_has_a_row`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from application import views
from application.channels import PermanentChannelError
from domain.roles import Role
from entrypoints.bootstrap import Service
from entrypoints.http.app import OPERATIONS
from entrypoints.http.routes_docs import DOCS
from tests.e2e.api_helpers import assert_error
from tests.e2e.teams import (
    MALFORMED,
    Person,
    add_person,
    add_reminder,
    admin_of,
    call,
    deactivate,
    issue_key,
    revoke_key,
    team_state,
)
from tests.fakes import RecordingChannel, new_team, team_of
from tests.stores import MakeStore, StoreUnderTest

# The callers of every row, in the order of a row's statuses.
MEMBER, OTHER, ADMIN, OUTSIDER = "member", "other", "admin", "outsider"
# Callers without a usable key: refused with 401 on every route but the public ones.
UNAUTHENTICATED = ("no key", "revoked key", "malformed header", "deactivated user's key")


@dataclass(frozen=True)
class World:
    admin: Person
    member: Person
    other: Person
    outsider: Person
    revoked_key: str
    deactivated_key: str
    reminder_id: str  # the member's
    delivery_id: str  # the member's reminder's, failed
    other_delivery_id: str  # the other member's reminder's, sent
    spare_key: str  # the member's second key
    spare_key_id: str

    def person(self, caller: str) -> Person:
        found: Person = getattr(self, caller)
        return found

    def ids(self) -> dict[str, str]:
        """What a row's path may name."""
        return {
            "member": self.member.id,
            "admin": self.admin.id,
            "reminder": self.reminder_id,
            "delivery": self.delivery_id,
            "spare key": self.spare_key_id,
        }


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    """On the two durable stores. The policy is the application's, the same on every store; the unit
    tests hold it on the memory store, and tests/e2e/test_team_isolation.py runs there too."""
    return make_store(request.param)


@pytest.fixture
def world(client: TestClient, service: Service, channel: RecordingChannel) -> World:
    admin = admin_of(team_of(service))
    member = add_person(service, admin, "Mia Member", "mia@example.com")
    other = add_person(service, admin, "Otto Other", "otto@example.com")
    outsider = admin_of(new_team(service, "Other team", "admin@other.example"))
    revoked = issue_key(service, admin, member.id, "old laptop")
    revoke_key(service, admin, revoked.key.id)
    former = add_person(service, admin, "Fay Former", "fay@example.com")
    deactivate(service, admin, former.id)
    spare = issue_key(service, admin, member.id, "phone")
    reminder = add_reminder(service, admin, member.id)
    channel.failures = [PermanentChannelError("mailbox is gone")]
    failed = client.post(f"/notifications/send/{reminder.id}")
    assert failed.status_code == 502, failed.text
    sent = client.post(f"/notifications/send/{add_reminder(service, admin, other.id, 'Review').id}")
    assert sent.status_code == 200, sent.text
    return World(
        admin=admin,
        member=member,
        other=other,
        outsider=outsider,
        revoked_key=revoked.plain,
        deactivated_key=former.key,
        reminder_id=reminder.id,
        delivery_id=failed.json()["details"]["delivery_id"],
        other_delivery_id=sent.json()["delivery_id"],
        spare_key=spare.plain,
        spare_key_id=spare.key.id,
    )


@dataclass(frozen=True)
class Cell:
    """An allowed call that was made, for a row's check of its effect."""

    client: TestClient
    service: Service
    world: World
    caller: Person
    response: httpx2.Response

    @property
    def body(self) -> Any:
        return self.response.json()

    def get(self, path: str) -> httpx2.Response:
        """A read as the caller's team admin."""
        team_admin = self.world.outsider if self.caller is self.world.outsider else self.world.admin
        return call(self.client, "GET", path, key=team_admin.key)


Effect = Callable[[Cell], None]


def no_effect(cell: Cell) -> None:
    """Nothing to check beyond the status and the unchanged state."""


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as documented in OPERATIONS
    statuses: tuple[int, int, int, int]  # member, other, admin, outsider
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> what it names (World.ids)
    body: Any = None
    effect: Effect = no_effect
    name: str = ""  # tells apart rows of one route

    def url(self, world: World) -> str:
        return self.path.format(**{param: world.ids()[what] for param, what in self.ids.items()})

    def status_for(self, caller: str) -> int:
        return self.statuses[(MEMBER, OTHER, ADMIN, OUTSIDER).index(caller)]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}" + (f" {self.name}" if self.name else "")


# Effects of the allowed calls.


def user_created_in_callers_team(cell: Cell) -> None:
    assert cell.body["team_id"] == cell.caller.team_id
    assert cell.get(f"/users/{cell.body['id']}").json()["email"] == "new.hire@example.com"


def lists_only_callers_team(cell: Cell) -> None:
    team = views.list_users(cell.service.uow_factory, cell.caller.actor, limit=100, offset=0)
    assert {user["id"] for user in cell.body["items"]} == {user.id for user in team.items}
    assert cell.body["total"] == team.total
    assert {user["team_id"] for user in cell.body["items"]} == {cell.caller.team_id}


def shows_member(cell: Cell) -> None:
    assert cell.body["id"] == cell.world.member.id


def member_renamed(cell: Cell) -> None:
    stored = cell.get(f"/users/{cell.world.member.id}").json()
    assert (stored["name"], stored["email"], stored["timezone"]) == (
        "Mia Renamed",
        "mia.renamed@example.com",
        "Europe/Paris",
    )


def member_promoted(cell: Cell) -> None:
    assert cell.get(f"/users/{cell.world.member.id}").json()["role"] == "admin"


def member_deactivated(cell: Cell) -> None:
    assert cell.get(f"/users/{cell.world.member.id}").json()["active"] is False
    assert call(cell.client, "GET", "/users/", key=cell.world.member.key).status_code == 401


def member_deleted(cell: Cell) -> None:
    assert cell.get(f"/users/{cell.world.member.id}").status_code == 404
    assert cell.get(f"/notifications/{cell.world.reminder_id}").status_code == 404
    assert call(cell.client, "GET", "/users/", key=cell.world.member.key).status_code == 401


def reminder_of_caller(cell: Cell) -> None:
    assert cell.body["owner_id"] == cell.caller.id
    assert cell.get(f"/notifications/{cell.body['id']}").json()["owner_id"] == cell.caller.id


def reminder_of_member(cell: Cell) -> None:
    assert cell.body["owner_id"] == cell.world.member.id
    assert cell.get(f"/notifications/{cell.body['id']}").status_code == 200


def shows_reminder(cell: Cell) -> None:
    assert cell.body["id"] == cell.world.reminder_id


def reminder_retitled(cell: Cell) -> None:
    assert cell.get(f"/notifications/{cell.world.reminder_id}").json()["title"] == "Moved"


def reminder_deleted(cell: Cell) -> None:
    assert cell.get(f"/notifications/{cell.world.reminder_id}").status_code == 404


def lists_members_reminders(cell: Cell) -> None:
    assert [reminder["id"] for reminder in cell.body["items"]] == [cell.world.reminder_id]


def sent_now(cell: Cell) -> None:
    assert (cell.body["reminder_id"], cell.body["status"]) == (cell.world.reminder_id, "sent")
    ledger = cell.get(f"/notifications/{cell.world.reminder_id}/deliveries").json()
    assert ledger["total"] == 2


def lists_reminders_deliveries(cell: Cell) -> None:
    assert [delivery["delivery_id"] for delivery in cell.body["items"]] == [cell.world.delivery_id]


def lists_callers_deliveries(cell: Cell) -> None:
    world = cell.world
    visible = {
        world.member.id: {world.delivery_id},
        world.other.id: {world.other_delivery_id},
        world.admin.id: {world.delivery_id, world.other_delivery_id},
        world.outsider.id: set(),
    }[cell.caller.id]
    assert {delivery["delivery_id"] for delivery in cell.body["items"]} == visible
    assert cell.body["total"] == len(visible)


def shows_delivery(cell: Cell) -> None:
    assert (cell.body["delivery_id"], cell.body["status"]) == (cell.world.delivery_id, "failed")


def delivery_retried(cell: Cell) -> None:
    assert (cell.body["delivery_id"], cell.body["status"]) == (cell.world.delivery_id, "sent")
    assert cell.get(f"/deliveries/{cell.world.delivery_id}").json()["status"] == "sent"


def delivery_snoozed(cell: Cell) -> None:
    assert (cell.body["kind"], cell.body["parent_delivery_id"]) == ("snooze", cell.world.delivery_id)
    assert cell.get(f"/deliveries/{cell.body['delivery_id']}").json()["status"] == "pending"


def delivery_acknowledged(cell: Cell) -> None:
    assert cell.body["acknowledged_by"] == cell.caller.id
    assert cell.get(f"/deliveries/{cell.world.delivery_id}").json()["acknowledged_by"] == cell.caller.id


def lists_reminders_slots(cell: Cell) -> None:
    assert len(cell.body["items"]) == 10
    assert {item["reason"] for item in cell.body["items"]} == {None}


def previews_slots(cell: Cell) -> None:
    assert [item["scheduled_for"] for item in cell.body["items"]][:1] == ["2026-01-06T07:00:00+00:00"]


def key_issued_and_working(cell: Cell) -> None:
    assert cell.body["user_id"] == cell.world.member.id
    assert call(cell.client, "GET", "/users/", key=cell.body["key"]).status_code == 200


def lists_members_keys(cell: Cell) -> None:
    listed = {key["id"] for key in cell.body["items"]}
    assert cell.world.spare_key_id in listed
    assert cell.world.member.key_id in listed
    assert all("key" not in key for key in cell.body["items"])


def spare_key_revoked(cell: Cell) -> None:
    assert call(cell.client, "GET", "/users/", key=cell.world.spare_key).status_code == 401


def webhook_secret_rotated(cell: Cell) -> None:
    team = views.get_team(cell.service.uow_factory, cell.caller.actor)
    assert team is not None
    assert team.webhook_secret == cell.body["webhook_secret"]


def audit_of_callers_team(cell: Cell) -> None:
    assert cell.body["total"] > 0
    assert {entry["team_id"] for entry in cell.body["items"]} == {cell.caller.team_id}


NEW_USER = {"name": "New Hire", "email": "new.hire@example.com"}
NEW_REMINDER = {
    "title": "Lunch",
    "message": "Eat",
    "channel": "recording",
    "time_of_day": "12:00",
    "frequency": "daily",
}
PREVIEW = {"frequency": "daily", "time_of_day": "07:00", "timezone": "UTC"}
MEMBER_ID = {"user_id": "member"}
ADMIN_ID = {"user_id": "admin"}
REMINDER_ID = {"reminder_id": "reminder"}
DELIVERY_ID = {"delivery_id": "delivery"}

ROWS = [
    # users
    Row("POST", "/users/", (403, 403, 201, 201), body=NEW_USER, effect=user_created_in_callers_team),
    Row("GET", "/users/", (200, 200, 200, 200), effect=lists_only_callers_team),
    Row("GET", "/users/{user_id}", (200, 200, 200, 404), MEMBER_ID, effect=shows_member),
    Row("PATCH", "/users/{user_id}", (200, 403, 200, 404), MEMBER_ID, name="own name, email, time zone",
        body={"name": "Mia Renamed", "email": "mia.renamed@example.com", "timezone": "Europe/Paris"},
        effect=member_renamed),
    Row("PATCH", "/users/{user_id}", (403, 403, 200, 404), MEMBER_ID, name="role",
        body={"role": "admin"}, effect=member_promoted),
    Row("PATCH", "/users/{user_id}", (403, 403, 200, 404), MEMBER_ID, name="active",
        body={"active": False}, effect=member_deactivated),
    Row("PATCH", "/users/{user_id}", (403, 403, 409, 404), ADMIN_ID, name="last admin's role",
        body={"role": "member"}),
    Row("PATCH", "/users/{user_id}", (403, 403, 409, 404), ADMIN_ID, name="last admin's active",
        body={"active": False}),
    Row("DELETE", "/users/{user_id}", (403, 403, 204, 404), MEMBER_ID, effect=member_deleted),
    Row("DELETE", "/users/{user_id}", (403, 403, 409, 404), ADMIN_ID, name="last admin"),
    # reminders
    Row("POST", "/notifications/", (201, 201, 201, 201), name="for oneself",
        body=NEW_REMINDER, effect=reminder_of_caller),
    Row("POST", "/notifications/", (201, 403, 201, 404), name="for the member",
        body={**NEW_REMINDER, "owner_id": "{member}"}, effect=reminder_of_member),
    Row("GET", "/notifications/{reminder_id}", (200, 403, 200, 404), REMINDER_ID, effect=shows_reminder),
    Row("PATCH", "/notifications/{reminder_id}", (200, 403, 200, 404), REMINDER_ID,
        body={"title": "Moved"}, effect=reminder_retitled),
    Row("DELETE", "/notifications/{reminder_id}", (204, 403, 204, 404), REMINDER_ID, effect=reminder_deleted),
    Row("GET", "/notifications/user/{owner_id}/", (200, 403, 200, 404), {"owner_id": "member"},
        effect=lists_members_reminders),
    Row("POST", "/notifications/send/{reminder_id}", (200, 403, 200, 404), REMINDER_ID, effect=sent_now),
    Row("GET", "/notifications/{reminder_id}/deliveries", (200, 403, 200, 404), REMINDER_ID,
        effect=lists_reminders_deliveries),
    Row("GET", "/notifications/{reminder_id}/occurrences", (200, 403, 200, 404), REMINDER_ID,
        effect=lists_reminders_slots),
    # A preview saves nothing, but answers only whoever could create that reminder.
    Row("POST", "/schedules/preview", (200, 200, 200, 200), name="for oneself", body=PREVIEW,
        effect=previews_slots),
    Row("POST", "/schedules/preview", (200, 403, 200, 404), name="for the member",
        body={**PREVIEW, "owner_id": "{member}"}, effect=previews_slots),
    # deliveries
    Row("GET", "/deliveries/", (200, 200, 200, 200), effect=lists_callers_deliveries),
    Row("GET", "/deliveries/{delivery_id}", (200, 403, 200, 404), DELIVERY_ID, effect=shows_delivery),
    Row("POST", "/deliveries/{delivery_id}/retry", (200, 403, 200, 404), DELIVERY_ID,
        effect=delivery_retried),
    Row("POST", "/deliveries/{delivery_id}/snooze", (201, 403, 201, 404), DELIVERY_ID, body={"minutes": 10},
        effect=delivery_snoozed),
    Row("POST", "/deliveries/{delivery_id}/ack", (200, 403, 200, 404), DELIVERY_ID,
        effect=delivery_acknowledged),
    # keys, the team, the audit trail
    Row("POST", "/users/{user_id}/keys", (201, 403, 201, 404), MEMBER_ID, body={"name": "tablet"},
        effect=key_issued_and_working),
    Row("GET", "/users/{user_id}/keys", (200, 403, 200, 404), MEMBER_ID, effect=lists_members_keys),
    Row("DELETE", "/keys/{key_id}", (204, 403, 204, 404), {"key_id": "spare key"}, effect=spare_key_revoked),
    Row("POST", "/team/webhook-secret", (403, 403, 200, 200), effect=webhook_secret_rotated),
    Row("GET", "/audit", (403, 403, 200, 200), effect=audit_of_callers_team),
]  # fmt: skip
PUBLIC = ["/health", "/metrics", "/openapi.json", "/", DOCS]
ERROR_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}


def test_every_route_has_a_row() -> None:
    documented = {(op.method, op.path) for op in OPERATIONS if not op.public}
    assert {(row.method, row.path) for row in ROWS} == documented
    assert {op.path for op in OPERATIONS if op.public} | {DOCS} == set(PUBLIC)
    assert all(op.method == "GET" for op in OPERATIONS if op.public)


def cells() -> list[Any]:
    return [
        pytest.param(row, caller, id=f"{row.label} by {caller}")
        for row in ROWS
        for caller in (MEMBER, OTHER, ADMIN, OUTSIDER)
    ]


def fill(body: Any, world: World) -> Any:
    """The row's body with "{member}" replaced by the member's id."""
    if isinstance(body, dict):
        return {name: world.member.id if value == "{member}" else value for name, value in body.items()}
    return body


def both_teams(service: Service, world: World, channel: RecordingChannel) -> dict[str, Any]:
    return {
        "team": team_state(service, world.admin),
        "other team": team_state(service, world.outsider),
        "notifications tried": len(channel.tried),
    }


@pytest.mark.parametrize(("row", "caller"), cells())
def test_a_caller_gets_what_the_policy_says_and_changes_only_what_it_allows(
    client: TestClient,
    service: Service,
    channel: RecordingChannel,
    world: World,
    row: Row,
    caller: str,
) -> None:
    person = world.person(caller)
    before = both_teams(service, world, channel)

    response = call(client, row.method, row.url(world), key=person.key, json=fill(row.body, world))

    expected = row.status_for(caller)
    after = both_teams(service, world, channel)
    if expected >= 400:
        assert_error(response, expected, ERROR_CODES[expected])
        assert after == before
        return
    assert response.status_code == expected, response.text
    row.effect(Cell(client, service, world, person, response))
    if row.method == "GET":
        assert after == before
    elif person is world.outsider:
        assert after["team"] == before["team"]
    else:
        assert after["other team"] == before["other team"]


@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_without_a_usable_key_every_route_is_refused_with_a_bearer_challenge(
    client: TestClient, service: Service, channel: RecordingChannel, world: World, row: Row
) -> None:
    before = both_teams(service, world, channel)
    url, body = row.url(world), fill(row.body, world)
    answers = {
        "no key": call(client, row.method, url, key=None, json=body),
        "revoked key": call(client, row.method, url, key=world.revoked_key, json=body),
        "malformed header": call(client, row.method, url, key=None, authorization=MALFORMED, json=body),
        "deactivated user's key": call(client, row.method, url, key=world.deactivated_key, json=body),
    }

    assert set(answers) == set(UNAUTHENTICATED)
    for who, response in answers.items():
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer", who
    assert both_teams(service, world, channel) == before


@pytest.mark.parametrize("path", PUBLIC)
def test_public_routes_answer_anyone_even_with_a_bad_key(client: TestClient, world: World, path: str) -> None:
    for key, authorization in [(None, None), (world.revoked_key, None), (None, MALFORMED)]:
        response = call(client, "GET", path, key=key, authorization=authorization)
        assert response.status_code == 200, (path, key, authorization, response.text)
        assert "www-authenticate" not in response.headers


def test_an_admin_who_is_no_longer_the_last_one_may_step_down(
    client: TestClient, service: Service, world: World
) -> None:
    promoted = call(client, "PATCH", f"/users/{world.member.id}", key=world.admin.key, json={"role": "admin"})
    assert promoted.status_code == 200, promoted.text

    response = call(client, "PATCH", f"/users/{world.admin.id}", key=world.admin.key, json={"role": "member"})

    assert response.status_code == 200, response.text
    assert response.json()["role"] == Role.MEMBER.value
    # Now the member is the last admin, and the former admin is refused what only admins may do.
    assert_error(call(client, "GET", "/audit", key=world.admin.key), 403, "forbidden")
    refused = call(client, "DELETE", f"/users/{world.member.id}", key=world.member.key)
    assert_error(refused, 409, "conflict")
