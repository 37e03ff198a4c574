"""GET /audit: every change made through the API leaves exactly one entry, made by whom, through which
request and what changed; a change that fails leaves none; admins read the trail, newest first,
filtered by actor, target, action and time; nothing edits it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from application.channels import PermanentChannelError
from entrypoints.bootstrap import Service
from tests.e2e.api_helpers import assert_error, assert_validation_error
from tests.e2e.teams import Person, add_person, add_reminder, admin_of, call, issue_key
from tests.fakes import FixedClock, RecordingChannel, team_of
from tests.stores import MakeStore, StoreUnderTest

ENTRY_KEYS = {"id", "at", "team_id", "actor", "action", "target_type", "target_id", "request_id", "changes"}
REDACTED = "[redacted]"
SECRET_TARGET = "https://hooks.example.com/very-secret-path"


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    """The trail is written in the store's own commit: every store is checked."""
    return make_store(request.param)


@dataclass(frozen=True)
class Scene:
    """A team with a member who owns a reminder (to a secret target) whose delivery failed."""

    client: TestClient
    admin: Person
    member: Person
    spare_key_id: str
    reminder_id: str
    failed_id: str

    def as_admin(self, method: str, path: str, json: Any = None) -> httpx2.Response:
        return call(self.client, method, path, key=self.admin.key, json=json)


@pytest.fixture
def scene(client: TestClient, service: Service, channel: RecordingChannel) -> Scene:
    channel.takes_target = True
    admin = admin_of(team_of(service))
    member = add_person(service, admin, "Mia", "mia@example.com")
    spare = issue_key(service, admin, member.id, "phone")
    reminder = add_reminder(service, admin, member.id, target=SECRET_TARGET)
    channel.failures = [PermanentChannelError("mailbox is gone")]
    failed = client.post(f"/notifications/send/{reminder.id}")
    assert failed.status_code == 502, failed.text
    return Scene(client, admin, member, spare.key.id, reminder.id, failed.json()["details"]["delivery_id"])


