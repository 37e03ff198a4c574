"""The store contract for the web app: sessions, sign-in links, users found by email and the status
page's hourly counts. Every store (memory, SQLite, PostgreSQL) behaves the same.

Sessions and links by their token's hash (unique), every field back (a session's key or none), the
finished or expired ones found for retention within a limit and removed, and both deleted with their
user; a user's live sessions and links found (to end them on deactivation) and their live links
counted; a user's address found in every team whatever its case; a team's deliveries counted by the
UTC hour they were due and their status.
"""

from __future__ import annotations

import itertools
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from application.repositories import HourlyCount
from domain.aggregate import Aggregate
from domain.delivery import Attempt, Delivery, DeliveryStatus
from domain.errors import Conflict, NotFound, StaleVersion
from domain.reminder import Reminder
from domain.sign_in_link import SIGN_IN_LINK_LIFETIME, SignInLink
from domain.user import User
from domain.web_session import SEEN_EVERY, SESSION_IDLE, SESSION_LIFETIME, WebSession
from tests.builders import NOW, TEAM_ID, make_reminder, make_user, save
from tests.stores import KINDS, MakeStore, StoreUnderTest

OTHER_TEAM = "team-2"
_tokens = itertools.count(1)


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, make_store: MakeStore) -> StoreUnderTest:
    return make_store(request.param)


@pytest.fixture
def ann(store: StoreUnderTest) -> User:
    user = make_user("ann@example.com")
    save(store, user)
    return user


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {f.name: getattr(aggregate, f.name) for f in fields(aggregate) if f.name != "_events"}


def token_hash() -> str:
    return f"{next(_tokens):064x}"


def session_of(
    user: User, *, at: datetime = NOW, token: str | None = None, key_id: str | None = None
) -> WebSession:
    return WebSession.start(
        token_hash=token or token_hash(), user_id=user.id, team_id=user.team_id, now=at, key_id=key_id
    )


def link_of(user: User, *, at: datetime = NOW, token: str | None = None) -> SignInLink:
    return SignInLink.issue(token_hash=token or token_hash(), user_id=user.id, team_id=user.team_id, now=at)


def keep(store: StoreUnderTest, *items: WebSession | SignInLink) -> None:
    with store.uow_factory() as uow:
        for item in items:
            if isinstance(item, WebSession):
                uow.web_sessions.add(item)
            else:
                uow.sign_in_links.add(item)
        uow.commit()


def ids(items: list[Any]) -> list[str]:
    return [item.id for item in items]


# -- sessions ----------------------------------------------------------------------------------------------


def test_a_session_comes_back_by_id_and_by_token_hash_with_every_field(
    store: StoreUnderTest, ann: User
) -> None:
    session = session_of(ann)
    keep(store, session)

    with store.uow_factory() as uow:
        by_id = uow.web_sessions.get(session.id)
        by_token = uow.web_sessions.get_by_token_hash(session.token_hash)
        missing = (
            uow.web_sessions.get("no-such-session"),
            uow.web_sessions.get_by_token_hash(token_hash()),
            uow.web_sessions.get_by_token_hash("nul\x00"),
        )

    assert by_id is not None
    assert by_token is by_id  # one identity map: the same object either way
    assert state(by_id) == {**state(session), "version": 1}
    assert missing == (None, None, None)


def test_the_key_a_session_began_with_comes_back_and_a_link_session_has_none(
    store: StoreUnderTest, ann: User
) -> None:
    by_key, by_link = session_of(ann, key_id="key-0123456789abcdef0123456789ab"), session_of(ann)
    keep(store, by_key, by_link)

    with store.uow_factory() as uow:
        keyed = uow.web_sessions.get_by_token_hash(by_key.token_hash)
        linked = uow.web_sessions.get(by_link.id)
        assert keyed is not None
        assert keyed.seen(NOW + SEEN_EVERY)  # an update leaves the key as it was
        uow.commit()
    with store.uow_factory() as uow:
        seen = uow.web_sessions.get(by_key.id)
        finished = uow.web_sessions.finished_before(NOW + SESSION_LIFETIME * 2, limit=10)

    assert keyed is not None
    assert linked is not None
    assert seen is not None
    assert (keyed.key_id, linked.key_id, seen.key_id) == (by_key.key_id, None, by_key.key_id)
    assert {session.id: session.key_id for session in finished} == {
        by_key.id: by_key.key_id,
        by_link.id: None,
    }


