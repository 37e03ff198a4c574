"""Signing in to the web app on every store: sessions by key, links by email, signing out, and two
redeeming one link at once, of whom exactly one signs in (the store's version check decides)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from adapters.local_signals import LocalSignals
from adapters.log_channel import LogChannel
from application.commands import (
    CreateTeam,
    EndWebSession,
    RedeemSignInLink,
    SendSignInLinks,
    StartWebSession,
)
from application.handlers.teams import NewTeam
from application.handlers.web_sessions import WebSessionStarted
from application.metrics import NoMetrics
from application.retry_policy import RetryPolicy
from application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.web_sessions import resolve_session
from domain.errors import SignInLinkRefused
from entrypoints.bootstrap import Service, bootstrap
from tests.fakes import FixedClock
from tests.stores import KINDS, MakeStore
from tests.unit.test_sign_in_links import BASE, RecordingMailer

Barrier = list[threading.Barrier]


def gated(factory: UnitOfWorkFactory, gate: Barrier) -> Callable[[], UnitOfWork]:
    """Units of work whose commits wait at the gate's barrier while there is one."""

    def make() -> UnitOfWork:
        uow = factory()
        commit = uow.commit

        def held() -> None:
            if gate:
                gate[0].wait(timeout=10)
            commit()

        uow.commit = held  # type: ignore[method-assign]
        return uow

    return make


def service_on(make_store: MakeStore, kind: str, mailer: RecordingMailer, gate: Barrier) -> Service:
    return bootstrap(
        uow_factory=gated(make_store(kind).uow_factory, gate),
        clock=FixedClock(),
        channels={"log": LogChannel()},
        signals=LocalSignals(),
        metrics=NoMetrics(),
        retry_policy=RetryPolicy(attempts=4, base_seconds=0, max_seconds=0),
        sign_in_mailer=mailer,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_signing_in_and_out_on_every_store(make_store: MakeStore, kind: str) -> None:
    mailer = RecordingMailer()
    service = service_on(make_store, kind, mailer, [])
    team: NewTeam = service.bus.handle(
        CreateTeam(name="Platform", admin_name="Ann", admin_email="ann@example.com")
    )
    now = service.clock.now()

    by_key: WebSessionStarted = service.bus.handle(StartWebSession(api_key=team.issued.plain))
    service.bus.handle(SendSignInLinks(email="ANN@example.com", base_url=BASE))
    [letter] = mailer.letters
    by_link: WebSessionStarted = service.bus.handle(RedeemSignInLink(token=letter.token))

    for started in (by_key, by_link):
        signed_in = resolve_session(service.uow_factory, started.token, now=now)
        assert signed_in is not None
        assert (signed_in.user.id, signed_in.team.name) == (team.admin.id, "Platform")
    with pytest.raises(SignInLinkRefused):
        service.bus.handle(RedeemSignInLink(token=letter.token))
    service.bus.handle(EndWebSession(token=by_key.token))
    assert resolve_session(service.uow_factory, by_key.token, now=now) is None
    assert resolve_session(service.uow_factory, by_link.token, now=now) is not None


@pytest.mark.parametrize("kind", KINDS)
def test_two_redeeming_one_link_at_once_start_one_session(make_store: MakeStore, kind: str) -> None:
    mailer = RecordingMailer()
    gate: Barrier = []
    service = service_on(make_store, kind, mailer, gate)
    service.bus.handle(CreateTeam(name="Platform", admin_name="Ann", admin_email="ann@example.com"))
    service.bus.handle(SendSignInLinks(email="ann@example.com", base_url=BASE))
    [letter] = mailer.letters
    results: list[object] = []

    def redeem() -> None:
        try:
            results.append(service.bus.handle(RedeemSignInLink(token=letter.token)))
        except Exception as error:
            results.append(error)

    gate.append(threading.Barrier(2))  # both have read the unused link before either commits
    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    gate.clear()

    started = [result for result in results if isinstance(result, WebSessionStarted)]
    refused = [result for result in results if isinstance(result, SignInLinkRefused)]
    assert (len(started), len(refused)) == (1, 1), results
    assert refused[0].used is True
    assert resolve_session(service.uow_factory, started[0].token, now=service.clock.now()) is not None
