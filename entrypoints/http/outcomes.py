"""Waiting for a queued delivery's outcome, for send-now and retry: never on the request thread pool.

The request holds no thread while it waits: the worker's recorder nudges it when an outcome of
this delivery is recorded in this process, and it reads the store again every half second for a
worker in another process. It answers with what it has when the wait is over, or at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

import anyio
from starlette.requests import Request
from starlette.responses import Response

from application import views
from domain.delivery import Delivery, DeliveryStatus
from entrypoints.http.api import actor, json_response, service
from entrypoints.http.problems import ApiError
from entrypoints.http.schemas import DeliveryOut

_POLL_SECONDS = 0.5


def request_began() -> float:
    """The event loop's clock now: the wait is counted from the request's start."""
    return asyncio.get_running_loop().time()


async def wait_for_outcome(request: Request, delivery: Delivery, *, began: float) -> Delivery:
    wait: float = request.state.send_wait_seconds
    threads: anyio.CapacityLimiter = request.state.waiting_threads
    stopping: threading.Event = request.state.stopping
    the_service = service(request)
    caller = actor(request)
    loop = asyncio.get_running_loop()
    deadline = began + wait
    nudged = asyncio.Event()

    def nudge() -> None:
        loop.call_soon_threadsafe(nudged.set)

    stop_listening = the_service.signals.listen(delivery.id, nudge)
    # The outcome may have been recorded before we listened: read it once before waiting.
    nudged.set()
    try:
        while not delivery.status.finished and not stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(nudged.wait(), timeout=min(remaining, _POLL_SECONDS))
            nudged.clear()
            delivery = await anyio.to_thread.run_sync(
                views.get_delivery, the_service.uow_factory, caller, delivery.id, limiter=threads
            )
    finally:
        stop_listening()
    return delivery


def outcome_response(delivery: Delivery) -> Response:
    """200 when sent; 502 in the one error shape when it will not be sent (failed for good, or
    cancelled); 202 with the delivery as it stands while it is still queued or retrying."""
    result = DeliveryOut.of(delivery)
    if delivery.status is DeliveryStatus.SENT:
        return json_response(result)
    if delivery.status.finished:
        raise ApiError(
            502,
            f"the delivery was not sent ({delivery.status.value}): {delivery.error}",
            result.model_dump(mode="json"),
        )
    return json_response(result, 202)