def test_seeing_and_ending_a_session_are_stored(store: StoreUnderTest, ann: User) -> None:
    session = session_of(ann)
    keep(store, session)
    later = NOW + SEEN_EVERY + timedelta(microseconds=7)

    with store.uow_factory() as uow:
        stored = uow.web_sessions.get_by_token_hash(session.token_hash)
        assert stored is not None
        assert stored.seen(later)
        uow.commit()
    with store.uow_factory() as uow:
        stored = uow.web_sessions.get(session.id)
        assert stored is not None
        assert (stored.last_seen_at, stored.ended_at, stored.version) == (later, None, 2)
        stored.end(later)
        uow.commit()
    with store.uow_factory() as uow:
        ended = uow.web_sessions.get(session.id)

    assert ended is not None
    assert (ended.ended_at, ended.version, ended.live(later)) == (later, 3, False)


def test_of_two_changes_to_one_session_at_once_the_second_is_refused(
    store: StoreUnderTest, ann: User
) -> None:
    session = session_of(ann)
    keep(store, session)
    first, second = store.uow_factory(), store.uow_factory()
    with first, second:
        one, two = first.web_sessions.get(session.id), second.web_sessions.get(session.id)
        assert one is not None
        assert two is not None
        one.end(NOW)
        two.seen(NOW + SEEN_EVERY)
        first.commit()
        with pytest.raises(StaleVersion):
            second.commit()


def test_a_session_whose_token_hash_is_taken_is_refused_and_nothing_is_stored(
    store: StoreUnderTest, ann: User
) -> None:
    taken = session_of(ann)
    keep(store, taken)

    twin = session_of(ann, token=taken.token_hash)
    with store.uow_factory() as uow:
        uow.web_sessions.add(twin)
        with pytest.raises(Conflict):
            uow.commit()
    first, second = session_of(ann, token="f" * 64), session_of(ann, token="f" * 64)
    with store.uow_factory() as uow:
        uow.web_sessions.add(first)
        uow.web_sessions.add(second)
        with pytest.raises(Conflict):
            uow.commit()

    with store.uow_factory() as uow:
        assert uow.web_sessions.get(twin.id) is None
        assert uow.web_sessions.get(first.id) is None
        assert uow.web_sessions.get(second.id) is None
        assert uow.web_sessions.get_by_token_hash("f" * 64) is None
        back = uow.web_sessions.get_by_token_hash(taken.token_hash)
        assert back is not None
        assert back.id == taken.id


def test_a_session_for_a_user_who_does_not_exist_is_refused(store: StoreUnderTest, ann: User) -> None:
    stranger = make_user("nobody@example.com")  # never stored
    with store.uow_factory() as uow:
        uow.web_sessions.add(session_of(stranger))
        with pytest.raises(NotFound) as raised:
            uow.commit()

    assert (raised.value.entity, raised.value.entity_id) == ("user", stranger.id)


def test_finished_before_is_the_sessions_ended_or_expired_before_the_moment_in_creation_order(
    store: StoreUnderTest, ann: User
) -> None:
    moment = NOW + timedelta(days=30)
    expired_long_ago = session_of(ann, at=moment - SESSION_LIFETIME - timedelta(days=2))
    live = session_of(ann, at=moment - timedelta(hours=1))
    ended_before = session_of(ann, at=moment - timedelta(days=3))
    ended_before.end(moment - timedelta(days=2))
    ended_at_the_moment = session_of(ann, at=moment - timedelta(days=3))
    ended_at_the_moment.end(moment)
    expiring_at_the_moment = session_of(ann, at=moment - SESSION_LIFETIME)
    expired_just_before = session_of(ann, at=moment - SESSION_LIFETIME - timedelta(microseconds=1))
    keep(store, expired_long_ago, live, ended_before, ended_at_the_moment, expiring_at_the_moment)
    keep(store, expired_just_before)

    with store.uow_factory() as uow:
        every = uow.web_sessions.finished_before(moment, limit=10)
        first_two = uow.web_sessions.finished_before(moment, limit=2)
        none_yet = uow.web_sessions.finished_before(NOW, limit=10)

    assert ids(every) == ids([expired_long_ago, ended_before, expired_just_before])
    assert ids(first_two) == ids([expired_long_ago, ended_before])
    assert none_yet == []


