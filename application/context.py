"""What the current message runs on behalf of: the request it came with, and who is acting.

Context variables, so every log line and audit entry on a request's path can name them; a thread
the HTTP layer hands work to carries the request's context with it. The scheduler and the delivery
workers run in threads of their own, where nobody is acting: their changes are not audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from domain.actor import Actor

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


@dataclass(frozen=True, slots=True)
class Acting:
    actor: Actor
    request_id: str | None
    # When the command was given: the time of its audit entries.
    at: datetime


acting: ContextVar[Acting | None] = ContextVar("acting", default=None)


@contextmanager
def acting_as(actor: Actor, at: datetime) -> Iterator[None]:
    """Run a block on `actor`'s behalf (a signed link acts for its recipient), so its commits are
    audited as theirs; the bus does the same around every command a person gives."""
    token = acting.set(Acting(actor, request_id.get(), at))
    try:
        yield
    finally:
        acting.reset(token)
