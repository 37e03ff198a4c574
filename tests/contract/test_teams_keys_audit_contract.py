"""The store contract for teams, API keys and the audit trail, and the team rules of users and
deliveries: every store (memory, SQLite, PostgreSQL) behaves the same.

Teams by id and in creation order, every field back (a rotation's too), the roster as the guard of
a team's admins; keys by id, by prefix and by user, unique prefixes, a key only for a user who
exists, and a user's keys deleted with them; audit entries newest first with every filter; users
and deliveries scoped by team, emails unique within a team only.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from domain.aggregate import Aggregate
from domain.api_key import ApiKey
from domain.audit import AuditEntry, Changes
from domain.delivery import Delivery, DeliveryStatus
from domain.errors import Conflict, DuplicateEmail, NotFound, StaleVersion
from domain.reminder import Reminder
from domain.roles import Role
from domain.team import ROTATION_OVERLAP
from domain.user import User
from tests.builders import NOW, TEAM_ID, make_reminder, make_team, make_user, save
from tests.stores import KINDS, MakeStore, StoreUnderTest

OURS, THEIRS = "team-ours", "team-theirs"


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    return make_store(request.param)


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {f.name: getattr(aggregate, f.name) for f in fields(aggregate) if f.name != "_events"}


def member(email: str, team_id: str, *, role: Role = Role.MEMBER, active: bool = True) -> User:
    return User.create(
        team_id=team_id, name=email.split("@")[0], email=email, role=role, active=active, now=NOW
    )


def issue(user: User, name: str = "laptop") -> ApiKey:
    key, _ = ApiKey.issue(team_id=user.team_id, user_id=user.id, name=name, now=NOW)
    return key


def names(aggregates: list[Any]) -> list[str]:
    return [aggregate.name for aggregate in aggregates]


# -- teams ------------------------------------------------------------------------------------------------


def test_teams_come_back_by_id_and_in_creation_order_with_exact_totals(store: StoreUnderTest) -> None:
    teams = [make_team(f"Team {n}") for n in range(3)]
    for team in teams:
        save(store, team)

    with store.uow_factory() as uow:
        page = uow.teams.list(limit=2, offset=1)
        everyone = uow.teams.list(limit=10, offset=0)
        past_the_end = uow.teams.list(limit=10, offset=3)
        found = uow.teams.get_many([teams[2].id, teams[0].id, "no-such-team", "nul\x00"])
        one, missing, nothing = (
            uow.teams.get(teams[1].id),
            uow.teams.get("no-such-team"),
            uow.teams.get_many([]),
        )

    assert (names(page.items), page.total, page.limit, page.offset) == (["Team 1", "Team 2"], 3, 2, 1)
    assert [team.id for team in everyone.items] == [team.id for team in teams]
    assert (past_the_end.items, past_the_end.total) == ([], 3)
    assert {key: state(team) for key, team in found.items()} == {
        teams[0].id: state(teams[0]),
        teams[2].id: state(teams[2]),
    }
    assert one is not None
    assert state(one) == state(teams[1])
    assert (missing, nothing) == (None, {})


def test_every_field_of_a_team_comes_back_unchanged_through_a_webhook_secret_rotation(
    store: StoreUnderTest,
) -> None:
    team = make_team(team_id=TEAM_ID)
    save(store, team)
    with store.uow_factory() as uow:
        fresh = uow.teams.get(team.id)
    assert fresh is not None
    assert state(fresh) == state(team)
    assert (fresh.previous_webhook_secret, fresh.previous_secret_expires_at, fresh.roster) == (None, None, 0)

    rotated_at = (NOW + timedelta(hours=1, microseconds=5)).astimezone(timezone(timedelta(hours=-5)))
    with store.uow_factory() as uow:
        changed = uow.teams.get(team.id)
        assert changed is not None
        changed.rotate_webhook_secret(rotated_at)
        changed.admins_changing()
        uow.commit()

    with store.uow_factory() as uow:
        back = uow.teams.get(team.id)
    assert back is not None
    assert state(back) == state(changed)
    assert back.webhook_secret != team.webhook_secret
    assert (back.previous_webhook_secret, back.previous_secret_expires_at) == (
        team.webhook_secret,
        rotated_at + ROTATION_OVERLAP,
    )
    assert (back.roster, back.version, back.updated_at) == (1, 2, rotated_at)
    assert back.signing_secrets(rotated_at) == (back.webhook_secret, team.webhook_secret)


def test_of_two_concurrent_changes_to_a_teams_admins_the_second_is_refused_whole(
    store: StoreUnderTest,
) -> None:
    """Each demotes a different one of the two admins: together they would leave the team with none."""
    team = make_team(team_id=OURS)
    ann, bob = (
        member("ann@example.com", OURS, role=Role.ADMIN),
        member("bob@example.com", OURS, role=Role.ADMIN),
    )
    save(store, team, ann, bob)

    first, second = store.uow_factory(), store.uow_factory()
    for uow, user_id in ((first, ann.id), (second, bob.id)):
        demoted, guard = uow.users.get(user_id), uow.teams.get(OURS)
        assert demoted is not None
        assert guard is not None
        demoted.update(role=Role.MEMBER, now=NOW)
        guard.admins_changing()
    first.commit()
    with pytest.raises(StaleVersion):
        second.commit()

    with store.uow_factory() as uow:
        stored_team = uow.teams.get(OURS)
        admins = uow.users.list(team_id=OURS, limit=10, offset=0, role=Role.ADMIN)
    assert stored_team is not None
    assert (stored_team.roster, stored_team.version) == (1, 2)
    assert [user.id for user in admins.items] == [bob.id]


# -- users within teams -----------------------------------------------------------------------------------


def test_user_pages_are_one_teams_users_filtered_on_role_and_active_with_exact_totals(
    store: StoreUnderTest,
) -> None:
    ours = [
        member("a@example.com", OURS, role=Role.ADMIN),
        member("b@example.com", OURS),
        member("c@example.com", OURS, role=Role.ADMIN, active=False),
        member("d@example.com", OURS, active=False),
        member("e@example.com", OURS),
    ]
    theirs = [member("x@example.com", THEIRS, role=Role.ADMIN), member("y@example.com", THEIRS)]
    save(store, make_team(team_id=OURS), make_team(team_id=THEIRS), *ours, *theirs)

    def page(team_id: str = OURS, **filters: Any) -> tuple[list[str], int]:
        with store.uow_factory() as uow:
            found = uow.users.list(team_id=team_id, **{"limit": 10, "offset": 0, **filters})
        return names(found.items), found.total

    assert page() == (["a", "b", "c", "d", "e"], 5)
    assert page(limit=2, offset=1) == (["b", "c"], 5)
    assert page(role=Role.ADMIN) == (["a", "c"], 2)
    assert page(role=Role.MEMBER, active=True) == (["b", "e"], 2)
    assert page(role=Role.ADMIN, active=False, limit=1) == (["c"], 1)
    assert page(active=False, offset=5) == ([], 2)
    assert page(THEIRS) == (["x", "y"], 2)
    assert page(THEIRS, role=Role.MEMBER) == (["y"], 1)
    assert page("no-such-team") == ([], 0)


def test_an_email_is_unique_within_a_team_and_may_be_used_again_in_another(store: StoreUnderTest) -> None:
    save(store, member("ann@example.com", OURS))

    save(store, member("Ann@Example.com", THEIRS))
    with store.uow_factory() as uow:
        uow.users.add(member("ANN@example.COM", OURS))
        with pytest.raises(DuplicateEmail):
            uow.commit()
    with store.uow_factory() as uow:
        # Two new users of one team with one address in a single commit; another team's is no twin.
        uow.users.add(member("bob@example.com", THEIRS))
        uow.users.add(member("BOB@example.com", THEIRS))
        uow.users.add(member("bob@example.com", OURS))
        with pytest.raises(DuplicateEmail):
            uow.commit()

    with store.uow_factory() as uow:
        ours = uow.users.list(team_id=OURS, limit=10, offset=0)
        theirs = uow.users.list(team_id=THEIRS, limit=10, offset=0)
    assert ([user.email for user in ours.items], ours.total) == (["ann@example.com"], 1)
    assert ([user.email for user in theirs.items], theirs.total) == (["ann@example.com"], 1)


def test_changing_an_email_to_one_used_in_another_team_is_allowed(store: StoreUnderTest) -> None:
    ann, bob = member("ann@example.com", OURS), member("bob@example.com", THEIRS)
    save(store, ann, bob)

    with store.uow_factory() as uow:
        changed = uow.users.get(bob.id)
        assert changed is not None
        changed.update(email="ANN@example.com", now=NOW)
        uow.commit()

    with store.uow_factory() as uow:
        back = uow.users.get(bob.id)
    assert back is not None
    assert (back.email, back.team_id) == ("ann@example.com", THEIRS)


def test_a_user_whose_team_does_not_exist_is_refused(store: StoreUnderTest) -> None:
    save(store, make_team(team_id=OURS))
    with store.uow_factory() as uow:
        uow.users.add(member("bob@example.com", "no-such-team"))
        with pytest.raises(NotFound) as raised:
            uow.commit()
    assert (raised.value.entity, raised.value.entity_id) == ("team", "no-such-team")
    with store.uow_factory() as uow:
        uow.users.add(member("ann@example.com", OURS))
        uow.users.add(member("bob@example.com", "no-such-team"))
        with pytest.raises(NotFound) as raised:
            uow.commit()
    assert raised.value.entity == "team"

    with store.uow_factory() as uow:
        assert uow.users.list(team_id=OURS, limit=10, offset=0).total == 0
        assert uow.users.list(team_id="no-such-team", limit=10, offset=0).total == 0


# -- API keys ---------------------------------------------------------------------------------------------


def test_a_key_comes_back_by_id_and_by_prefix_with_every_field(store: StoreUnderTest) -> None:
    ann = make_user()
    key, plain = ApiKey.issue(team_id=ann.team_id, user_id=ann.id, name="CI — ünïcödé", now=NOW)
    save(store, ann, key)
    with store.uow_factory() as uow:
        fresh = uow.keys.get(key.id)
    assert fresh is not None
    assert state(fresh) == state(key)

    used_at = (NOW + timedelta(minutes=1, microseconds=7)).astimezone(timezone(timedelta(hours=3)))
    with store.uow_factory() as uow:
        changed = uow.keys.get(key.id)
        assert changed is not None
        changed.last_used_at = used_at
        changed.revoke(used_at + timedelta(hours=1))
        uow.commit()

    with store.uow_factory() as uow:
        by_id, by_prefix = uow.keys.get(key.id), uow.keys.get_by_prefix(key.prefix)
        unknown = (
            uow.keys.get("no-such-key"),
            uow.keys.get_by_prefix("0" * 12),
            uow.keys.get_by_prefix("\x00"),
        )
    assert by_id is not None
    assert by_prefix is not None
    assert state(by_id) == state(by_prefix) == state(changed)
    assert (by_id.team_id, by_id.user_id, by_id.name, by_id.version) == (
        ann.team_id,
        ann.id,
        "CI — ünïcödé",
        2,
    )
    assert (by_id.last_used_at, by_id.revoked_at) == (used_at, used_at + timedelta(hours=1))
    assert by_id.matches(plain)
    assert not by_id.matches(plain + "x")
    assert unknown == (None, None, None)


def test_a_users_keys_are_listed_in_creation_order_revoked_ones_too_with_exact_totals(
    store: StoreUnderTest,
) -> None:
    ann, bob = make_user(), make_user("bob@example.com")
    anns = [issue(ann, f"key {n}") for n in range(4)]
    anns[1].revoke(NOW)
    save(store, ann, bob, *anns[:2], issue(bob, "bob's"))
    save(store, *anns[2:])

    def page(user_id: str, *, limit: int = 10, offset: int = 0) -> tuple[list[str], int]:
        with store.uow_factory() as uow:
            found = uow.keys.list_by_user(user_id, limit=limit, offset=offset)
        return names(found.items), found.total

    assert page(ann.id) == (["key 0", "key 1", "key 2", "key 3"], 4)
    assert page(ann.id, limit=2, offset=1) == (["key 1", "key 2"], 4)
    assert page(ann.id, offset=4) == ([], 4)
    assert page(bob.id) == (["bob's"], 1)
    assert page("no-such-user") == ([], 0)
    assert page("\x00") == ([], 0)
    with store.uow_factory() as uow:
        revoked = uow.keys.list_by_user(ann.id, limit=10, offset=0).items[1]
    assert revoked.revoked_at == NOW


def test_a_key_whose_prefix_is_taken_is_refused(store: StoreUnderTest) -> None:
    ann = make_user()
    first = issue(ann, "first")
    save(store, ann, first)
    twin = issue(ann, "twin")
    twin.prefix = first.prefix

    with store.uow_factory() as uow:
        uow.keys.add(twin)
        with pytest.raises(Conflict):
            uow.commit()
    with store.uow_factory() as uow:
        one, other = issue(ann, "one"), issue(ann, "other")
        other.prefix = one.prefix
        uow.keys.add(one)
        uow.keys.add(other)
        with pytest.raises(Conflict):
            uow.commit()

    with store.uow_factory() as uow:
        holder = uow.keys.get_by_prefix(first.prefix)
        assert holder is not None
        assert holder.id == first.id
        assert (uow.keys.get(twin.id), uow.keys.get(one.id), uow.keys.get(other.id)) == (None, None, None)
        assert uow.keys.list_by_user(ann.id, limit=10, offset=0).total == 1


def test_a_keys_holder_comes_back_with_the_key_in_one_read(store: StoreUnderTest) -> None:
    """`holder`: what every API request reads. Both halves come whole (every field, the key's
    revocation and the user's flags included), as the same objects the unit of work's other reads give."""
    ann = make_user()
    bob = make_user("bob@example.com")
    anns, _ = ApiKey.issue(team_id=ann.team_id, user_id=ann.id, name="laptop", now=NOW)
    bobs, _ = ApiKey.issue(team_id=bob.team_id, user_id=bob.id, name="ci", now=NOW)
    save(store, ann, bob, anns, bobs)
    with store.uow_factory() as uow:
        revoked = uow.keys.get(bobs.id)
        assert revoked is not None
        revoked.revoke(NOW + timedelta(minutes=1))
        uow.commit()

    with store.uow_factory() as uow:
        found = uow.keys.holder(anns.prefix)
        assert found is not None
        key, user = found
        assert (state(key), state(user)) == (state(anns), state(ann))
        assert (uow.keys.get(anns.id), uow.users.get(ann.id)) == (key, user)  # the identity map's own
        bobs_found = uow.keys.holder(bobs.prefix)
        assert bobs_found is not None
        assert (bobs_found[0].revoked, bobs_found[1].id) == (True, bob.id)
        assert [uow.keys.holder(p) for p in ("0" * 12, "\x00", "")] == [None, None, None]

    with store.uow_factory() as uow:
        gone = uow.users.get(ann.id)
        assert gone is not None
        uow.users.remove(gone)
        assert uow.keys.holder(anns.prefix) is None  # its user removed in this unit of work


def test_a_noted_use_is_bookkeeping_a_change_to_the_key_made_meanwhile_is_not_refused(
    store: StoreUnderTest,
) -> None:
    ann = make_user()
    key, _ = ApiKey.issue(team_id=ann.team_id, user_id=ann.id, name="laptop", now=NOW)
    save(store, ann, key)

    def last_used() -> tuple[datetime | None, int]:
        with store.uow_factory() as uow:
            found = uow.keys.get(key.id)
            assert found is not None
            return found.last_used_at, found.version

    with store.uow_factory() as uow:
        uow.keys.note_use(key.id, NOW)
        # Not committed: nothing recorded.
    assert last_used() == (None, 1)

    with store.uow_factory() as uow:
        uow.keys.note_use(key.id, NOW)
        uow.keys.note_use("no-such-key", NOW)
        uow.keys.note_use("\x00", NOW)
        uow.commit()
    assert last_used() == (NOW, 1)  # the version is unchanged

    with store.uow_factory() as uow:
        uow.keys.note_use(key.id, NOW + timedelta(seconds=59))  # less than a minute after: not recorded
        uow.commit()
    assert last_used() == (NOW, 1)

    with store.uow_factory() as revoking:
        read = revoking.keys.get(key.id)
        assert read is not None
        with store.uow_factory() as using:
            using.keys.note_use(key.id, NOW + timedelta(minutes=1))
            using.commit()
        read.revoke(NOW + timedelta(minutes=2))
        revoking.commit()  # read before the use was written, and not refused for it

    with store.uow_factory() as uow:
        revoked = uow.keys.get(key.id)
    assert revoked is not None
    assert (revoked.revoked_at, revoked.version) == (NOW + timedelta(minutes=2), 2)


def test_a_key_for_a_user_who_does_not_exist_is_refused(store: StoreUnderTest) -> None:
    save(store, make_team(team_id=TEAM_ID))
    ghost = make_user()  # never stored
    key = issue(ghost)

    with store.uow_factory() as uow:
        uow.keys.add(key)
        with pytest.raises(NotFound) as raised:
            uow.commit()

    assert (raised.value.entity, raised.value.entity_id) == ("user", ghost.id)
    with store.uow_factory() as uow:
        assert uow.keys.get(key.id) is None
        assert uow.keys.get_by_prefix(key.prefix) is None


def test_a_key_for_a_user_deleted_meanwhile_is_refused(store: StoreUnderTest) -> None:
    ann = make_user()
    save(store, ann)
    issuing = store.uow_factory()
    owner = issuing.users.get(ann.id)
    assert owner is not None
    key = issue(owner)
    issuing.keys.add(key)

    with store.uow_factory() as deleting:
        gone = deleting.users.get(ann.id)
        assert gone is not None
        deleting.users.remove(gone)
        deleting.commit()

    with pytest.raises(NotFound) as raised:
        issuing.commit()
    assert (raised.value.entity, raised.value.entity_id) == ("user", ann.id)
    with store.uow_factory() as uow:
        assert uow.keys.get(key.id) is None


def test_deleting_a_user_deletes_their_keys_and_no_one_elses(store: StoreUnderTest) -> None:
    ann, bob = make_user(), make_user("bob@example.com")
    anns, bobs = [issue(ann, "laptop"), issue(ann, "phone")], issue(bob)
    anns[1].revoke(NOW)
    save(store, ann, bob, *anns, bobs)

    with store.uow_factory() as uow:
        gone = uow.users.get(ann.id)
        assert gone is not None
        uow.users.remove(gone)
        uow.commit()

    with store.uow_factory() as uow:
        assert [uow.keys.get(key.id) for key in anns] == [None, None]
        assert [uow.keys.get_by_prefix(key.prefix) for key in anns] == [None, None]
        assert uow.keys.list_by_user(ann.id, limit=10, offset=0).total == 0
        kept = uow.keys.get_by_prefix(bobs.prefix)
        assert kept is not None
        assert state(kept) == state(bobs)
        assert uow.keys.list_by_user(bob.id, limit=10, offset=0).total == 1


def test_a_key_used_after_its_user_was_deleted_meanwhile_is_refused_as_not_found(
    store: StoreUnderTest,
) -> None:
    ann = make_user()
    key = issue(ann)
    save(store, ann, key)
    using = store.uow_factory()
    used = using.keys.get(key.id)
    assert used is not None
    used.last_used_at = NOW + timedelta(minutes=5)

    with store.uow_factory() as deleting:
        gone = deleting.users.get(ann.id)
        assert gone is not None
        deleting.users.remove(gone)
        deleting.commit()

    with pytest.raises(NotFound) as raised:
        using.commit()
    assert (raised.value.entity, raised.value.entity_id) == ("key", key.id)


# -- the audit trail --------------------------------------------------------------------------------------


def record(
    team_id: str,
    minute: int,
    *,
    actor: str | None = "ann",
    target: str = "user-1",
    action: str = "user.updated",
    changes: Changes | None = None,
) -> AuditEntry:
    return AuditEntry.record(
        at=NOW + timedelta(minutes=minute),
        team_id=team_id,
        actor_user_id=actor,
        actor_key_id=None if actor is None else f"key-of-{actor}",
        action=action,
        target_type=action.partition(".")[0],
        target_id=target,
        request_id=None if actor is None else f"request-{minute}",
        changes=changes if changes is not None else {"name": [f"Name {minute}", f"Name {minute + 1}"]},
    )


def test_audit_entries_are_one_teams_newest_first_with_every_filter_and_exact_totals(
    store: StoreUnderTest,
) -> None:
    entries = [
        record(OURS, 0, action="user.created", target="user-1"),
        record(OURS, 1, actor="bob", action="reminder.created", target="reminder-1"),
        record(OURS, 2, target="user-1"),
        record(THEIRS, 2, target="user-1"),
        record(OURS, 3, actor="bob", action="reminder.updated", target="reminder-1"),
        record(OURS, 4, actor=None, action="team.webhook_secret_rotated", target=OURS),
        record(OURS, 5, target="user-2"),
    ]
    save(store, *entries[:3])
    save(store, *entries[3:])
    e0, e1, e2, theirs, e3, e4, e5 = entries

    def page(team_id: str = OURS, **filters: Any) -> tuple[list[str], int]:
        with store.uow_factory() as uow:
            found = uow.audit.list(team_id=team_id, **{"limit": 10, "offset": 0, **filters})
        return [entry.id for entry in found.items], found.total

    def ids(*chosen: AuditEntry) -> list[str]:
        return [entry.id for entry in chosen]

    def at(minute: int) -> datetime:
        return NOW + timedelta(minutes=minute)

    assert page() == (ids(e5, e4, e3, e2, e1, e0), 6)
    assert page(limit=2, offset=1) == (ids(e4, e3), 6)
    assert page(offset=6) == ([], 6)
    assert page(actor_id="bob") == (ids(e3, e1), 2)
    assert page(target_id="user-1") == (ids(e2, e0), 2)
    assert page(action="reminder.updated") == (ids(e3), 1)
    assert page(since=at(3)) == (ids(e5, e4, e3), 3)  # inclusive
    assert page(until=at(2)) == (ids(e1, e0), 2)  # exclusive
    # The same instants written in another offset.
    assert page(since=at(1).astimezone(timezone(timedelta(hours=9))), until=at(3)) == (ids(e2, e1), 2)
    assert page(actor_id="ann", target_id="user-1", since=at(1)) == (ids(e2), 1)
    assert page(actor_id="ann", action="reminder.created") == ([], 0)
    assert page(THEIRS) == (ids(theirs), 1)
    assert page("no-such-team") == ([], 0)
    assert page(actor_id="\x00") == ([], 0)


def test_an_audit_entry_comes_back_with_every_field_and_its_changes_unchanged(store: StoreUnderTest) -> None:
    changes: Changes = {
        "name": ["Ann", 'Ann — ünïcödé "quoted" {braces} \\ back'],
        "active": [True, False],
        "weekdays": [[0, 3, 6], []],
        "target": ["[redacted]", "[redacted]"],
        "date": [None, "2026-12-24"],
        "retries": [0, 2.5],
        "nested": [{"a": {"b": [1, None, "c"]}}, {}],
    }
    by_someone = record(OURS, 1, changes=changes)
    by_the_system = record(OURS, 2, actor=None, action="team.created", target=OURS, changes={})
    save(store, by_someone, by_the_system)

    with store.uow_factory() as uow:
        found = uow.audit.list(team_id=OURS, limit=10, offset=0).items
    assert [state(entry) for entry in found] == [state(by_the_system), state(by_someone)]
    newest, oldest = found
    assert oldest.changes == changes
    assert (newest.actor_user_id, newest.actor_key_id, newest.request_id, newest.changes) == (
        None,
        None,
        None,
        {},
    )
    assert oldest.at.utcoffset() == timedelta(0)


# -- deliveries within teams ------------------------------------------------------------------------------


def opened(reminder: Reminder | None, day: int, *, team_id: str = OURS, status: str = "pending") -> Delivery:
    """A delivery of `reminder`'s slot `day`; of a reminder long gone (no owner) when None."""
    return Delivery.open(
        reminder_id="gone" if reminder is None else reminder.id,
        team_id=team_id if reminder is None else reminder.team_id,
        owner_id=None if reminder is None else reminder.owner_id,
        channel="log",
        scheduled_for=NOW + timedelta(days=day),
        now=NOW,
        missed=status == "missed",
    )


def test_delivery_pages_are_scoped_by_team_and_owner_with_exact_totals(store: StoreUnderTest) -> None:
    ann, bob, cid = (
        member("ann@example.com", OURS),
        member("bob@example.com", OURS),
        member("cid@x.org", THEIRS),
    )
    anns, bobs, cids = make_reminder(ann), make_reminder(bob), make_reminder(cid)
    rows = [
        opened(anns, 0),
        opened(bobs, 1),
        opened(cids, 2),
        opened(anns, 3, status="missed"),
        opened(None, 4),
        opened(anns, 5),
        opened(bobs, 6, status="missed"),
    ]
    save(store, ann, bob, cid, anns, bobs, cids, *rows)
    a0, b1, c2, a3, gone, a5, b6 = rows

    def page(**filters: Any) -> tuple[list[str], int]:
        with store.uow_factory() as uow:
            found = uow.deliveries.list(**{"limit": 10, "offset": 0, **filters})
        return [d.id for d in found.items], found.total

    def ids(*chosen: Delivery) -> list[str]:
        return [d.id for d in chosen]

    assert page(team_id=OURS) == (ids(b6, a5, gone, a3, b1, a0), 6)
    assert page(team_id=OURS, limit=2, offset=1) == (ids(a5, gone), 6)
    assert page(team_id=OURS, owner_id=ann.id) == (ids(a5, a3, a0), 3)
    assert page(team_id=OURS, owner_id=bob.id, status=DeliveryStatus.MISSED) == (ids(b6), 1)
    assert page(team_id=OURS, reminder_id="gone") == (ids(gone), 1)
    assert page(team_id=THEIRS) == (ids(c2), 1)
    assert page(team_id=THEIRS, owner_id=ann.id) == ([], 0)
    assert page(owner_id=ann.id) == (ids(a5, a3, a0), 3)
    assert page(team_id="no-such-team") == ([], 0)
    assert page(team_id="\x00") == ([], 0)
    assert page(owner_id="\x00") == ([], 0)
    with store.uow_factory() as uow:
        back = uow.deliveries.get(gone.id)
    assert back is not None
    assert (back.team_id, back.owner_id) == (OURS, None)


# -- text no store can hold -------------------------------------------------------------------------------


def test_a_nul_character_matches_no_team_user_key_or_audit_entry(store: StoreUnderTest) -> None:
    ann = make_user()
    save(store, ann, issue(ann), record(TEAM_ID, 0))

    with store.uow_factory() as uow:
        assert uow.teams.get(TEAM_ID + "\x00") is None
        assert uow.teams.get_many([TEAM_ID + "\x00"]) == {}
        assert uow.users.list(team_id=TEAM_ID + "\x00", limit=10, offset=0).total == 0
        assert uow.keys.get("k\x00") is None
        assert uow.keys.list_by_user(ann.id + "\x00", limit=10, offset=0).total == 0
        assert uow.audit.list(team_id=TEAM_ID + "\x00", limit=10, offset=0).total == 0
        assert uow.audit.list(team_id=TEAM_ID, limit=10, offset=0, target_id="\x00").total == 0
        assert uow.audit.list(team_id=TEAM_ID, limit=10, offset=0, action="user.\x00").total == 0
        assert uow.audit.list(team_id=TEAM_ID, limit=10, offset=0).total == 1