def test_a_users_live_sessions_are_those_neither_ended_expired_nor_idle(
    store: StoreUnderTest, ann: User
) -> None:
    bob = make_user("bob@example.com")
    save(store, bob)
    now = NOW + timedelta(days=10)
    nearly_idle = session_of(ann, at=now - SESSION_IDLE + timedelta(microseconds=1))
    fresh = session_of(ann, at=now - timedelta(minutes=1))
    idle = session_of(ann, at=now - SESSION_IDLE)
    ended = session_of(ann, at=now - timedelta(hours=1))
    ended.end(now - timedelta(minutes=30))
    week_old = session_of(ann, at=now - SESSION_LIFETIME)
    assert week_old.seen(now - timedelta(hours=1))  # in use, yet over: it expires now
    bobs = session_of(bob, at=now)
    keep(store, nearly_idle, fresh, idle, ended, week_old, bobs)

    with store.uow_factory() as uow:
        found = uow.web_sessions.live_for(ann.id, now)
        others = [
            uow.web_sessions.live_for(bob.id, now),
            uow.web_sessions.live_for("no-such-user", now),
            uow.web_sessions.live_for("\x00", now),
        ]
        assert found[0] is uow.web_sessions.get(nearly_idle.id)  # the unit of work's own, to change
        for session in found:
            session.end(now)
        uow.commit()
    with store.uow_factory() as uow:
        after = uow.web_sessions.live_for(ann.id, now)
        still = uow.web_sessions.live_for(bob.id, now)

    assert ids(found) == ids([nearly_idle, fresh])
    assert [ids(other) for other in others] == [[bobs.id], [], []]
    assert (after, ids(still)) == ([], [bobs.id])


def test_a_removed_session_is_gone_and_its_token_hash_free_again(store: StoreUnderTest, ann: User) -> None:
    old, kept = session_of(ann), session_of(ann)
    old.end(NOW)
    keep(store, old, kept)

    with store.uow_factory() as uow:
        for finished in uow.web_sessions.finished_before(NOW + timedelta(days=1), limit=10):
            uow.web_sessions.remove(finished)
        assert uow.web_sessions.get(old.id) is None  # gone for this unit of work at once
        uow.commit()
    with store.uow_factory() as uow:
        gone = (uow.web_sessions.get(old.id), uow.web_sessions.get_by_token_hash(old.token_hash))
        still = uow.web_sessions.get(kept.id)
        uow.web_sessions.add(session_of(ann, token=old.token_hash))
        uow.commit()

    assert gone == (None, None)
    assert still is not None


# -- sign-in links -----------------------------------------------------------------------------------------


def test_a_link_comes_back_by_token_hash_with_every_field_and_its_use_is_stored(
    store: StoreUnderTest, ann: User
) -> None:
    link = link_of(ann)
    keep(store, link)
    used_at = NOW + timedelta(minutes=3, microseconds=11)

    with store.uow_factory() as uow:
        back = uow.sign_in_links.get_by_token_hash(link.token_hash)
        missing = (
            uow.sign_in_links.get_by_token_hash(token_hash()),
            uow.sign_in_links.get_by_token_hash("\x00"),
        )
        assert back is not None
        assert state(back) == {**state(link), "version": 1}
        back.use(used_at)
        uow.commit()
    with store.uow_factory() as uow:
        used = uow.sign_in_links.get_by_token_hash(link.token_hash)

    assert missing == (None, None)
    assert used is not None
    assert (used.used_at, used.version) == (used_at, 2)


