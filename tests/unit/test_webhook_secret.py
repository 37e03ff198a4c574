"""A team's webhook signing secret: after a rotation, deliveries are signed with both the new and the
old secret for 24 hours, so receivers can switch over; then with the new one alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application import views
from application.commands import RotateWebhookSecret, SendReminderNow
from domain.errors import Forbidden
from domain.team import Team
from entrypoints.bootstrap import Service
from tests.fakes import START, FixedClock, admin, claim, run_queue
from tests.unit.people import join, reminder_of

DAY = timedelta(hours=24)


def test_a_new_team_signs_with_its_one_secret() -> None:
    team = Team.create(name="Team", now=START, webhook_secret="first")

    assert team.signing_secrets(START + 365 * DAY) == ("first",)


def test_after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new_one() -> None:
    team = Team.create(name="Team", now=START, webhook_secret="first")
    rotated_at = START + DAY

    new = team.rotate_webhook_secret(rotated_at)

    assert new not in ("", "first")
    assert team.webhook_secret == new
    assert team.signing_secrets(rotated_at) == (new, "first")
    assert team.signing_secrets(rotated_at + DAY - timedelta(microseconds=1)) == (new, "first")
    assert team.signing_secrets(rotated_at + DAY) == (new,)


def test_a_second_rotation_drops_the_first_secret_at_once() -> None:
    team = Team.create(name="Team", now=START, webhook_secret="first")
    second = team.rotate_webhook_secret(START)

    third = team.rotate_webhook_secret(START + timedelta(hours=1))

    assert team.signing_secrets(START + timedelta(hours=1)) == (third, second)


def test_deliveries_claimed_after_a_rotation_carry_both_secrets_for_a_day(
    service: Service, clock: FixedClock
) -> None:
    boss = admin(service)
    reminder = reminder_of(service, join(service, "ann@example.com"), channel="team")
    old = views.get_team(service.uow_factory, boss)
    assert old is not None

    new = service.bus.handle(RotateWebhookSecret(actor=boss))

    signed = []
    for later in (timedelta(0), DAY - timedelta(seconds=1), timedelta(seconds=1)):
        clock.advance(seconds=later.total_seconds())
        service.bus.handle(SendReminderNow(actor=boss, reminder_id=reminder.id))
        [job] = claim(service)
        signed.append(job.notification.signing_secrets)
        run_queue(service)
    assert signed == [(new, old.webhook_secret), (new, old.webhook_secret), (new,)]


def test_only_an_admin_rotates_the_secret(service: Service) -> None:
    ann = join(service, "ann@example.com")
    before = views.get_team(service.uow_factory, admin(service))
    assert before is not None

    with pytest.raises(Forbidden):
        service.bus.handle(RotateWebhookSecret(actor=ann.actor))

    after = views.get_team(service.uow_factory, admin(service))
    assert after is not None
    assert (after.webhook_secret, after.previous_webhook_secret) == (before.webhook_secret, None)
