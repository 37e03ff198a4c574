"""The audit trail's page: the team's entries, newest first, filtered as the API filters them.

Admins only: the application's view refuses a member (the 403 page) whatever the filters say.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application import web_views
from entrypoints.web import audit_rows, paging
from entrypoints.web.actions import read
from entrypoints.web.pages import page
from entrypoints.web.rendering import render, zone_of

PER_PAGE: Final = 50


@page
async def show_audit(request: Request) -> Response:
    given = {name: request.query_params.get(name, "").strip() for name in audit_rows.FILTERS}
    found, query = audit_rows.read_filters(given, zone_of(request))
    if query is None:
        # The policy still decides first: a member is refused, whatever the filters say.
        await read(request, web_views.audit_trail, limit=1, offset=0)
        return render(
            request, "admin/audit.html", status=400, given=given, problems=found, rows=[], paging=None
        )
    filters = query.model_dump(exclude={"limit", "offset"})
    trail = await read(
        request, web_views.audit_trail, limit=PER_PAGE, offset=paging.offset(request, PER_PAGE), **filters
    )
    return render(
        request,
        "admin/audit.html",
        given=given,
        problems={},
        rows=[audit_rows.row(entry, trail.names) for entry in trail.page.items],
        paging=paging.paging(request, trail.page),
        filtered=any(given.values()),
    )


ROUTES = [
    Route("/audit", show_audit, methods=["GET"]),
]
