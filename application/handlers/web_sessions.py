"""Handlers for signing in to the web app and out of it: with an API key, or with a link mailed to
the person's address; either way the browser gets a session token of its own, never a key.

Tokens are `secrets.token_urlsafe(32)` (256 random bits), stored only as their SHA-256. Starting a
session and ending one are audited as the person's own actions.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from application.authentication import key_holder
from application.channels import ChannelError
from application.clock import Clock
from application.commands import EndWebSession, RedeemSignInLink, SendSignInLinks, StartWebSession
from application.context import acting_as
from application.sign_in_mail import SignInMailer
from application.unit_of_work import StoreUnavailable, UnitOfWork
from application.web_sessions import token_hash
from domain.actor import Actor
from domain.errors import Conflict, NotFound, SignInLinkRefused, StaleVersion, Unauthorized
from domain.redaction import MASK, redact
from domain.sign_in_link import SIGN_IN_LINK_LIFETIME, SignInLink
from domain.user import User
from domain.web_session import WebSession

log = logging.getLogger("reminders.sign_in")

# Links a person may have waiting at once: asking again beyond this mails nothing more.
MAX_LIVE_LINKS: Final = 3
NOT_SET_UP: Final = "sign-in by email is not set up on this service (it needs an SMTP server); use an API key"
_UNKNOWN_LINK: Final = "this sign-in link is not valid; ask for a new one"
_LINK_MINUTES: Final = int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60)


@dataclass(frozen=True, slots=True)
class WebSessionStarted:
    # For the cookie: handed out this once, stored only as its hash.
    token: str
    session_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class _Letter:
    user: User
    team_name: str
    token: str
    url: str


def start_web_session(command: StartWebSession, uow: UnitOfWork, *, clock: Clock) -> WebSessionStarted:
    """A key that would authenticate an API request starts a session as its user, one that lasts no
    longer than the key; others are refused alike (Unauthorized), as the API refuses them."""
    now = clock.now()
    with uow:
        key, user = key_holder(uow, command.api_key)
        with acting_as(Actor(user_id=user.id, team_id=user.team_id, role=user.role, key_id=key.id), now):
            started = _start(uow, user, now, key_id=key.id)
            uow.commit()
        _note_use(uow, key.id, now)
    return started


def send_sign_in_links(
    command: SendSignInLinks, uow: UnitOfWork, *, clock: Clock, mailer: SignInMailer | None
) -> None:
    """Each active user with the address gets a link, unless MAX_LIVE_LINKS of theirs are still
    waiting; the caller learns nothing either way, and a mail that fails is only logged."""
    if mailer is None:
        raise Conflict(NOT_SET_UP)
    now = clock.now()
    base = command.base_url.rstrip("/")
    letters: list[_Letter] = []
    with uow:
        for user in uow.users.find_by_email(command.email):
            if not user.active or uow.sign_in_links.count_live_for(user.id, now) >= MAX_LIVE_LINKS:
                continue
            team = uow.teams.get(user.team_id)
            if team is None:
                continue
            token = secrets.token_urlsafe(32)
            uow.sign_in_links.add(
                SignInLink.issue(token_hash=token_hash(token), user_id=user.id, team_id=user.team_id, now=now)
            )
            letters.append(_Letter(user, team.name, token, f"{base}/app/sign-in/link/{token}"))
        if letters:
            uow.commit()
    # Only links that exist are mailed: never one whose commit failed.
    for letter in letters:
        _mail(mailer, letter)


def redeem_sign_in_link(command: RedeemSignInLink, uow: UnitOfWork, *, clock: Clock) -> WebSessionStarted:
    """A link works once, within its lifetime, for a user still active: spending it and starting the
    session are one commit, so of two redeeming at once only one signs in."""
    now = clock.now()
    with uow:
        link = uow.sign_in_links.get_by_token_hash(token_hash(command.token))
        if link is None:
            raise Unauthorized(_UNKNOWN_LINK)
        link.use(now)
        user = uow.users.get(link.user_id)
        if user is None or not user.active or user.team_id != link.team_id:
            raise Unauthorized(_UNKNOWN_LINK)
        with acting_as(Actor(user_id=user.id, team_id=user.team_id, role=user.role), now):
            started = _start(uow, user, now, key_id=None)  # no key: revoking one leaves it be
            try:
                uow.commit()
            except (StaleVersion, NotFound):
                # Another redeem spent the link first (or it was just pruned, having expired).
                raise SignInLinkRefused(used=True) from None
    return started


def end_web_session(command: EndWebSession, uow: UnitOfWork, *, clock: Clock) -> None:
    """Signing out ends the session at once; a session already over, or unknown, is left as it is."""
    now = clock.now()
    with uow:
        session = uow.web_sessions.get_by_token_hash(token_hash(command.token))
        if session is None or not session.live(now):
            return
        user = uow.users.get(session.user_id)
        if user is None:
            return  # its user was just deleted, and the session with them
        session.end(now)
        actor = Actor(user_id=user.id, team_id=user.team_id, role=user.role)
        # A sign-out at the same moment in another tab ended it already: the same outcome.
        with acting_as(actor, now), contextlib.suppress(StaleVersion, NotFound):
            uow.commit()


def _start(uow: UnitOfWork, user: User, now: datetime, *, key_id: str | None) -> WebSessionStarted:
    token = secrets.token_urlsafe(32)
    session = WebSession.start(
        token_hash=token_hash(token), user_id=user.id, team_id=user.team_id, now=now, key_id=key_id
    )
    uow.web_sessions.add(session)
    return WebSessionStarted(token=token, session_id=session.id, user_id=user.id)


def _note_use(uow: UnitOfWork, key_id: str, now: datetime) -> None:
    """Record the key's use as an API request's is (bookkeeping that never makes a change to the
    key fail), in a commit of its own: the session is started even when the store is busy."""
    uow.keys.note_use(key_id, now)
    with contextlib.suppress(StoreUnavailable):
        uow.commit()


def _mail(mailer: SignInMailer, letter: _Letter) -> None:
    try:
        mailer.send(
            to_name=letter.user.name,
            to_email=letter.user.email,
            team_name=letter.team_name,
            url=letter.url,
            minutes=_LINK_MINUTES,
        )
    except Exception as error:
        # Not the caller's business: the answer must not differ for an address that has an account.
        # Whatever the mailer says, the link's token is no part of a log line (so no traceback).
        known = isinstance(error, ChannelError)
        text = error.message if isinstance(error, ChannelError) else f"{type(error).__name__}: {error}"
        log.log(
            logging.WARNING if known else logging.ERROR,
            "a sign-in link could not be mailed",
            extra={"user_id": letter.user.id, "error": redact(text.replace(letter.token, MASK))},
        )
