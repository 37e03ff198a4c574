"""Who may do what: the one place that decides. Handlers and views ask it before they change or
show anything.

- Everyone sees only their own team: an id of another team is NotFound, exactly as an id that
  does not exist, so no answer reveals that it exists.
- A member reads the team's users; changes their own name, email and time zone; and manages their
  own reminders, deliveries and keys.
- An admin does all of that for everyone in the team, and creates, deactivates and deletes users,
  changes roles, and reads the audit trail.
- The system (the operator's command line, start-up) may do anything.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.actor import Actor
from domain.api_key import ApiKey
from domain.delivery import Delivery
from domain.errors import Forbidden, NotFound
from domain.reminder import Reminder
from domain.user import User

# What only an admin may change about a user.
_ADMIN_FIELDS = frozenset({"role", "active"})


def in_team(actor: Actor, team_id: str) -> bool:
    return actor.is_system or actor.team_id == team_id


def require_admin(actor: Actor, doing: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only an admin of the team may {doing}")


def see_user(actor: Actor, user: User | None, user_id: str) -> User:
    """The user, if the actor's team holds it; NotFound otherwise."""
    if user is None or not in_team(actor, user.team_id):
        raise NotFound("user", user_id)
    return user


def change_user(actor: Actor, user: User, fields: Iterable[str]) -> None:
    if actor.is_admin:
        return
    if user.id != actor.user_id:
        raise Forbidden("a member may change only their own name, email and time zone")
    if _ADMIN_FIELDS.intersection(fields):
        raise Forbidden("only an admin of the team may change a user's role or active flag")


def act_for(actor: Actor, owner_id: str | None, what: str) -> None:
    """A member acts only on what they own; an admin on everyone's in the team."""
    if not actor.is_admin and owner_id != actor.user_id:
        raise Forbidden(f"a member may act only on their own {what}")


def see_reminder(actor: Actor, reminder: Reminder | None, reminder_id: str) -> Reminder:
    if reminder is None or not in_team(actor, reminder.team_id):
        raise NotFound("reminder", reminder_id)
    act_for(actor, reminder.owner_id, "reminders")
    return reminder


def see_delivery(actor: Actor, delivery: Delivery | None, delivery_id: str) -> Delivery:
    """Its reminder's owner and its recipient see a delivery; an admin every one of the team."""
    if delivery is None or not in_team(actor, delivery.team_id):
        raise NotFound("delivery", delivery_id)
    if delivery.recipient_id is None or delivery.recipient_id != actor.user_id:
        act_for(actor, delivery.owner_id, "deliveries")
    return delivery


def answer_delivery(actor: Actor, delivery: Delivery | None, delivery_id: str) -> Delivery:
    """Snooze and acknowledge are for the person a delivery reached (its recipient, or the owner of
    a reminder for its owner alone or for a target) and for an admin of the team."""
    delivery = see_delivery(actor, delivery, delivery_id)
    if not actor.is_admin and delivery.recipient != actor.user_id:
        raise Forbidden("only the delivery's recipient or an admin of the team may snooze or acknowledge it")
    return delivery


def see_key(actor: Actor, key: ApiKey | None, key_id: str) -> ApiKey:
    if key is None or not in_team(actor, key.team_id):
        raise NotFound("key", key_id)
    act_for(actor, key.user_id, "API keys")
    return key


def deliveries_owner_filter(actor: Actor) -> str | None:
    """Whose deliveries a list shows: a member's own (their reminders' and those addressed to them);
    an admin the team's."""
    return None if actor.is_admin else actor.user_id
