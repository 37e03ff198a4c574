"""The status page's chart: the team's deliveries per hour due and by outcome over the last day,
for admins only, and never another team's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application.channels import PermanentChannelError
from application.commands import SendReminderNow
from application.repositories import HourlyCount
from application.web_views import delivery_chart
from domain.delivery import DeliveryStatus
from domain.errors import Forbidden
from entrypoints.bootstrap import Service
from tests.fakes import FixedClock, RecordingChannel, admin, run_queue
from tests.unit.people import Person, outsider, reminder_of

EIGHT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # START's hour
TEN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def send_now(service: Service, person: Person, reminder_id: str) -> None:
    service.bus.handle(SendReminderNow(actor=person.actor, reminder_id=reminder_id))
    run_queue(service)


def chart(service: Service, person: Person | None = None) -> list[HourlyCount]:
    actor = person.actor if person else admin(service)
    return delivery_chart(service.uow_factory, actor, now=service.clock.now())


@pytest.fixture
def other(service: Service) -> Person:
    """The admin of a second team."""
    return outsider(service)


@pytest.fixture
def busy(service: Service, clock: FixedClock, team: RecordingChannel, ann: Person, other: Person) -> Service:
    """Ann's deliveries: at 08:00 one sent and one failed, at 10:30 two sent; the other team's at 10:30."""
    reminder = reminder_of(service, ann, channel="team")
    send_now(service, ann, reminder.id)
    team.failures = [PermanentChannelError("refused")]
    send_now(service, ann, reminder.id)
    clock.advance(hours=2, minutes=30)
    send_now(service, ann, reminder.id)
    send_now(service, ann, reminder.id)
    send_now(service, other, reminder_of(service, other).id)
    return service


def test_the_chart_counts_the_teams_deliveries_per_hour_and_outcome(busy: Service) -> None:
    assert chart(busy) == [
        HourlyCount(hour=EIGHT, status=DeliveryStatus.FAILED, count=1),
        HourlyCount(hour=EIGHT, status=DeliveryStatus.SENT, count=1),
        HourlyCount(hour=TEN, status=DeliveryStatus.SENT, count=2),
    ]


def test_another_teams_admin_sees_only_their_own(busy: Service, other: Person) -> None:
    assert chart(busy, other) == [HourlyCount(hour=TEN, status=DeliveryStatus.SENT, count=1)]


def test_only_the_last_24_hours_are_charted(busy: Service, clock: FixedClock) -> None:
    clock.current = datetime(2026, 1, 6, 9, 59, tzinfo=UTC)  # the chart starts at 10:00 the day before

    assert chart(busy) == [HourlyCount(hour=TEN, status=DeliveryStatus.SENT, count=2)]


def test_a_member_may_not_see_the_chart(busy: Service, ann: Person) -> None:
    with pytest.raises(Forbidden):
        chart(busy, ann)
