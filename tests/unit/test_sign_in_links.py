"""Signing in to the web app with a link mailed to the person's address: one link per matching active
user, once, within 15 minutes, at most three waiting; the answer never says whether the address is
known, and a failed mail is only logged, never with the link in it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import pytest

from adapters.local_signals import LocalSignals
from adapters.log_channel import LogChannel
from adapters.memory import MemoryStore, MemoryUnitOfWork
from application.channels import ChannelError, TransientChannelError
from application.commands import (
    CreateUser,
    EndWebSession,
    RedeemSignInLink,
    SendSignInLinks,
    UpdateUser,
    UserPatch,
)
from application.handlers.web_sessions import NOT_SET_UP, WebSessionStarted
from application.metrics import NoMetrics
from application.retry_policy import RetryPolicy
from application.sign_in_mail import SignInMailer
from application.web_sessions import resolve_session
from domain.actor import Actor
from domain.errors import Conflict, SignInLinkRefused, StaleVersion, Unauthorized
from domain.roles import Role
from domain.user import User
from entrypoints.bootstrap import Service, bootstrap
from tests.fakes import FixedClock, admin, new_team
from tests.unit.people import Person, join, trail

BASE = "https://reminders.example.com"
LINK_PREFIX = f"{BASE}/app/sign-in/link/"


@dataclass
class Letter:
    to_name: str
    to_email: str
    team_name: str
    url: str
    minutes: int

    @property
    def token(self) -> str:
        assert self.url.startswith(LINK_PREFIX)
        return self.url.removeprefix(LINK_PREFIX)


@dataclass
class RecordingMailer:
    letters: list[Letter] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def send(self, *, to_name: str, to_email: str, team_name: str, url: str, minutes: int) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.letters.append(Letter(to_name, to_email, team_name, url, minutes))


class Gate:
    """Holds every commit at a barrier while set, so two commands both read before either writes."""

    def __init__(self) -> None:
        self.barrier: threading.Barrier | None = None


class GatedUnitOfWork(MemoryUnitOfWork):
    def __init__(self, store: MemoryStore, gate: Gate) -> None:
        super().__init__(store)
        self._gate = gate

    def commit(self) -> None:
        if self._gate.barrier is not None:
            self._gate.barrier.wait(timeout=5)
        super().commit()


def mailing_service(clock: FixedClock, mailer: SignInMailer | None, gate: Gate | None = None) -> Service:
    store = MemoryStore()
    held = gate or Gate()
    return bootstrap(
        uow_factory=lambda: GatedUnitOfWork(store, held),
        clock=clock,
        channels={"log": LogChannel()},
        signals=LocalSignals(),
        metrics=NoMetrics(),
        retry_policy=RetryPolicy(attempts=4, base_seconds=0, max_seconds=0),
        sign_in_mailer=mailer,
    )


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def service(clock: FixedClock, mailer: RecordingMailer, gate: Gate) -> Service:
    return mailing_service(clock, mailer, gate)


def ask(service: Service, email: str = "ann@example.com", base_url: str = BASE) -> None:
    assert service.bus.handle(SendSignInLinks(email=email, base_url=base_url)) is None


def redeem(service: Service, token: str) -> WebSessionStarted:
    started: WebSessionStarted = service.bus.handle(RedeemSignInLink(token=token))
    return started


def test_without_a_mailer_sign_in_by_email_is_not_set_up(clock: FixedClock) -> None:
    service = mailing_service(clock, None)
    join(service, "ann@example.com")

    with pytest.raises(Conflict) as refused:
        ask(service)
    assert refused.value.message == NOT_SET_UP


def test_a_link_is_mailed_to_the_person_with_that_address(
    service: Service, mailer: RecordingMailer, ann: Person
) -> None:
    ask(service)

    [letter] = mailer.letters
    assert (letter.to_name, letter.to_email, letter.team_name, letter.minutes) == (
        "Ann",
        "ann@example.com",
        "Test team",
        15,
    )
    assert letter.url.startswith(LINK_PREFIX)
    assert len(letter.token) >= 43  # 256 random bits


def test_the_base_url_may_end_with_a_slash(service: Service, mailer: RecordingMailer, ann: Person) -> None:
    ask(service, base_url=BASE + "/")

    assert mailer.letters[0].url.startswith(LINK_PREFIX)
    assert "//app" not in mailer.letters[0].url


def test_every_active_user_with_the_address_gets_a_link_of_their_own(
    service: Service, mailer: RecordingMailer, ann: Person
) -> None:
    other = new_team(service, name="Other team", admin_email="Ann@Example.com")
    third = new_team(service, name="Third team", admin_email="third@example.com")
    boss = Actor(user_id=third.admin.id, team_id=third.team.id, role=Role.ADMIN)
    gone: User = service.bus.handle(CreateUser(actor=boss, name="Old Ann", email="ann@example.com"))
    service.bus.handle(UpdateUser(actor=boss, user_id=gone.id, changes=UserPatch(active=False)))

    ask(service, "ANN@example.COM")

    assert sorted((letter.team_name, letter.to_email) for letter in mailer.letters) == [
        ("Other team", other.admin.email),
        ("Test team", "ann@example.com"),
    ]
    tokens = {letter.token for letter in mailer.letters}
    assert len(tokens) == 2
    signed_in = {redeem(service, token).user_id for token in tokens}
    assert signed_in == {ann.user.id, other.admin.id}


def test_an_unknown_address_gets_no_link_and_the_same_answer(
    service: Service, mailer: RecordingMailer
) -> None:
    join(service, "ann@example.com")

    ask(service, "nobody@example.com")

    assert mailer.letters == []


def test_a_deactivated_user_gets_no_link(service: Service, mailer: RecordingMailer, ann: Person) -> None:
    service.bus.handle(UpdateUser(actor=admin(service), user_id=ann.user.id, changes=UserPatch(active=False)))

    ask(service)

    assert mailer.letters == []


def test_a_link_signs_its_person_in_once(service: Service, mailer: RecordingMailer, ann: Person) -> None:
    ask(service)
    token = mailer.letters[0].token

    started = redeem(service, token)

    signed_in = resolve_session(service.uow_factory, started.token, now=service.clock.now())
    assert signed_in is not None
    assert (signed_in.user.id, signed_in.actor.user_id, signed_in.actor.key_id) == (
        ann.user.id,
        ann.user.id,
        None,
    )
    assert started.token != token  # the cookie's token is not the link's
    with pytest.raises(SignInLinkRefused) as refused:
        redeem(service, token)
    assert refused.value.used is True
    assert "already used" in refused.value.message


def test_redeeming_is_audited_as_the_person_starting_a_session(
    service: Service, mailer: RecordingMailer, ann: Person
) -> None:
    ask(service)
    token = mailer.letters[0].token

    started = redeem(service, token)
    service.bus.handle(EndWebSession(token=started.token))

    entries = [entry for entry in trail(service) if entry.target_type == "session"]
    assert [(e.action, e.target_id, e.actor_user_id, e.actor_key_id) for e in entries] == [
        ("session.start", started.session_id, ann.user.id, None),
        ("session.end", started.session_id, ann.user.id, None),
    ]


def test_a_link_expires_after_fifteen_minutes(
    service: Service, clock: FixedClock, mailer: RecordingMailer, ann: Person
) -> None:
    ask(service)
    clock.advance(minutes=1)
    ask(service)
    early, late = (letter.token for letter in mailer.letters)

    clock.advance(minutes=14)
    with pytest.raises(SignInLinkRefused) as refused:
        redeem(service, early)
    assert refused.value.used is False
    assert "expired" in refused.value.message
    assert redeem(service, late).user_id == ann.user.id  # 14 minutes old: still good


def test_an_unknown_token_is_refused(service: Service, ann: Person) -> None:
    with pytest.raises(Unauthorized):
        redeem(service, "not-a-link-token")


def test_a_link_of_a_user_deactivated_since_is_refused(
    service: Service, mailer: RecordingMailer, ann: Person
) -> None:
    ask(service)
    service.bus.handle(UpdateUser(actor=admin(service), user_id=ann.user.id, changes=UserPatch(active=False)))

    with pytest.raises(Unauthorized):
        redeem(service, mailer.letters[0].token)


def test_at_most_three_links_wait_at_once(
    service: Service, clock: FixedClock, mailer: RecordingMailer, ann: Person
) -> None:
    for _ in range(5):
        ask(service)
    assert len(mailer.letters) == 3

    redeem(service, mailer.letters[0].token)  # a used link waits no more
    ask(service)
    ask(service)
    assert len(mailer.letters) == 4

    clock.advance(minutes=15)  # nor does an expired one
    ask(service)
    assert len(mailer.letters) == 5


def test_the_cap_is_per_person(service: Service, mailer: RecordingMailer, ann: Person) -> None:
    new_team(service, name="Other team", admin_email="ann@example.com")
    for _ in range(4):
        ask(service)

    assert sorted(letter.team_name for letter in mailer.letters) == ["Other team"] * 3 + ["Test team"] * 3


def test_a_failed_mail_is_logged_without_the_link_and_not_told_to_the_caller(
    clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="reminders.sign_in")

    class Echo:
        """A mailer whose failure quotes the link it was given, as a confused server might."""

        def __init__(self) -> None:
            self.urls: list[str] = []

        def send(self, *, to_name: str, to_email: str, team_name: str, url: str, minutes: int) -> None:
            self.urls.append(url)
            raise TransientChannelError(f"SMTP server mail.example.com answered: 451 try later ({url})")

    echo = Echo()
    failing = mailing_service(clock, echo)
    person = join(failing, "ann@example.com", name="Ann")

    ask(failing)  # no error

    [url] = echo.urls
    token = url.removeprefix(LINK_PREFIX)
    [record] = [r for r in caplog.records if r.name == "reminders.sign_in"]
    assert record.getMessage() == "a sign-in link could not be mailed"
    assert record.user_id == person.user.id  # type: ignore[attr-defined]
    assert "451 try later" in record.error  # type: ignore[attr-defined]
    assert all(token not in str(value) for value in vars(record).values())
    assert token not in caplog.text
    assert redeem(failing, token).user_id == person.user.id  # the link was made; only the mail failed


def test_a_mailer_that_breaks_outright_is_logged_too(
    clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    mailer = RecordingMailer(failures=[RuntimeError("boom"), ChannelError("refused")])
    service = mailing_service(clock, mailer)
    new_team(service, name="Other team", admin_email="ann@example.com")
    join(service, "ann@example.com")

    ask(service)  # two links, two failures: the caller hears nothing of them

    assert sorted(r.levelname for r in caplog.records if r.name == "reminders.sign_in") == [
        "ERROR",
        "WARNING",
    ]


def test_two_redeeming_one_link_at_once_start_exactly_one_session(
    service: Service, gate: Gate, mailer: RecordingMailer, ann: Person
) -> None:
    ask(service)
    token = mailer.letters[0].token
    results: list[WebSessionStarted | Exception] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            outcome: WebSessionStarted | Exception = redeem(service, token)
        except Exception as error:
            outcome = error
        with lock:
            results.append(outcome)

    gate.barrier = threading.Barrier(2)  # both have read the unused link before either commits
    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    gate.barrier = None

    started = [result for result in results if isinstance(result, WebSessionStarted)]
    refused = [result for result in results if isinstance(result, SignInLinkRefused)]
    assert (len(started), len(refused)) == (1, 1), results
    assert refused[0].used is True
    assert isinstance(refused[0].__context__, StaleVersion)  # the commit lost the race, not the read
    assert resolve_session(service.uow_factory, started[0].token, now=service.clock.now()) is not None
