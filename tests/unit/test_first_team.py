"""StartFirstTeam: on first start the service makes the `default` team and an admin with a key,
once; a store from before teams gets an admin for its `default` team."""

from __future__ import annotations

from adapters.memory import MemoryStore, MemoryUnitOfWork
from application import views
from application.commands import StartFirstTeam
from application.handlers.teams import FIRST_ADMIN_EMAIL, NewTeam
from domain.roles import Role
from domain.team import DEFAULT_TEAM_ID, Team
from domain.user import User
from entrypoints.bootstrap import Service
from tests.fakes import START, make_service, new_team
from tests.unit.people import signed_in


def start(service: Service) -> NewTeam | None:
    started: NewTeam | None = service.bus.handle(StartFirstTeam())
    return started


def team_ids(service: Service) -> list[str]:
    return [team.id for team in views.list_teams(service.uow_factory, limit=10, offset=0).items]


def test_the_first_start_makes_the_default_team_and_an_admin_whose_key_works() -> None:
    service = make_service()

    started = start(service)

    assert started is not None
    assert (started.team.id, started.admin.email, started.admin.role) == (
        DEFAULT_TEAM_ID,
        FIRST_ADMIN_EMAIL,
        Role.ADMIN,
    )
    actor = signed_in(service, started.issued.plain)
    assert (actor.user_id, actor.team_id, actor.role) == (started.admin.id, DEFAULT_TEAM_ID, Role.ADMIN)
    assert team_ids(service) == [DEFAULT_TEAM_ID]


def test_a_second_start_makes_nothing_and_shows_no_key() -> None:
    service = make_service()
    first = start(service)
    assert first is not None

    assert start(service) is None

    assert team_ids(service) == [DEFAULT_TEAM_ID]
    users = views.list_users(service.uow_factory, signed_in(service, first.issued.plain), limit=10, offset=0)
    assert [user.id for user in users.items] == [first.admin.id]


def test_a_store_that_already_has_another_team_gets_no_default_team() -> None:
    service = make_service()
    new_team(service)

    assert start(service) is None

    assert DEFAULT_TEAM_ID not in team_ids(service)


def test_a_default_team_with_users_but_no_admin_gets_an_admin() -> None:
    store = MemoryStore()
    with MemoryUnitOfWork(store) as uow:
        uow.teams.add(Team.create(name="default", now=START, team_id=DEFAULT_TEAM_ID))
        old = User.create(
            team_id=DEFAULT_TEAM_ID, name="Old", email="old@example.com", active=True, now=START
        )
        uow.users.add(old)
        uow.commit()
    service = make_service(store=store)

    started = start(service)

    assert started is not None
    assert started.team.id == DEFAULT_TEAM_ID
    admin = signed_in(service, started.issued.plain)
    users = views.list_users(service.uow_factory, admin, limit=10, offset=0)
    assert [(user.email, user.role) for user in users.items] == [
        ("old@example.com", Role.MEMBER),
        (FIRST_ADMIN_EMAIL, Role.ADMIN),
    ]
    assert start(service) is None


def test_a_team_made_by_the_upgrade_takes_the_operators_webhook_secret_with_its_first_admin() -> None:
    store = MemoryStore()
    with MemoryUnitOfWork(store) as uow:  # what migration 0004 leaves: the team, a random secret
        uow.teams.add(Team.create(name="default", now=START, team_id=DEFAULT_TEAM_ID))
        uow.commit()
    service = make_service(store=store)

    created: NewTeam | None = service.bus.handle(StartFirstTeam(webhook_secret="s3cret-from-before"))

    assert created is not None
    assert created.team.signing_secrets(START) == ("s3cret-from-before",)
