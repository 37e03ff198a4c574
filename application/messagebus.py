"""The message bus: commands to exactly one handler, events to every subscriber.

Built on blinker, with every receiver connected strongly in a namespace private to the bus, so
a handler never disappears with garbage collection and two buses never share receivers.
Each `handle()` call keeps its own queue and gives every message a fresh unit of work, so one
bus serves many threads at once.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from blinker import ANY, Namespace
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from application import context
from application.clock import Clock
from application.commands import ActorCommand, Command
from application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from domain.errors import StaleVersion
from domain.events import Event

log = logging.getLogger(__name__)

Handler = Callable[[Any, UnitOfWork], Any]
Message = Command | Event


class UnknownCommand(LookupError):
    def __init__(self, command: Command) -> None:
        super().__init__(f"no handler for command {type(command).__name__}")


@dataclass(frozen=True, slots=True)
class HandlerFailure:
    handler: str
    event: Event
    error: BaseException


class EventHandlersFailed(Exception):
    """Some event handlers failed after the command itself succeeded; every sibling still ran."""

    def __init__(self, failures: list[HandlerFailure], result: Any) -> None:
        names = ", ".join(f"{failure.handler} on {type(failure.event).__name__}" for failure in failures)
        super().__init__(f"event handlers failed: {names}")
        self.failures = failures
        self.result = result


def handler_name(handler: Callable[..., Any]) -> str:
    target = getattr(handler, "func", handler)  # functools.partial keeps the real function here
    return f"{target.__module__}.{getattr(target, '__qualname__', repr(target))}"


class MessageBus:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        command_handlers: Mapping[type[Command], Handler],
        event_handlers: Mapping[type[Event], Sequence[Handler]],
        clock: Clock,
        event_attempts: int = 3,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._signals = Namespace()
        self._event_attempts = event_attempts
        # Every receiver is connected here, so each message type's receivers are looked up once.
        self._receivers_by_type: dict[type[Message], tuple[Handler, ...]] = {}
        for command_type, handler in command_handlers.items():
            self._signal(command_type).connect(handler, weak=False)
        for event_type, handlers in event_handlers.items():
            for handler in handlers:
                self._signal(event_type).connect(handler, weak=False)

    def handle(self, command: Command) -> Any:
        """Run the command's handler, then every event it led to; return the handler's result.

        Raises the command handler's own error unchanged (after handling the events its committed
        work released), or EventHandlersFailed when any event handler failed.
        """
        queue: deque[Event] = deque()
        # A command someone gave is audited: every commit it leads to, its events' included.
        token = None
        if isinstance(command, ActorCommand):
            acting = context.Acting(command.actor, context.request_id.get(), self._clock.now())
            token = context.acting.set(acting)
        try:
            result = self._run_command(command, queue)
        finally:
            try:
                failures = self._drain(queue)
            finally:
                if token is not None:
                    context.acting.reset(token)
        if failures:
            raise EventHandlersFailed(failures, result)
        return result

    def _signal(self, message_type: type[Message]) -> Any:
        return self._signals.signal(f"{message_type.__module__}.{message_type.__qualname__}")

    def _receivers(self, message: Message) -> tuple[Handler, ...]:
        message_type = type(message)
        receivers = self._receivers_by_type.get(message_type)
        if receivers is None:
            receivers = tuple(self._signal(message_type).receivers_for(ANY))
            self._receivers_by_type[message_type] = receivers
        return receivers

    def _run_command(self, command: Command, queue: deque[Event]) -> Any:
        handlers = self._receivers(command)
        if len(handlers) != 1:
            raise UnknownCommand(command)
        uow = self._uow_factory()
        try:
            return handlers[0](command, uow)
        finally:
            queue.extend(uow.collect_new_events())

    def _drain(self, queue: deque[Event]) -> list[HandlerFailure]:
        failures: list[HandlerFailure] = []
        while queue:
            event = queue.popleft()
            for handler in self._receivers(event):
                failure = self._run_event_handler(handler, event, queue)
                if failure is not None:
                    failures.append(failure)
        return failures

    def _run_event_handler(
        self, handler: Handler, event: Event, queue: deque[Event]
    ) -> HandlerFailure | None:
        try:
            self._call_with_retries(handler, event, queue)
        except Exception as error:
            name = handler_name(handler)
            log.exception(
                "event handler %s failed on %s",
                name,
                type(event).__name__,
                extra={"handler": name, "event": type(event).__name__},
            )
            return HandlerFailure(name, event, error)
        return None

    def _call_with_retries(self, handler: Handler, event: Event, queue: deque[Event]) -> None:
        # A concurrent change is worth another try with fresh state; anything else is final.
        # The first call runs before tenacity is set up, which costs more than many handlers do;
        # a StaleVersion is replayed to tenacity as its first attempt, so the policy is unchanged.
        try:
            self._call(handler, event, queue)
            return
        except StaleVersion as error:
            first_failure = [error]
        retrying = Retrying(
            stop=stop_after_attempt(self._event_attempts),
            retry=retry_if_exception_type(StaleVersion),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                if first_failure:
                    raise first_failure.pop()
                self._call(handler, event, queue)

    def _call(self, handler: Handler, event: Event, queue: deque[Event]) -> None:
        uow = _OnFirstUse(self._uow_factory)
        try:
            handler(event, cast(UnitOfWork, uow))
        finally:
            queue.extend(uow.collect_new_events())


class _OnFirstUse:
    """An event handler's unit of work, made when the handler first uses it.

    Most handlers of a delivery's events (a log line, a metric, a nudge) never touch the store, and
    making a unit of work for each of them cost a tenth of a delivery's time on the in-memory store.
    """

    def __init__(self, factory: UnitOfWorkFactory) -> None:
        self._factory = factory
        self._made: UnitOfWork | None = None

    def _uow(self) -> UnitOfWork:
        if self._made is None:
            self._made = self._factory()
        return self._made

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow(), name)

    def __enter__(self) -> UnitOfWork:
        return self._uow().__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._uow().__exit__(*exc)

    def collect_new_events(self) -> list[Event]:
        return [] if self._made is None else self._made.collect_new_events()
