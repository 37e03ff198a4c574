"""A recipient's answers to a delivery: snooze it, or acknowledge it; through the API or a signed link.

A snooze is a new delivery (kind `snooze`) due later; the reminder's schedule does not move. An
acknowledgement is recorded on the delivery and on the first delivery of its chain, and withdraws
every snooze and repeat of the chain still waiting, in the same commit: none of them is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from application import action_links, policy
from application.clock import Clock
from application.commands import AcknowledgeDelivery, FollowActionLink, SnoozeDelivery
from application.context import acting_as
from application.unit_of_work import UnitOfWork
from domain.actor import Actor
from domain.delivery import Delivery, DeliveryKind
from domain.errors import AlertNotAnswerable, InvalidInput, NotFound, NotSnoozable
from domain.link_use import LinkUse
from domain.team import Team
from domain.user import User

MAX_SNOOZE: Final = timedelta(days=7)
LINK_SNOOZE_MINUTES: Final = 10
ACKNOWLEDGED_FIRST: Final = "acknowledged before it was sent"
# Follow-ups an acknowledgement stops; an alert to the owner is not the recipient's to stop.
_STOPPED = frozenset({DeliveryKind.SNOOZE, DeliveryKind.REPEAT})
# A chain is short (a delivery, its repeats and snoozes); this bounds a walk over a corrupt one.
_MAX_CHAIN = 200


class LinkUsed(Exception):
    """The link was used already (410)."""


def snooze_until(minutes: int | None, until: datetime | None, now: datetime) -> datetime:
    if (minutes is None) == (until is None):
        raise InvalidInput("minutes", "send either minutes (1 to 1440) or until (an ISO 8601 time), not both")
    if minutes is not None:
        return now + timedelta(minutes=minutes)
    assert until is not None
    if until <= now:
        raise InvalidInput("until", "until must be in the future")
    if until > now + MAX_SNOOZE:
        raise InvalidInput("until", "until must be at most 7 days ahead")
    return until


def snooze(uow: UnitOfWork, delivery: Delivery, due: datetime, now: datetime) -> Delivery:
    if not delivery.answerable:
        raise AlertNotAnswerable(delivery.id)
    if not delivery.snoozable:
        raise NotSnoozable(delivery.id, delivery.status.value)
    follow_up = delivery.follow_up(DeliveryKind.SNOOZE, due_at=due, now=now)
    uow.deliveries.add(follow_up)
    return follow_up


def acknowledge(uow: UnitOfWork, delivery: Delivery, user_id: str, now: datetime) -> None:
    """Record the acknowledgement (once) and stop the chain's waiting snoozes and repeats."""
    if not delivery.answerable:
        # Its parent is the failed delivery, which may be another person's to answer.
        raise AlertNotAnswerable(delivery.id)
    if not delivery.acknowledge(user_id, now):
        return
    if delivery.status.waiting:  # acknowledged before it went out (waiting in quiet hours, say)
        delivery.withdraw(ACKNOWLEDGED_FIRST, now=now)
    root = _root(uow, delivery)
    root.acknowledge(user_id, now)
    for follow_up in _descendants(uow, root):
        if follow_up.kind in _STOPPED and follow_up.status.waiting:
            follow_up.withdraw(ACKNOWLEDGED_FIRST, now=now)


def _root(uow: UnitOfWork, delivery: Delivery) -> Delivery:
    current = delivery
    for _ in range(_MAX_CHAIN):
        if current.parent_delivery_id is None:
            return current
        parent = uow.deliveries.get(current.parent_delivery_id)
        if parent is None:
            return current
        current = parent
    return current


def _descendants(uow: UnitOfWork, root: Delivery) -> list[Delivery]:
    found: list[Delivery] = []
    frontier = {root.id}
    while frontier and len(found) < _MAX_CHAIN:
        children = uow.deliveries.follow_ups(frontier)
        found.extend(children)
        frontier = {child.id for child in children}
    return found


def snooze_delivery(command: SnoozeDelivery, uow: UnitOfWork, *, clock: Clock) -> Delivery:
    """The recipient or an admin: a follow-up delivery, due then; 201 with it."""
    now = clock.now()
    due = snooze_until(command.minutes, command.until, now)
    with uow:
        delivery = policy.answer_delivery(
            command.actor, uow.deliveries.get(command.delivery_id), command.delivery_id
        )
        follow_up = snooze(uow, delivery, due, now)
        uow.commit()
    return follow_up


def acknowledge_delivery(command: AcknowledgeDelivery, uow: UnitOfWork, *, clock: Clock) -> Delivery:
    """The recipient or an admin; acknowledging again changes nothing."""
    actor = command.actor
    with uow:
        delivery = policy.answer_delivery(actor, uow.deliveries.get(command.delivery_id), command.delivery_id)
        acknowledge(uow, delivery, actor.user_id or "", clock.now())
        uow.commit()
    return delivery


@dataclass(frozen=True, slots=True)
class CheckedLink:
    """A link whose signature, age and single use hold, with what it acts on and for whom."""

    claim: action_links.LinkClaim
    delivery: Delivery
    team: Team
    person: User


def check_link(uow: UnitOfWork, token: str, now: datetime) -> CheckedLink:
    """action_links.LinkRefused when the link is tampered with (or names a delivery or team that does
    not exist) or has expired, LinkUsed once it was used, NotFound when its recipient is gone."""
    claim = action_links.peek(token)
    delivery = uow.deliveries.get(claim.delivery_id)
    team = uow.teams.get(delivery.team_id) if delivery is not None else None
    if delivery is None or team is None:
        raise action_links.LinkRefused(expired=False)
    claim = action_links.verify(team, token, now)
    if uow.link_uses.get(claim.nonce) is not None:
        raise LinkUsed()
    person = uow.users.get(delivery.recipient or "")
    if person is None or not person.active:
        raise NotFound("user", delivery.recipient or "")
    return CheckedLink(claim, delivery, team, person)


def follow_action_link(command: FollowActionLink, uow: UnitOfWork, *, clock: Clock) -> Delivery:
    """A signed link acts for the delivery's recipient, once (see check_link for what is refused);
    nothing changes when it is refused.

    Returns the acknowledged delivery, or the snooze's new delivery.
    """
    now = clock.now()
    with uow:
        link = check_link(uow, command.token, now)
        delivery, person = link.delivery, link.person
        actor = Actor(user_id=person.id, team_id=person.team_id, role=person.role)
        # Audited as the recipient's own action, like the same action through the API.
        with acting_as(actor, now):
            if link.claim.action == "ack":
                acknowledge(uow, delivery, person.id, now)
                result = delivery
            else:
                minutes = command.minutes or LINK_SNOOZE_MINUTES
                result = snooze(uow, delivery, snooze_until(minutes, None, now), now)
            uow.link_uses.add(
                LinkUse(
                    id=link.claim.nonce,
                    team_id=link.team.id,
                    delivery_id=delivery.id,
                    action=link.claim.action,
                    used_at=now,
                )
            )
            uow.commit()
    return result