def test_of_two_uses_of_one_link_at_once_only_the_first_commit_counts(
    store: StoreUnderTest, ann: User
) -> None:
    link = link_of(ann)
    keep(store, link)
    first, second = store.uow_factory(), store.uow_factory()
    with first, second:
        one = first.sign_in_links.get_by_token_hash(link.token_hash)
        two = second.sign_in_links.get_by_token_hash(link.token_hash)
        assert one is not None
        assert two is not None
        one.use(NOW + timedelta(minutes=1))
        two.use(NOW + timedelta(minutes=2))
        first.commit()
        with pytest.raises(StaleVersion):
            second.commit()

    with store.uow_factory() as uow:
        back = uow.sign_in_links.get_by_token_hash(link.token_hash)
    assert back is not None
    assert back.used_at == NOW + timedelta(minutes=1)


def test_a_link_whose_token_hash_is_taken_is_refused(store: StoreUnderTest, ann: User) -> None:
    taken = link_of(ann)
    keep(store, taken)

    with store.uow_factory() as uow:
        uow.sign_in_links.add(link_of(ann, token=taken.token_hash))
        with pytest.raises(Conflict):
            uow.commit()
    with store.uow_factory() as uow:
        uow.sign_in_links.add(link_of(make_user("nobody@example.com")))
        with pytest.raises(NotFound):
            uow.commit()


def test_a_users_live_links_are_those_neither_used_nor_expired(store: StoreUnderTest, ann: User) -> None:
    bob = make_user("bob@example.com")
    save(store, bob)
    now = NOW + timedelta(minutes=20)
    live = [link_of(ann, at=now - timedelta(minutes=1)), link_of(ann, at=now - SIGN_IN_LINK_LIFETIME / 2)]
    used = link_of(ann, at=now - timedelta(minutes=2))
    used.use(now - timedelta(minutes=1))
    expired_now = link_of(ann, at=now - SIGN_IN_LINK_LIFETIME)
    expired = link_of(ann, at=now - timedelta(hours=1))
    bobs = link_of(bob, at=now)
    keep(store, *live, used, expired_now, expired, bobs)

    with store.uow_factory() as uow:
        counts = (
            uow.sign_in_links.count_live_for(ann.id, now),
            uow.sign_in_links.count_live_for(bob.id, now),
            uow.sign_in_links.count_live_for(ann.id, now + SIGN_IN_LINK_LIFETIME),
            uow.sign_in_links.count_live_for("no-such-user", now),
            uow.sign_in_links.count_live_for("\x00", now),
        )
        found = [
            uow.sign_in_links.live_for(ann.id, now),
            uow.sign_in_links.live_for(bob.id, now),
            uow.sign_in_links.live_for(ann.id, now + SIGN_IN_LINK_LIFETIME),
            uow.sign_in_links.live_for("no-such-user", now),
            uow.sign_in_links.live_for("\x00", now),
        ]
        assert found[0][0] is uow.sign_in_links.get_by_token_hash(live[0].token_hash)
        for link in found[0]:
            uow.sign_in_links.remove(link)
        uow.commit()
    with store.uow_factory() as uow:
        after = (uow.sign_in_links.count_live_for(ann.id, now), uow.sign_in_links.live_for(ann.id, now))
        kept = uow.sign_in_links.get_by_token_hash(used.token_hash)

    assert counts == (2, 1, 0, 0, 0)
    assert [ids(links) for links in found] == [ids(live), [bobs.id], [], [], []]
    assert after == (0, [])
    assert kept is not None


