"""The audit trail: every change made on someone's behalf is one entry naming who made it, through
which key and request, and each changed field before and after; targets and secrets are redacted."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from application import context
from application.channels import PermanentChannelError
from application.commands import (
    CreateUser,
    DeleteUser,
    ReminderPatch,
    RetryDelivery,
    RevokeApiKey,
    RotateWebhookSecret,
    SendReminderNow,
    UpdateReminder,
    UpdateUser,
    UserPatch,
)
from domain.audit import AuditEntry
from domain.errors import Forbidden
from domain.roles import Role
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, admin, run_queue, team_of
from tests.unit.people import Person, issue_key, outsider, reminder_of, trail

REQUEST = "req-42"
REDACTED = "[redacted]"
T = TypeVar("T")


@pytest.fixture
def team() -> RecordingChannel:
    return RecordingChannel(takes_target=True)


@pytest.fixture
def request_id() -> Iterator[str]:
    """The request the commands of a test come with, as the HTTP layer sets it."""
    token = context.request_id.set(REQUEST)
    yield REQUEST
    context.request_id.reset(token)


def recorded(service: Service, change: Callable[[], T]) -> tuple[T, list[AuditEntry]]:
    """What `change()` returned, and the entries it added to the test team's trail, oldest first."""
    before = len(trail(service))
    result = change()
    return result, trail(service)[before:]


def update_user(service: Service, user: User, **changes: Any) -> Any:
    patch = UserPatch.model_validate(changes)
    return service.bus.handle(UpdateUser(actor=admin(service), user_id=user.id, changes=patch))


