"""How long a web session and a sign-in link work: a session for a week at most and a day unused,
until its person signs out; a link once, within a quarter of an hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import DomainError, SignInLinkRefused
from domain.sign_in_link import SIGN_IN_LINK_LIFETIME, SignInLink
from domain.web_session import SEEN_EVERY, SESSION_IDLE, SESSION_LIFETIME, WebSession

T = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def started() -> WebSession:
    return WebSession.start(token_hash="a" * 64, user_id="user-1", team_id="team-1", now=T)


def issued() -> SignInLink:
    return SignInLink.issue(token_hash="b" * 64, user_id="user-1", team_id="team-1", now=T)


def test_a_started_session_is_live_and_keeps_only_the_tokens_hash() -> None:
    session = started()

    assert (session.token_hash, session.user_id, session.team_id) == ("a" * 64, "user-1", "team-1")
    assert (session.created_at, session.last_seen_at, session.expires_at) == (T, T, T + SESSION_LIFETIME)
    assert session.ended_at is None
    assert session.live(T)
    assert started().id != session.id


def test_a_session_unused_for_a_day_is_over() -> None:
    session = started()

    assert session.live(T + SESSION_IDLE - TICK)
    assert not session.live(T + SESSION_IDLE)


def test_each_use_keeps_a_session_going_but_never_past_its_week() -> None:
    session = started()
    now = T
    while now + SESSION_IDLE / 2 < T + SESSION_LIFETIME:
        now += SESSION_IDLE / 2
        assert session.live(now)
        session.seen(now)

    assert session.live(T + SESSION_LIFETIME - TICK)
    assert not session.live(T + SESSION_LIFETIME)


def test_a_use_is_written_down_at_most_every_few_minutes() -> None:
    session = started()

    assert not session.seen(T + SEEN_EVERY - TICK)
    assert session.last_seen_at == T
    assert session.seen(T + SEEN_EVERY)
    assert session.last_seen_at == T + SEEN_EVERY
    assert not session.seen(T + SEEN_EVERY + TICK)


def test_signing_out_ends_a_session_once() -> None:
    session = started()
    out = T + timedelta(minutes=10)

    session.end(out)
    session.end(out + timedelta(minutes=1))

    assert session.ended_at == out
    assert not session.live(out)


def test_a_link_is_spent_by_its_first_use() -> None:
    link = issued()
    assert (link.created_at, link.expires_at, link.used_at) == (T, T + SIGN_IN_LINK_LIFETIME, None)
    assert link.live(T)

    link.use(T + timedelta(minutes=1))

    assert link.used_at == T + timedelta(minutes=1)
    assert not link.live(T + timedelta(minutes=1))
    with pytest.raises(SignInLinkRefused) as refused:
        link.use(T + timedelta(minutes=2))
    assert refused.value.used is True
    assert "already used" in refused.value.message
    assert link.used_at == T + timedelta(minutes=1)


def test_a_link_expires_after_a_quarter_of_an_hour() -> None:
    link = issued()

    with pytest.raises(SignInLinkRefused) as refused:
        link.use(T + SIGN_IN_LINK_LIFETIME)

    assert refused.value.used is False
    assert "expired" in refused.value.message
    assert isinstance(refused.value, DomainError)
    assert link.used_at is None
    issued().use(T + SIGN_IN_LINK_LIFETIME - TICK)  # the moment before still works


def test_a_used_link_says_so_even_after_it_expired() -> None:
    link = issued()
    link.use(T)

    with pytest.raises(SignInLinkRefused) as refused:
        link.use(T + SIGN_IN_LINK_LIFETIME + timedelta(hours=1))

    assert refused.value.used is True