def test_links_expired_before_the_moment_are_found_earliest_first_and_removed(
    store: StoreUnderTest, ann: User
) -> None:
    moment = NOW + timedelta(days=2)
    later, earliest, middle = (
        link_of(ann, at=moment - timedelta(days=1)),
        link_of(ann, at=NOW),
        link_of(ann, at=NOW + timedelta(hours=1)),
    )
    middle.use(NOW + timedelta(hours=1, minutes=1))  # used or not, an expired link goes
    at_the_moment = link_of(ann, at=moment - SIGN_IN_LINK_LIFETIME)
    live = link_of(ann, at=moment)
    keep(store, later, earliest, middle, at_the_moment, live)

    with store.uow_factory() as uow:
        every = uow.sign_in_links.expired_before(moment, limit=10)
        first_two = uow.sign_in_links.expired_before(moment, limit=2)
        assert ids(first_two) == ids([earliest, middle])
        for link in first_two:
            uow.sign_in_links.remove(link)
        assert uow.sign_in_links.get_by_token_hash(earliest.token_hash) is None
        uow.commit()
    with store.uow_factory() as uow:
        left = uow.sign_in_links.expired_before(moment, limit=10)
        kept = [uow.sign_in_links.get_by_token_hash(link.token_hash) for link in (at_the_moment, live)]

    assert ids(every) == ids([earliest, middle, later])
    assert ids(left) == ids([later])
    assert None not in kept


def test_deleting_a_user_deletes_their_sessions_and_links_and_no_one_elses(
    store: StoreUnderTest, ann: User
) -> None:
    bob = make_user("bob@example.com")
    save(store, bob)
    anns: list[WebSession | SignInLink] = [session_of(ann), link_of(ann)]
    bobs: list[WebSession | SignInLink] = [session_of(bob), link_of(bob)]
    keep(store, *anns, *bobs)

    with store.uow_factory() as uow:
        doomed = uow.users.get(ann.id)
        assert doomed is not None
        uow.users.remove(doomed)
        uow.commit()
    with store.uow_factory() as uow:
        found = [
            uow.web_sessions.get_by_token_hash(item.token_hash)
            if isinstance(item, WebSession)
            else uow.sign_in_links.get_by_token_hash(item.token_hash)
            for item in (*anns, *bobs)
        ]
        finished = uow.web_sessions.finished_before(NOW + timedelta(days=365), limit=10)
        expired = uow.sign_in_links.expired_before(NOW + timedelta(days=365), limit=10)

    assert [item is not None for item in found] == [False, False, True, True]
    assert (ids(finished), ids(expired)) == (ids(bobs[:1]), ids(bobs[1:]))


# -- users by email ----------------------------------------------------------------------------------------


def test_an_address_is_found_in_every_team_whatever_its_case(store: StoreUnderTest) -> None:
    ours, theirs = make_user("Ann@Example.com"), make_user("ann@example.com", team_id=OTHER_TEAM)
    other = make_user("bob@example.com")
    save(store, ours, theirs, other)

    with store.uow_factory() as uow:
        found = uow.users.find_by_email("ANN@example.COM")
        lower = uow.users.find_by_email("ann@example.com")
        nobody = (
            uow.users.find_by_email("carol@example.com"),
            uow.users.find_by_email("ann\x00@example.com"),
        )

    assert ids(found) == ids(lower) == [ours.id, theirs.id]
    assert {user.team_id for user in found} == {TEAM_ID, OTHER_TEAM}
    assert nobody == ([], [])


def test_a_changed_or_deleted_address_is_no_longer_found(store: StoreUnderTest) -> None:
    moved, gone = make_user("ann@example.com"), make_user("ann@example.com", team_id=OTHER_TEAM)
    save(store, moved, gone)

    with store.uow_factory() as uow:
        user = uow.users.get(moved.id)
        leaving = uow.users.get(gone.id)
        assert user is not None
        assert leaving is not None
        user.update(email="Ann.New@example.com", now=NOW)
        uow.users.remove(leaving)
        uow.commit()
    with store.uow_factory() as uow:
        old, new = uow.users.find_by_email("ann@example.com"), uow.users.find_by_email("ann.new@example.com")

    assert (old, ids(new)) == ([], [moved.id])


# -- deliveries per hour -----------------------------------------------------------------------------------

T = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
_slots = itertools.count(1)