def is_plain_json(value: Any) -> bool:
    """Only what a JSON column gives back: no enums, dates or tuples, however they compare."""
    if isinstance(value, dict):
        return all(type(key) is str and is_plain_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(is_plain_json(item) for item in value)
    return value is None or type(value) in (str, int, float, bool)


def test_a_change_is_one_entry_naming_the_actor_their_key_and_the_request(
    service: Service, clock: FixedClock, request_id: str
) -> None:
    boss = admin(service)
    clock.advance(minutes=5)

    ann, [entry] = recorded(
        service, lambda: service.bus.handle(CreateUser(actor=boss, name="Ann", email="Ann@Example.com"))
    )

    assert (entry.action, entry.target_type, entry.target_id) == ("user.created", "user", ann.id)
    assert (entry.actor_user_id, entry.actor_key_id, entry.request_id) == (boss.user_id, boss.key_id, REQUEST)
    assert (entry.team_id, entry.at) == (team_of(service).team.id, clock.now())
    assert entry.changes["email"] == [None, "ann@example.com"]
    assert entry.changes["role"] == [None, "member"]
    assert "updated_at" not in entry.changes
    assert is_plain_json(entry.changes)
    assert json.loads(json.dumps(entry.changes)) == entry.changes


@pytest.mark.parametrize(
    ("before", "changes", "action", "fields"),
    [
        ({}, {"name": "Ann Lee", "email": "ANN@example.com"}, "user.updated", {"name": ["Ann", "Ann Lee"]}),
        ({}, {"role": Role.ADMIN}, "user.role_changed", {"role": ["member", "admin"]}),
        ({}, {"active": False}, "user.deactivated", {"active": [True, False]}),
        ({"active": False}, {"active": True}, "user.reactivated", {"active": [False, True]}),
    ],
)
def test_a_user_change_names_what_happened_and_only_the_fields_that_changed(
    service: Service,
    ann: Person,
    before: dict[str, Any],
    changes: dict[str, Any],
    action: str,
    fields: dict[str, list[Any]],
) -> None:
    if before:
        update_user(service, ann.user, **before)

    _, [entry] = recorded(service, lambda: update_user(service, ann.user, **changes))

    assert (entry.action, entry.target_id, entry.changes) == (action, ann.user.id, fields)


def test_a_reminders_target_is_redacted_old_and_new(service: Service, ann: Person) -> None:
    reminder, [created] = recorded(
        service, lambda: reminder_of(service, ann, channel="team", target="#secret")
    )
    patch = ReminderPatch(target="#elsewhere", title="Retro")

    _, [updated] = recorded(
        service,
        lambda: service.bus.handle(UpdateReminder(actor=ann.actor, reminder_id=reminder.id, changes=patch)),
    )

    assert (created.action, created.actor_user_id, created.changes["target"]) == (
        "reminder.created",
        ann.user.id,
        [None, REDACTED],
    )
    assert updated.action == "reminder.updated"
    assert updated.changes == {"title": ["Standup", "Retro"], "target": [REDACTED, REDACTED]}
    assert "#secret" not in json.dumps([created.changes, updated.changes])


def test_issuing_and_revoking_a_key_never_records_its_secret(service: Service, ann: Person) -> None:
    issued, [created] = recorded(service, lambda: issue_key(service, ann.user, by=ann.actor))
    _, [revoked] = recorded(
        service, lambda: service.bus.handle(RevokeApiKey(actor=admin(service), key_id=issued.key.id))
    )

    assert (created.action, created.target_type, created.target_id) == ("key.created", "key", issued.key.id)
    assert created.changes["secret_hash"] == [None, REDACTED]
    assert (revoked.action, revoked.actor_user_id, list(revoked.changes)) == (
        "key.revoked",
        admin(service).user_id,
        ["revoked_at"],
    )
    assert issued.plain not in json.dumps([created.changes, revoked.changes])
    assert issued.key.secret_hash not in json.dumps([created.changes, revoked.changes])


def test_rotating_the_webhook_secret_records_the_rotation_not_the_secrets(service: Service) -> None:
    secret, [entry] = recorded(service, lambda: service.bus.handle(RotateWebhookSecret(actor=admin(service))))

    assert (entry.action, entry.target_type, entry.target_id) == (
        "team.webhook_secret_rotated",
        "team",
        team_of(service).team.id,
    )
    assert entry.changes["webhook_secret"] == [REDACTED, REDACTED]
    assert entry.changes["previous_webhook_secret"] == [None, REDACTED]
    assert secret not in json.dumps(entry.changes)


def test_sending_now_and_retrying_are_recorded_against_the_delivery(
    service: Service, team: RecordingChannel, ann: Person
) -> None:
    reminder = reminder_of(service, ann, channel="team", target="#ann")
    team.failures = [PermanentChannelError("401")]
    delivery, [sent] = recorded(
        service, lambda: service.bus.handle(SendReminderNow(actor=ann.actor, reminder_id=reminder.id))
    )
    run_queue(service)
    _, [retried] = recorded(
        service, lambda: service.bus.handle(RetryDelivery(actor=ann.actor, delivery_id=delivery.id))
    )

    assert [(e.action, e.target_type, e.target_id) for e in (sent, retried)] == [
        ("reminder.sent_now", "delivery", delivery.id),
        ("delivery.retried", "delivery", delivery.id),
    ]
    assert retried.changes["status"] == ["failed", "pending"]


def test_deleting_a_user_records_their_reminders_deletion_by_the_same_actor_and_request(
    service: Service, ann: Person, request_id: str
) -> None:
    reminders = {reminder_of(service, ann).id, reminder_of(service, ann, title="Review").id}
    boss = admin(service)

    _, entries = recorded(service, lambda: service.bus.handle(DeleteUser(actor=boss, user_id=ann.user.id)))

    assert [(e.action, e.target_id) for e in entries[:1]] == [("user.deleted", ann.user.id)]
    assert {e.target_id for e in entries[1:] if e.action == "reminder.deleted"} == reminders
    assert len(entries) == 3
    assert {(e.actor_user_id, e.actor_key_id, e.request_id) for e in entries} == {
        (boss.user_id, boss.key_id, REQUEST)
    }


def test_only_an_admin_reads_the_trail_and_only_their_own_teams(service: Service, ann: Person) -> None:
    stranger = outsider(service)

    with pytest.raises(Forbidden):
        trail(service, ann.actor)

    theirs = trail(service, stranger.actor)
    assert {e.team_id for e in theirs} == {stranger.user.team_id}
    assert {e.team_id for e in trail(service)} == {team_of(service).team.id}