def trail(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/audit", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def entries_of(client: TestClient, response: httpx2.Response) -> list[dict[str, Any]]:
    """The entries written on behalf of one request."""
    request_id = response.headers["x-request-id"]
    return [entry for entry in trail(client, limit=100)["items"] if entry["request_id"] == request_id]


@dataclass(frozen=True)
class Change:
    """A change made through the API, and the one entry it must leave."""

    action: str
    target_type: str
    make: Callable[[Scene], tuple[httpx2.Response, str]]  # the response, and the id of what changed
    changes: dict[str, list[Any]] | None  # exactly these, or (None) see `created`
    created: dict[str, list[Any]] | None = None  # for a creation: at least these


def create_user(scene: Scene) -> tuple[httpx2.Response, str]:
    response = scene.as_admin("POST", "/users/", {"name": "Ada", "email": "ada@example.com"})
    return response, response.json()["id"]


def rename_member(scene: Scene) -> tuple[httpx2.Response, str]:
    response = call(
        scene.client, "PATCH", f"/users/{scene.member.id}", key=scene.member.key, json={"name": "Mia B"}
    )
    return response, scene.member.id


def promote_member(scene: Scene) -> tuple[httpx2.Response, str]:
    return scene.as_admin("PATCH", f"/users/{scene.member.id}", {"role": "admin"}), scene.member.id


def deactivate_member(scene: Scene) -> tuple[httpx2.Response, str]:
    return scene.as_admin("PATCH", f"/users/{scene.member.id}", {"active": False}), scene.member.id


def delete_new_user(scene: Scene) -> tuple[httpx2.Response, str]:
    created = scene.as_admin("POST", "/users/", {"name": "Short Stay", "email": "short@example.com"}).json()
    return scene.as_admin("DELETE", f"/users/{created['id']}"), created["id"]


def create_reminder(scene: Scene) -> tuple[httpx2.Response, str]:
    body = {
        "title": "Lunch",
        "message": "Eat",
        "channel": "recording",
        "target": SECRET_TARGET,
        "time_of_day": "12:00",
        "frequency": "daily",
    }
    response = call(scene.client, "POST", "/notifications/", key=scene.member.key, json=body)
    return response, response.json()["id"]


def update_reminder(scene: Scene) -> tuple[httpx2.Response, str]:
    body = {"title": "Moved", "target": "https://hooks.example.com/another-secret"}
    return scene.as_admin("PATCH", f"/notifications/{scene.reminder_id}", body), scene.reminder_id


def delete_reminder(scene: Scene) -> tuple[httpx2.Response, str]:
    return scene.as_admin("DELETE", f"/notifications/{scene.reminder_id}"), scene.reminder_id


def create_key(scene: Scene) -> tuple[httpx2.Response, str]:
    response = scene.as_admin("POST", f"/users/{scene.member.id}/keys", {"name": "tablet"})
    return response, response.json()["id"]


def revoke_key(scene: Scene) -> tuple[httpx2.Response, str]:
    return scene.as_admin("DELETE", f"/keys/{scene.spare_key_id}"), scene.spare_key_id


def send_now(scene: Scene) -> tuple[httpx2.Response, str]:
    response = scene.as_admin("POST", f"/notifications/send/{scene.reminder_id}")
    return response, response.json()["delivery_id"]


def retry(scene: Scene) -> tuple[httpx2.Response, str]:
    return scene.as_admin("POST", f"/deliveries/{scene.failed_id}/retry"), scene.failed_id


def rotate_secret(scene: Scene) -> tuple[httpx2.Response, str]:
    return scene.as_admin("POST", "/team/webhook-secret"), scene.admin.team_id


CHANGES = [
    Change("user.created", "user", create_user, None,
           {"name": [None, "Ada"], "email": [None, "ada@example.com"], "role": [None, "member"]}),
    Change("user.updated", "user", rename_member, {"name": ["Mia", "Mia B"]}),
    Change("user.role_changed", "user", promote_member, {"role": ["member", "admin"]}),
    Change("user.deactivated", "user", deactivate_member, {"active": [True, False]}),
    Change("user.deleted", "user", delete_new_user, {}),
    Change("reminder.created", "reminder", create_reminder, None,
           {"title": [None, "Lunch"], "target": [None, REDACTED], "channel": [None, "recording"]}),
    Change("reminder.updated", "reminder", update_reminder,
           {"title": ["Stand-up", "Moved"], "target": [REDACTED, REDACTED]}),
    Change("reminder.deleted", "reminder", delete_reminder, {}),
    Change("key.created", "key", create_key, None,
           {"name": [None, "tablet"], "secret_hash": [None, REDACTED]}),
    Change("key.revoked", "key", revoke_key, {"revoked_at": [None, "2026-01-05T08:00:00+00:00"]}),
    Change("reminder.sent_now", "delivery", send_now, None, {}),
    Change("delivery.retried", "delivery", retry, None, {"status": ["failed", "pending"]}),
    Change("team.webhook_secret_rotated", "team", rotate_secret, None,
           {"webhook_secret": [REDACTED, REDACTED], "previous_webhook_secret": [None, REDACTED]}),
]  # fmt: skip


@pytest.mark.parametrize("change", CHANGES, ids=[change.action for change in CHANGES])
def test_a_change_leaves_one_entry_naming_who_through_which_request_and_what_changed(
    client: TestClient, scene: Scene, change: Change
) -> None:
    total = trail(client)["total"]

    response, target_id = change.make(scene)

    assert response.status_code < 300, response.text
    [entry] = entries_of(client, response)
    assert set(entry) == ENTRY_KEYS
    caller = scene.member if change.make in (rename_member, create_reminder) else scene.admin
    assert entry["actor"] == {"user_id": caller.id, "key_id": caller.key_id}
    assert (entry["action"], entry["target_type"], entry["target_id"]) == (
        change.action,
        change.target_type,
        target_id,
    )
    assert (entry["team_id"], entry["at"]) == (scene.admin.team_id, "2026-01-05T08:00:00+00:00")
    if change.changes is not None:
        assert entry["changes"] == change.changes
    else:
        assert change.created is not None
        assert entry["changes"].items() >= change.created.items(), entry["changes"]
    assert trail(client)["items"][0] == entry  # newest first
    made = 2 if change.make is delete_new_user else 1  # that one made a user first
    assert trail(client)["total"] == total + made


def test_no_target_secret_or_key_is_ever_written_to_the_trail(client: TestClient, scene: Scene) -> None:
    issued = scene.as_admin("POST", f"/users/{scene.member.id}/keys", {"name": "tablet"}).json()
    rotated = scene.as_admin("POST", "/team/webhook-secret").json()
    update_reminder(scene)

    written = str(trail(client, limit=100))

    assert "hooks.example.com" not in written
    assert issued["key"] not in written
    # The secret is all after rk_<prefix>_ (it may hold underscores of its own).
    assert issued["key"].split("_", 2)[2] not in written
    assert rotated["webhook_secret"] not in written


def test_deleting_a_user_also_records_their_reminders_going_in_the_same_request(
    client: TestClient, scene: Scene
) -> None:
    response = scene.as_admin("DELETE", f"/users/{scene.member.id}")

    assert response.status_code == 204
    recorded = {(entry["action"], entry["target_id"]) for entry in entries_of(client, response)}
    assert recorded == {("user.deleted", scene.member.id), ("reminder.deleted", scene.reminder_id)}


def test_sending_records_the_request_not_the_workers_attempts(
    client: TestClient, scene: Scene, channel: RecordingChannel
) -> None:
    total = trail(client)["total"]

    response = scene.as_admin("POST", f"/notifications/send/{scene.reminder_id}")

    assert response.status_code == 200, response.text
    assert len(channel.sent) == 1
    assert [entry["action"] for entry in entries_of(client, response)] == ["reminder.sent_now"]
    assert trail(client)["total"] == total + 1


def failing_requests(scene: Scene) -> dict[str, tuple[httpx2.Response, int]]:
    bad_reminder = {
        "title": "T",
        "message": "M",
        "channel": "pigeon",
        "time_of_day": "09:00",
        "frequency": "daily",
    }
    return {
        "duplicate email": (
            scene.as_admin("POST", "/users/", {"name": "Twin", "email": "MIA@example.com"}),
            409,
        ),
        "duplicate email on change": (
            scene.as_admin("PATCH", f"/users/{scene.admin.id}", {"email": "mia@example.com"}),
            409,
        ),
        "last admin demoted": (scene.as_admin("PATCH", f"/users/{scene.admin.id}", {"role": "member"}), 409),
        "last admin deactivated": (
            scene.as_admin("PATCH", f"/users/{scene.admin.id}", {"active": False}),
            409,
        ),
        "last admin deleted": (scene.as_admin("DELETE", f"/users/{scene.admin.id}"), 409),
        "invalid body": (scene.as_admin("POST", "/users/", {"name": "No Email"}), 400),
        "unknown channel": (scene.as_admin("POST", "/notifications/", bad_reminder), 400),
        "retry of a delivery that did not fail": (
            scene.as_admin("POST", f"/deliveries/{scene.failed_id}/retry"),
            409,
        ),
        "member changing a role": (
            call(
                scene.client,
                "PATCH",
                f"/users/{scene.member.id}",
                key=scene.member.key,
                json={"role": "admin"},
            ),
            403,
        ),
    }


def test_a_change_that_fails_leaves_no_entry(client: TestClient, scene: Scene) -> None:
    retried = scene.as_admin("POST", f"/deliveries/{scene.failed_id}/retry")
    assert retried.status_code == 200, retried.text  # sent this time: retrying it again is refused
    total = trail(client)["total"]

    answers = failing_requests(scene)

    for what, (response, status) in answers.items():
        assert response.status_code == status, (what, response.text)
        assert entries_of(client, response) == [], what
    assert trail(client)["total"] == total


def test_only_admins_read_the_trail(client: TestClient, scene: Scene) -> None:
    refused = call(client, "GET", "/audit", key=scene.member.key)

    assert_error(refused, 403, "forbidden")
    assert trail(client)["total"] > 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_nothing_changes_the_trail(client: TestClient, scene: Scene, method: str) -> None:
    before = trail(client, limit=100)

    response = client.request(method, "/audit", json={"action": "nothing happened"})

    assert_error(response, 405, "method_not_allowed")
    assert trail(client, limit=100) == before


def test_the_trail_is_newest_first_one_page_at_a_time(
    client: TestClient, scene: Scene, clock: FixedClock
) -> None:
    made = []
    for n in range(3):
        clock.advance(minutes=1)
        made.append(
            scene.as_admin("POST", "/users/", {"name": f"U{n}", "email": f"u{n}@example.com"}).json()["id"]
        )

    first = trail(client, limit=2)
    second = trail(client, limit=2, offset=2)

    assert [entry["target_id"] for entry in first["items"]] == [made[2], made[1]]
    assert second["items"][0]["target_id"] == made[0]
    assert (first["limit"], first["offset"], second["offset"]) == (2, 0, 2)
    assert first["total"] == second["total"]
    everything = trail(client, limit=100)["items"]
    assert [entry["at"] for entry in everything] == sorted(
        (entry["at"] for entry in everything), reverse=True
    )


def test_the_trail_filters_by_actor_target_action_and_time(
    client: TestClient, scene: Scene, clock: FixedClock
) -> None:
    clock.advance(hours=1)
    renamed, _ = rename_member(scene)  # 09:00, by the member
    clock.advance(hours=1)
    retitled, _ = update_reminder(scene)  # 10:00, by the admin
    clock.advance(hours=1)
    promoted, _ = promote_member(scene)  # 11:00, by the admin
    ids = {
        "renamed": entries_of(client, renamed)[0]["id"],
        "retitled": entries_of(client, retitled)[0]["id"],
        "promoted": entries_of(client, promoted)[0]["id"],
    }

    def found(**params: Any) -> list[str]:
        names = {entry_id: name for name, entry_id in ids.items()}
        return [names.get(entry["id"], "earlier") for entry in trail(client, limit=100, **params)["items"]]

    assert found(actor_id=scene.member.id) == ["renamed"]
    assert found(target_id=scene.member.id) == ["promoted", "renamed", "earlier"]  # created earlier
    assert found(action="reminder.updated") == ["retitled"]
    assert found(action="user.role_changed", target_id=scene.member.id) == ["promoted"]
    assert found(since="2026-01-05T10:00:00+00:00") == ["promoted", "retitled"]
    assert found(until="2026-01-05T10:00:00Z")[0] == "renamed"
    assert "retitled" not in found(until="2026-01-05T10:00:00Z")
    assert found(since="2026-01-05T09:30:00+00:00", until="2026-01-05T10:30:00+00:00") == ["retitled"]
    assert found(since="2026-01-05T10:00:00+01:00", actor_id=scene.member.id) == ["renamed"]
    assert found(action="no.such.action") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "2026-01-05T10:00:00"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"actor": "someone"}, "actor"),
    ],
)
def test_a_bad_query_is_refused(client: TestClient, scene: Scene, query: dict[str, str], field: str) -> None:
    assert_validation_error(client.get("/audit", params=query), field)


def test_an_action_filter_that_names_no_action_is_refused_in_words(client: TestClient) -> None:
    response = client.get("/audit", params={"action": "-5.3e+16"})
    (problem,) = assert_validation_error(response, "action")
    assert "reminder.updated" in problem["message"]


def test_an_id_filter_that_is_no_id_is_refused_in_words(client: TestClient) -> None:
    response = client.get("/audit", params={"target_id": "-5.3e+16"})
    (problem,) = assert_validation_error(response, "target_id")
    assert "must be an id" in problem["message"]
