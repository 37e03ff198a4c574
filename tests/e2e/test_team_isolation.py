"""Two teams side by side: nothing either sees, filters, counts or is told reveals the other.

Both teams hold the same kinds of things (an admin, a member with the same email in each, their
reminders, a sent and a failed delivery, keys and audit entries). Each team's admin looks for the
other's by every list, filter and id; another team's id is answered exactly as an id that does
not exist, and the other team is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from application.channels import PermanentChannelError
from entrypoints.bootstrap import Service
from tests.e2e.api_helpers import assert_error
from tests.e2e.teams import Person, add_person, add_reminder, admin_of, call, issue_key, team_state
from tests.fakes import RecordingChannel, new_team, team_of
from tests.stores import MakeStore, StoreUnderTest

SHARED_EMAIL = "sam@example.com"
# Shaped like every id the service makes, and the id of nothing.
NO_SUCH_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    """These tests run on PostgreSQL too: its queries filter by team as much as the others do."""
    return make_store(request.param)


@dataclass(frozen=True)
class Team:
    admin: Person
    member: Person
    reminder_id: str
    sent_id: str
    failed_id: str
    spare_key_id: str
    spare_key: str

    def ids(self) -> dict[str, str]:
        return {
            "user": self.member.id,
            "reminder": self.reminder_id,
            "delivery": self.failed_id,
            "key": self.spare_key_id,
        }


def populate(client: TestClient, service: Service, channel: RecordingChannel, admin: Person) -> Team:
    member = add_person(service, admin, "Sam", SHARED_EMAIL)
    spare = issue_key(service, admin, member.id, "phone")
    reminder = add_reminder(service, admin, member.id)
    sent = call(client, "POST", f"/notifications/send/{reminder.id}", key=admin.key)
    assert sent.status_code == 200, sent.text
    channel.failures = [PermanentChannelError("mailbox is gone")]
    failed = call(client, "POST", f"/notifications/send/{reminder.id}", key=admin.key)
    assert failed.status_code == 502, failed.text
    return Team(
        admin=admin,
        member=member,
        reminder_id=reminder.id,
        sent_id=sent.json()["delivery_id"],
        failed_id=failed.json()["details"]["delivery_id"],
        spare_key_id=spare.key.id,
        spare_key=spare.plain,
    )


@pytest.fixture
def ours(client: TestClient, service: Service, channel: RecordingChannel) -> Team:
    return populate(client, service, channel, admin_of(team_of(service)))


@pytest.fixture
def theirs(client: TestClient, service: Service, channel: RecordingChannel, ours: Team) -> Team:
    admin = admin_of(new_team(service, "Their team", "admin@theirs.example"))
    return populate(client, service, channel, admin)


def get(client: TestClient, team: Team, path: str, **params: str) -> dict[str, Any]:
    response = call(client, "GET", path, key=team.admin.key, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_user_lists_their_filters_and_totals_show_one_team(
    client: TestClient, ours: Team, theirs: Team
) -> None:
    for team in (ours, theirs):
        everyone = get(client, team, "/users/")
        assert {user["id"] for user in everyone["items"]} == {team.admin.id, team.member.id}
        assert everyone["total"] == 2
        assert get(client, team, "/users/", role="admin")["total"] == 1
        assert get(client, team, "/users/", role="member")["total"] == 1
        assert get(client, team, "/users/", active="false")["total"] == 0
        assert get(client, team, "/users/", limit="1", offset="1")["total"] == 2
        assert get(client, team, "/users/", offset="2")["items"] == []


def test_delivery_lists_and_their_filters_show_one_team(client: TestClient, ours: Team, theirs: Team) -> None:
    for team in (ours, theirs):
        everything = get(client, team, "/deliveries/")
        assert {d["delivery_id"] for d in everything["items"]} == {team.sent_id, team.failed_id}
        assert everything["total"] == 2
        assert [d["delivery_id"] for d in get(client, team, "/deliveries/", status="sent")["items"]] == [
            team.sent_id
        ]
        assert get(client, team, "/deliveries/", status="failed")["total"] == 1
        assert get(client, team, "/deliveries/", channel="recording")["total"] == 2
        assert get(client, team, "/deliveries/", offset="2")["items"] == []


def test_the_audit_trail_shows_one_team_whatever_the_filter(
    client: TestClient, ours: Team, theirs: Team
) -> None:
    for team, other in ((ours, theirs), (theirs, ours)):
        trail = get(client, team, "/audit", limit="100")
        assert trail["total"] > 0
        assert {entry["team_id"] for entry in trail["items"]} == {team.admin.team_id}
        assert trail["total"] == len(trail["items"])
        for name, value in [
            ("actor_id", other.admin.id),
            ("target_id", other.member.id),
            ("target_id", other.reminder_id),
            ("target_id", other.failed_id),
            ("target_id", other.spare_key_id),
        ]:
            assert get(client, team, "/audit", **{name: value}) == {
                "items": [],
                "total": 0,
                "limit": 50,
                "offset": 0,
            }, (name, value)
        assert get(client, team, "/audit", action="reminder.sent_now")["total"] == 2
        # The same filters with the team's own ids do find entries.
        by_admin = get(client, team, "/audit", actor_id=team.admin.id, limit="100")
        assert 0 < by_admin["total"] < trail["total"]  # the team and its admin were made by the system
        assert {entry["actor"]["user_id"] for entry in by_admin["items"]} == {team.admin.id}
        assert get(client, team, "/audit", target_id=team.reminder_id)["total"] == 1


# Every route that takes an id of the other team, with a body where it needs one.
ID_ROUTES = [
    ("GET", "/users/{user}", None),
    ("PATCH", "/users/{user}", {"name": "Renamed"}),
    ("DELETE", "/users/{user}", None),
    ("GET", "/notifications/user/{user}/", None),
    ("POST", "/users/{user}/keys", {"name": "stolen"}),
    ("GET", "/users/{user}/keys", None),
    ("DELETE", "/keys/{key}", None),
    ("GET", "/notifications/{reminder}", None),
    ("PATCH", "/notifications/{reminder}", {"title": "Taken over"}),
    ("DELETE", "/notifications/{reminder}", None),
    ("POST", "/notifications/send/{reminder}", None),
    ("GET", "/notifications/{reminder}/deliveries", None),
    ("GET", "/deliveries/{delivery}", None),
    ("POST", "/deliveries/{delivery}/retry", None),
]


@pytest.mark.parametrize(("method", "template", "body"), ID_ROUTES, ids=[f"{m} {t}" for m, t, _ in ID_ROUTES])
def test_another_teams_id_is_answered_exactly_as_an_id_that_does_not_exist(
    client: TestClient,
    service: Service,
    channel: RecordingChannel,
    ours: Team,
    theirs: Team,
    method: str,
    template: str,
    body: dict[str, Any] | None,
) -> None:
    their_ids = theirs.ids()
    missing_ids = dict.fromkeys(their_ids, NO_SUCH_ID)
    before, tried = team_state(service, theirs.admin), len(channel.tried)

    to_theirs = call(client, method, template.format(**their_ids), key=ours.admin.key, json=body)
    to_nothing = call(client, method, template.format(**missing_ids), key=ours.admin.key, json=body)

    shown_for_theirs = assert_error(to_theirs, 404, "not_found")
    shown_for_nothing = assert_error(to_nothing, 404, "not_found")
    named = next(value for name, value in their_ids.items() if "{" + name + "}" in template)
    assert named not in shown_for_nothing["message"]
    assert {**shown_for_theirs, "message": shown_for_theirs["message"].replace(named, NO_SUCH_ID)} == {
        **shown_for_nothing,
        "request_id": shown_for_theirs["request_id"],
    }
    assert team_state(service, theirs.admin) == before
    assert len(channel.tried) == tried
    assert call(client, "GET", "/users/", key=theirs.spare_key).status_code == 200


def test_the_same_email_may_be_used_in_both_teams_but_not_twice_in_one(
    client: TestClient, ours: Team, theirs: Team
) -> None:
    assert get(client, ours, f"/users/{ours.member.id}")["email"] == SHARED_EMAIL
    assert get(client, theirs, f"/users/{theirs.member.id}")["email"] == SHARED_EMAIL

    in_ours = call(
        client, "POST", "/users/", key=ours.admin.key, json={"name": "Kim", "email": "kim@example.com"}
    )
    in_theirs = call(
        client, "POST", "/users/", key=theirs.admin.key, json={"name": "Kim", "email": "KIM@example.com"}
    )
    again_in_ours = call(
        client, "POST", "/users/", key=ours.admin.key, json={"name": "Kim 2", "email": "Kim@Example.com"}
    )

    assert (in_ours.status_code, in_theirs.status_code) == (201, 201), (in_ours.text, in_theirs.text)
    assert in_ours.json()["team_id"] != in_theirs.json()["team_id"]
    refused = assert_error(again_in_ours, 409, "conflict")
    assert theirs.admin.team_id not in refused["message"]
    assert get(client, ours, "/users/")["total"] == 3
    assert get(client, theirs, "/users/")["total"] == 3


def test_a_user_may_take_an_email_used_only_in_the_other_team(
    client: TestClient, ours: Team, theirs: Team
) -> None:
    their_admin_email = get(client, theirs, f"/users/{theirs.admin.id}")["email"]
    our_admin_email = get(client, ours, f"/users/{ours.admin.id}")["email"]

    taken_elsewhere = call(
        client, "PATCH", f"/users/{ours.member.id}", key=ours.member.key, json={"email": their_admin_email}
    )
    taken_here = call(
        client,
        "PATCH",
        f"/users/{theirs.member.id}",
        key=theirs.member.key,
        json={"email": their_admin_email},
    )

    assert taken_elsewhere.status_code == 200, taken_elsewhere.text
    assert taken_elsewhere.json()["email"] == their_admin_email
    assert_error(taken_here, 409, "conflict")
    assert get(client, theirs, f"/users/{theirs.member.id}")["email"] == SHARED_EMAIL
    assert our_admin_email != their_admin_email


def test_a_reminder_cannot_be_made_for_a_user_of_the_other_team(
    client: TestClient, service: Service, ours: Team, theirs: Team
) -> None:
    before = team_state(service, theirs.admin)
    body = {
        "owner_id": theirs.member.id,
        "title": "Planted",
        "message": "Hello",
        "channel": "recording",
        "time_of_day": "09:00",
        "frequency": "daily",
    }

    to_theirs = call(client, "POST", "/notifications/", key=ours.admin.key, json=body)
    to_nothing = call(
        client, "POST", "/notifications/", key=ours.admin.key, json={**body, "owner_id": NO_SUCH_ID}
    )

    shown = assert_error(to_theirs, 404, "not_found")
    assert shown["message"].replace(theirs.member.id, NO_SUCH_ID) == to_nothing.json()["message"]
    assert team_state(service, theirs.admin) == before
    assert get(client, ours, f"/notifications/user/{ours.member.id}/")["total"] == 1


def test_each_teams_webhook_secret_is_its_own(
    client: TestClient, service: Service, ours: Team, theirs: Team
) -> None:
    theirs_before = team_state(service, theirs.admin)

    rotated = call(client, "POST", "/team/webhook-secret", key=ours.admin.key)

    assert rotated.status_code == 200, rotated.text
    assert team_state(service, ours.admin)["webhook_secret"] == rotated.json()["webhook_secret"]
    assert team_state(service, theirs.admin) == theirs_before
