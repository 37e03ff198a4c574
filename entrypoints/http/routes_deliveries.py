"""/deliveries: the ledger across reminders, sending a failed delivery again, and a recipient's
answers to a delivery: snooze it, or acknowledge it."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from application import views
from application.commands import AcknowledgeDelivery, NewSnooze, RetryDelivery, SnoozeDelivery
from entrypoints.http.api import (
    Operation,
    actor,
    given,
    handle,
    json_response,
    read,
    read_body,
    read_query,
    service,
)
from entrypoints.http.examples import SNOOZE
from entrypoints.http.outcomes import outcome_response, request_began, wait_for_outcome
from entrypoints.http.queries import DeliveryQuery
from entrypoints.http.schemas import DeliveryOut, DeliveryPage


async def list_deliveries(request: Request) -> Response:
    query = read_query(request, DeliveryQuery)
    page = await run_in_threadpool(
        views.list_deliveries,
        service(request).uow_factory,
        actor(request),
        limit=query.limit,
        offset=query.offset,
        status=query.status,
        channel=query.channel,
    )
    return json_response(DeliveryPage.of(page, DeliveryOut.of))


async def get_delivery(request: Request) -> Response:
    delivery_id = request.path_params["delivery_id"]
    delivery = await read(
        request, views.get_delivery, service(request).uow_factory, actor(request), delivery_id
    )
    return json_response(DeliveryOut.of(delivery))


async def retry_delivery(request: Request) -> Response:
    began = request_began()
    command = given(request, RetryDelivery, delivery_id=request.path_params["delivery_id"])
    delivery = await handle(request, command)
    return outcome_response(await wait_for_outcome(request, delivery, began=began))


async def snooze_delivery(request: Request) -> Response:
    body = await read_body(request, NewSnooze)
    command = given(request, SnoozeDelivery, body, delivery_id=request.path_params["delivery_id"])
    return json_response(DeliveryOut.of(await handle(request, command)), 201)


async def acknowledge_delivery(request: Request) -> Response:
    command = given(request, AcknowledgeDelivery, delivery_id=request.path_params["delivery_id"])
    return json_response(DeliveryOut.of(await handle(request, command)))


OPERATIONS = [
    Operation(
        "GET", "/deliveries/", list_deliveries,
        "List deliveries newest first: your reminders' and those to you (members), or the team's (admins)",
        "deliveries", query=DeliveryQuery, response=DeliveryPage, errors=(400,),
    ),
    Operation(
        "GET", "/deliveries/{delivery_id}", get_delivery, "Get a delivery", "deliveries",
        response=DeliveryOut, errors=(403, 404),
    ),
    Operation(
        "POST", "/deliveries/{delivery_id}/retry", retry_delivery,
        "Queue a failed delivery again and wait for its outcome: 200 sent, 502 failed again, "
        "202 still retrying (409 unless it failed)", "deliveries",
        also_returns=(202,), response=DeliveryOut, errors=(403, 404, 409, 502),
    ),
    Operation(
        "POST", "/deliveries/{delivery_id}/snooze", snooze_delivery,
        "Snooze a delivery (its recipient or an admin): a follow-up delivery of kind snooze, due in "
        "minutes (1 to 1440) or at until (at most 7 days ahead); the schedule does not move. 409 "
        "unless it was sent, failed or missed", "deliveries",
        status=201, body=NewSnooze, response=DeliveryOut, errors=(400, 403, 404, 409, 413, 415),
        examples=SNOOZE,
    ),
    Operation(
        "POST", "/deliveries/{delivery_id}/ack", acknowledge_delivery,
        "Acknowledge a delivery (its recipient or an admin): stops its waiting snoozes and repeats; "
        "acknowledging again changes nothing", "deliveries",
        response=DeliveryOut, errors=(403, 404),
    ),
]  # fmt: skip
