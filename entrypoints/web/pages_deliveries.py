"""My deliveries: what was sent, when and how late, and the answers a person gives a delivery (retry a
failed one, snooze it, acknowledge it), each back to the page it was given on.

Which buttons a row shows is what the application says the viewer may do to that delivery now
(application.web_lists); the command still decides, so a page left open too long gets a refusal.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application import web_lists
from application.commands import AcknowledgeDelivery, RetryDelivery, SnoozeDelivery
from domain.delivery import DeliveryStatus
from domain.errors import InvalidInput
from entrypoints.http.link_pages import SNOOZE_CHOICES
from entrypoints.web import paging
from entrypoints.web.actions import local_path, read, run, see_other
from entrypoints.web.forms import form, text
from entrypoints.web.owned import mine
from entrypoints.web.pages import page
from entrypoints.web.rendering import render
from entrypoints.web.viewer import viewer

LIST: Final = "/app/deliveries"
PER_PAGE: Final = 50
STATUSES: Final = (("", "All"), *((status.value, status.value.capitalize()) for status in DeliveryStatus))
_KNOWN: Final = frozenset(status.value for status in DeliveryStatus)
_MINUTES: Final = {str(minutes): minutes for minutes, _ in SNOOZE_CHOICES}


@page
async def list_deliveries(request: Request) -> Response:
    status = request.query_params.get("status", "")
    status = status if status in _KNOWN else ""
    found = await read(
        request,
        web_lists.my_deliveries,
        limit=PER_PAGE,
        offset=paging.offset(request, PER_PAGE),
        status=DeliveryStatus(status) if status else None,
    )
    return render(
        request,
        "deliveries/list.html",
        rows=found.items,
        paging=paging.paging(request, found),
        statuses=STATUSES,
        chosen=status,
        snooze_choices=SNOOZE_CHOICES,
        here=paging.here(request),
    )


def _delivery_id(request: Request) -> str:
    delivery_id: str = request.path_params["delivery_id"]
    return delivery_id


@page
async def retry(request: Request) -> Response:
    data = await form(request)
    command = RetryDelivery(actor=viewer(request).actor, delivery_id=_delivery_id(request))
    await mine(run(request, command, send=True))
    return see_other(local_path(text(data, "next"), LIST), "retried")


@page
async def snooze(request: Request) -> Response:
    data = await form(request)
    minutes = _MINUTES.get(text(data, "minutes"))
    if minutes is None:
        raise InvalidInput("minutes", "choose how long to snooze it for from the list")
    command = SnoozeDelivery(actor=viewer(request).actor, delivery_id=_delivery_id(request), minutes=minutes)
    await mine(run(request, command))
    return see_other(local_path(text(data, "next"), LIST), "snoozed")


@page
async def acknowledge(request: Request) -> Response:
    data = await form(request)
    command = AcknowledgeDelivery(actor=viewer(request).actor, delivery_id=_delivery_id(request))
    await mine(run(request, command))
    return see_other(local_path(text(data, "next"), LIST), "acknowledged")


ROUTES = [
    Route("/deliveries", list_deliveries, methods=["GET"]),
    Route("/deliveries/{delivery_id}/retry", retry, methods=["POST"]),
    Route("/deliveries/{delivery_id}/snooze", snooze, methods=["POST"]),
    Route("/deliveries/{delivery_id}/ack", acknowledge, methods=["POST"]),
]