def delivery_of(
    reminder: Reminder, status: DeliveryStatus, *, due: datetime | None, at: datetime = T
) -> Delivery:
    """A delivery recorded at `at` for the slot `due` (None: a send-now, due when recorded), brought to
    `status`."""
    made = Delivery.open(
        reminder_id=reminder.id,
        team_id=reminder.team_id,
        owner_id=reminder.owner_id,
        channel="log",
        scheduled_for=due,
        now=at,
        missed=status is DeliveryStatus.MISSED,
    )
    if status in (DeliveryStatus.PENDING, DeliveryStatus.MISSED):
        return made
    token = made.claim("worker", at, lease=timedelta(seconds=60))
    if status is DeliveryStatus.SENT:
        made.succeed(token, Attempt(1, at, 1.0), now=at)
    elif status is DeliveryStatus.FAILED:
        made.fail(token, Attempt(1, at, 1.0, "refused"), now=at)
    return made


def test_a_teams_deliveries_are_counted_by_the_utc_hour_they_were_due_and_their_status(
    store: StoreUnderTest,
) -> None:
    owner, stranger = make_user(), make_user("zed@example.com", team_id=OTHER_TEAM)
    ours, theirs = make_reminder(owner), make_reminder(stranger)
    since = T - timedelta(hours=3)
    nine, ten, eleven = (since + timedelta(hours=n) for n in range(3))
    made = [
        # Before `since`: not counted, even when recorded later.
        delivery_of(ours, DeliveryStatus.SENT, due=since - timedelta(microseconds=1)),
        # 09:00, the first moment counted, in another offset.
        delivery_of(ours, DeliveryStatus.SENT, due=since.astimezone(timezone(timedelta(hours=5)))),
        delivery_of(ours, DeliveryStatus.SENT, due=nine + timedelta(minutes=59, seconds=59)),
        delivery_of(ours, DeliveryStatus.FAILED, due=nine + timedelta(minutes=30)),
        # 10:00: a send-now is due when it was recorded.
        delivery_of(ours, DeliveryStatus.MISSED, due=ten),
        delivery_of(ours, DeliveryStatus.PENDING, due=None, at=ten + timedelta(minutes=5)),
        delivery_of(ours, DeliveryStatus.SENT, due=None, at=ten + timedelta(minutes=6)),
        # 11:00
        delivery_of(
            ours, DeliveryStatus.SENT, due=eleven + timedelta(minutes=1), at=since - timedelta(hours=9)
        ),
        # Another team's, in the same hours: not counted.
        delivery_of(theirs, DeliveryStatus.SENT, due=nine),
        delivery_of(theirs, DeliveryStatus.FAILED, due=eleven),
    ]
    save(store, owner, stranger, ours, theirs, *made)

    with store.uow_factory() as uow:
        counts = uow.deliveries.hourly_counts(team_id=TEAM_ID, since=since)
        later = uow.deliveries.hourly_counts(team_id=TEAM_ID, since=eleven)
        theirs_counted = uow.deliveries.hourly_counts(team_id=OTHER_TEAM, since=since)
        nobody = uow.deliveries.hourly_counts(team_id="\x00", since=since)

    assert counts == [
        HourlyCount(hour=nine, status=DeliveryStatus.FAILED, count=1),
        HourlyCount(hour=nine, status=DeliveryStatus.SENT, count=2),
        HourlyCount(hour=ten, status=DeliveryStatus.MISSED, count=1),
        HourlyCount(hour=ten, status=DeliveryStatus.PENDING, count=1),
        HourlyCount(hour=ten, status=DeliveryStatus.SENT, count=1),
        HourlyCount(hour=eleven, status=DeliveryStatus.SENT, count=1),
    ]
    assert all(count.hour.tzinfo is not None and count.hour.utcoffset() == timedelta(0) for count in counts)
    assert later == [HourlyCount(hour=eleven, status=DeliveryStatus.SENT, count=1)]
    assert theirs_counted == [
        HourlyCount(hour=nine, status=DeliveryStatus.SENT, count=1),
        HourlyCount(hour=eleven, status=DeliveryStatus.FAILED, count=1),
    ]
    assert nobody == []
