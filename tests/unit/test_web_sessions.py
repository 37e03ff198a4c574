"""Web app sessions started with an API key: who they sign in, how they end, and what they never do
(act on the JSON API, or keep working for a deactivated user or once their key is revoked)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pytest

from application.authentication import authenticate
from application.commands import (
    DeleteUser,
    EndWebSession,
    RedeemSignInLink,
    RevokeApiKey,
    SendSignInLinks,
    StartWebSession,
    UpdateUser,
    UserPatch,
)
from application.handlers.web_sessions import WebSessionStarted
from application.web_sessions import SignedIn, resolve_session, token_hash
from domain.errors import LastAdmin, Unauthorized
from domain.roles import Role
from domain.web_session import WebSession
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, admin, make_service, team_of
from tests.unit.people import Person, issue_key, join, trail

REFUSED = "a valid API key is required: send Authorization: Bearer <key>"


def start(service: Service, key: str) -> WebSessionStarted:
    started: WebSessionStarted = service.bus.handle(StartWebSession(api_key=key))
    return started


def resolve(service: Service, token: str) -> SignedIn | None:
    return resolve_session(service.uow_factory, token, now=service.clock.now())


def deactivate(service: Service, person: Person) -> None:
    service.bus.handle(
        UpdateUser(actor=admin(service), user_id=person.user.id, changes=UserPatch(active=False))
    )


def reactivate(service: Service, person: Person) -> None:
    service.bus.handle(
        UpdateUser(actor=admin(service), user_id=person.user.id, changes=UserPatch(active=True))
    )


def test_a_valid_key_starts_a_session_that_signs_in_its_user(service: Service, ann: Person) -> None:
    started = start(service, ann.key)
    signed_in = resolve(service, started.token)

    assert signed_in is not None
    assert (signed_in.user.id, signed_in.team.id, signed_in.session_id) == (
        ann.user.id,
        ann.user.team_id,
        started.session_id,
    )
    assert started.user_id == ann.user.id
    # The session stands for the person, not for the key it began with.
    assert (
        signed_in.actor.user_id,
        signed_in.actor.team_id,
        signed_in.actor.role,
        signed_in.actor.key_id,
    ) == (
        ann.user.id,
        ann.user.team_id,
        Role.MEMBER,
        None,
    )


def test_only_the_tokens_hash_is_stored_and_the_token_is_not_the_key(service: Service, ann: Person) -> None:
    started = start(service, ann.key)

    with service.uow_factory() as uow:
        session = uow.web_sessions.get(started.session_id)
    assert session is not None
    assert session.token_hash == hashlib.sha256(started.token.encode()).hexdigest()
    assert started.token not in json.dumps(vars(session), default=str)
    assert started.token != ann.key
    assert len(started.token) >= 43  # 256 random bits, URL-safe


def test_each_sign_in_is_a_session_of_its_own(service: Service, ann: Person) -> None:
    first, second = start(service, ann.key), start(service, ann.key)

    assert first.token != second.token
    assert first.session_id != second.session_id


@pytest.mark.parametrize("key", ["not a key", "rk_0123456789ab_" + "x" * 43, "rk_0123456789ab_" + "s" * 200])
def test_a_malformed_or_unknown_key_is_refused(service: Service, ann: Person, key: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        start(service, key)
    assert refused.value.message == REFUSED


def test_no_key_is_no_command() -> None:
    with pytest.raises(ValueError, match="at least 1 character"):
        StartWebSession(api_key="")


def test_the_key_is_kept_out_of_the_commands_repr() -> None:
    assert "rk_0123456789ab_secret" not in repr(StartWebSession(api_key="rk_0123456789ab_secret"))


def test_a_revoked_key_is_refused_as_the_api_refuses_it(service: Service, ann: Person) -> None:
    service.bus.handle(RevokeApiKey(actor=ann.actor, key_id=ann.actor.key_id or ""))

    with pytest.raises(Unauthorized) as refused:
        start(service, ann.key)
    assert refused.value.message == REFUSED


def test_a_deactivated_users_key_is_refused(service: Service, ann: Person) -> None:
    deactivate(service, ann)

    with pytest.raises(Unauthorized) as refused:
        start(service, ann.key)
    assert refused.value.message == REFUSED


def test_signing_in_counts_as_a_use_of_the_key(service: Service, clock: FixedClock, ann: Person) -> None:
    issued = issue_key(service, ann.user, by=ann.actor)
    clock.advance(minutes=5)

    start(service, issued.plain)

    with service.uow_factory() as uow:
        key = uow.keys.get(issued.key.id)
    assert key is not None
    assert key.last_used_at == clock.now()
    # Bookkeeping, as for an API request: the key's version is unchanged, so a change to the key
    # read before the sign-in (revoking it, say) is not refused for it.
    assert key.version == issued.key.version


def test_a_session_token_is_no_api_key(service: Service, ann: Person) -> None:
    started = start(service, ann.key)

    with pytest.raises(Unauthorized):
        authenticate(service.uow_factory, started.token, now=service.clock.now())


def test_an_unknown_token_signs_nobody_in(service: Service, ann: Person) -> None:
    start(service, ann.key)

    assert resolve(service, "not-a-session-token") is None


def test_signing_out_ends_the_session_and_again_changes_nothing(service: Service, ann: Person) -> None:
    started = start(service, ann.key)
    other = start(service, ann.key)

    service.bus.handle(EndWebSession(token=started.token))
    service.bus.handle(EndWebSession(token=started.token))
    service.bus.handle(EndWebSession(token="never-a-session"))

    assert resolve(service, started.token) is None
    assert resolve(service, other.token) is not None  # another browser stays signed in


def test_starting_and_ending_a_session_are_audited_as_the_person(service: Service, ann: Person) -> None:
    started = start(service, ann.key)
    service.bus.handle(EndWebSession(token=started.token))
    service.bus.handle(EndWebSession(token=started.token))

    entries = [entry for entry in trail(service) if entry.target_type == "session"]
    assert [(e.action, e.target_id, e.actor_user_id, e.actor_key_id) for e in entries] == [
        ("session.start", started.session_id, ann.user.id, ann.actor.key_id),
        ("session.end", started.session_id, ann.user.id, None),
    ]
    assert entries[0].changes["token_hash"] == [None, "[redacted]"]
    assert "last_seen_at" not in entries[0].changes
    assert list(entries[1].changes) == ["ended_at"]
    assert started.token not in json.dumps([entry.changes for entry in entries])


def test_using_a_session_is_not_audited(service: Service, clock: FixedClock, ann: Person) -> None:
    started = start(service, ann.key)
    before = len(trail(service))
    clock.advance(hours=1)

    assert resolve(service, started.token) is not None
    assert len(trail(service)) == before


def test_a_session_ends_after_a_day_unused(service: Service, clock: FixedClock, ann: Person) -> None:
    started = start(service, ann.key)

    clock.advance(hours=23, minutes=59)
    assert resolve(service, started.token) is not None  # and that use counts
    clock.advance(hours=23, minutes=59)
    assert resolve(service, started.token) is not None
    clock.advance(hours=24)
    assert resolve(service, started.token) is None


def test_a_session_ends_a_week_after_it_began_however_busy(
    service: Service, clock: FixedClock, ann: Person
) -> None:
    started = start(service, ann.key)

    for _ in range(13):
        clock.advance(hours=12)
        assert resolve(service, started.token) is not None
    clock.advance(hours=11, minutes=59)
    assert resolve(service, started.token) is not None
    clock.advance(minutes=1)
    assert resolve(service, started.token) is None


def test_use_is_written_at_most_every_five_minutes(service: Service, clock: FixedClock, ann: Person) -> None:
    started = start(service, ann.key)

    def last_seen() -> object:
        with service.uow_factory() as uow:
            session = uow.web_sessions.get(started.session_id)
        assert session is not None
        return session.last_seen_at

    began = clock.now()
    clock.advance(minutes=4)
    resolve(service, started.token)
    assert last_seen() == began
    clock.advance(minutes=2)
    resolve(service, started.token)
    assert last_seen() == clock.now()


def test_a_deactivated_users_session_signs_nobody_in(service: Service, ann: Person) -> None:
    started = start(service, ann.key)

    deactivate(service, ann)

    assert resolve(service, started.token) is None


def test_reactivating_a_user_does_not_bring_back_their_sessions(
    service: Service, ann: Person, bob: Person
) -> None:
    started, bobs = start(service, ann.key), start(service, bob.key)

    deactivate(service, ann)
    reactivate(service, ann)

    assert resolve(service, started.token) is None
    assert resolve(service, bobs.token) is not None  # only hers ended
    assert resolve(service, start(service, ann.key).token) is not None  # she signs in afresh


def test_a_session_that_raced_the_deactivation_ends_at_the_reactivation(
    service: Service, clock: FixedClock, ann: Person
) -> None:
    deactivate(service, ann)
    # As a sign-in that read her as active just before the deactivation committed would leave it.
    token = "raced-" + "x" * 40
    with service.uow_factory() as uow:
        uow.web_sessions.add(
            WebSession.start(
                token_hash=token_hash(token), user_id=ann.user.id, team_id=ann.user.team_id, now=clock.now()
            )
        )
        uow.commit()

    reactivate(service, ann)

    assert resolve(service, token) is None


def test_deactivating_a_user_ends_each_live_session_audited_as_the_admin(
    service: Service, ann: Person
) -> None:
    first, second, signed_out = start(service, ann.key), start(service, ann.key), start(service, ann.key)
    service.bus.handle(EndWebSession(token=signed_out.token))
    before = len(trail(service))

    deactivate(service, ann)

    entries = trail(service)[before:]
    assert sorted((e.action, e.target_id, e.actor_user_id) for e in entries) == sorted(
        [
            ("user.deactivated", ann.user.id, admin(service).user_id),
            ("session.end", first.session_id, admin(service).user_id),
            ("session.end", second.session_id, admin(service).user_id),
        ]
    )
    assert len({entry.at for entry in entries}) == 1


def test_a_refused_deactivation_leaves_the_sessions_alone(service: Service) -> None:
    boss = team_of(service)
    started = start(service, boss.issued.plain)

    with pytest.raises(LastAdmin):
        service.bus.handle(
            UpdateUser(actor=admin(service), user_id=boss.admin.id, changes=UserPatch(active=False))
        )

    assert resolve(service, started.token) is not None


def test_a_session_acts_with_the_users_role_as_it_is_now(service: Service, ann: Person) -> None:
    started = start(service, ann.key)

    service.bus.handle(
        UpdateUser(actor=admin(service), user_id=ann.user.id, changes=UserPatch(role=Role.ADMIN))
    )

    signed_in = resolve(service, started.token)
    assert signed_in is not None
    assert signed_in.actor.role is Role.ADMIN


def test_an_admin_signs_in_to_their_own_team(service: Service, bob: Person) -> None:
    boss = team_of(service)
    started = start(service, boss.issued.plain)

    signed_in = resolve(service, started.token)
    assert signed_in is not None
    assert (signed_in.actor.role, signed_in.team.id, signed_in.team.name) == (
        Role.ADMIN,
        boss.team.id,
        boss.team.name,
    )


def test_a_deleted_users_sessions_go_with_them(service: Service) -> None:
    carl = join(service, "carl@example.com", name="Carl")
    started = start(service, carl.key)

    service.bus.handle(DeleteUser(actor=admin(service), user_id=carl.user.id))

    assert resolve(service, started.token) is None
    service.bus.handle(EndWebSession(token=started.token))  # signing out afterwards is harmless


def test_revoking_the_key_a_session_began_with_ends_that_session(service: Service, ann: Person) -> None:
    started = start(service, ann.key)
    spare = issue_key(service, ann.user, by=ann.actor)
    by_spare = start(service, spare.plain)
    assert resolve(service, started.token) is not None

    service.bus.handle(RevokeApiKey(actor=admin(service), key_id=ann.actor.key_id or ""))

    assert resolve(service, started.token) is None
    assert resolve(service, started.token) is None  # and stays ended
    # Sessions begun with her other key are not that key's: she stays signed in there.
    assert resolve(service, by_spare.token) is not None
    with service.uow_factory() as uow:
        session = uow.web_sessions.get(started.session_id)
    assert session is not None
    assert session.key_id == ann.actor.key_id


def test_a_session_whose_key_is_gone_or_not_its_users_signs_nobody_in(
    service: Service, ann: Person, bob: Person
) -> None:
    tokens = {"gone": "token-of-a-session-whose-key-is-gone", "bobs": "token-of-a-session-with-bobs-key"}
    with service.uow_factory() as uow:
        for name, key_id in (("gone", "no-such-key"), ("bobs", bob.actor.key_id)):
            uow.web_sessions.add(
                WebSession.start(
                    token_hash=token_hash(tokens[name]),
                    user_id=ann.user.id,
                    team_id=ann.user.team_id,
                    now=service.clock.now(),
                    key_id=key_id,
                )
            )
        uow.commit()

    assert resolve(service, tokens["gone"]) is None
    assert resolve(service, tokens["bobs"]) is None


@dataclass
class Postbox:
    """A sign-in mailer that keeps the links it is given."""

    urls: list[str] = field(default_factory=list)

    def send(self, *, to_name: str, to_email: str, team_name: str, url: str, minutes: int) -> None:
        self.urls.append(url)


def test_a_session_begun_with_a_link_outlives_the_revoking_of_every_key(clock: FixedClock) -> None:
    postbox = Postbox()
    service = make_service(clock=clock, sign_in_mailer=postbox)
    ann = join(service, "ann@example.com", name="Ann")
    service.bus.handle(SendSignInLinks(email=ann.user.email, base_url="https://reminders.example.com"))
    [url] = postbox.urls
    by_link: WebSessionStarted = service.bus.handle(RedeemSignInLink(token=url.rsplit("/", 1)[1]))
    by_key = start(service, ann.key)

    # Her own key, and the admin's: every key of the team.
    for key_id in (ann.actor.key_id, admin(service).key_id):
        service.bus.handle(RevokeApiKey(actor=admin(service), key_id=key_id or ""))

    signed_in = resolve(service, by_link.token)
    assert signed_in is not None
    assert signed_in.user.id == ann.user.id
    assert resolve(service, by_key.token) is None
    with service.uow_factory() as uow:
        session = uow.web_sessions.get(by_link.session_id)
    assert session is not None
    assert session.key_id is None


def test_a_link_mailed_before_a_deactivation_does_not_work_after_the_reactivation(clock: FixedClock) -> None:
    postbox = Postbox()
    service = make_service(clock=clock, sign_in_mailer=postbox)
    ann = join(service, "ann@example.com", name="Ann")
    service.bus.handle(SendSignInLinks(email=ann.user.email, base_url="https://reminders.example.com"))
    [old_url] = postbox.urls

    deactivate(service, ann)
    reactivate(service, ann)

    with pytest.raises(Unauthorized):
        service.bus.handle(RedeemSignInLink(token=old_url.rsplit("/", 1)[1]))
    # Gone, the old link no longer counts against the links she may have waiting.
    with service.uow_factory() as uow:
        assert uow.sign_in_links.count_live_for(ann.user.id, clock.now()) == 0
    service.bus.handle(SendSignInLinks(email=ann.user.email, base_url="https://reminders.example.com"))
    new_url = postbox.urls[-1]
    started: WebSessionStarted = service.bus.handle(RedeemSignInLink(token=new_url.rsplit("/", 1)[1]))
    assert resolve(service, started.token) is not None
