"""/schedules/preview: the next slots of a schedule before it is saved, so a client can show
"next: Tue 9 Dec 09:00" while a person is still choosing."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from application import previews
from application.commands import (
    NewSchedule,
)
from entrypoints.http.api import Operation, actor, json_response, read_body, read_query, service
from entrypoints.http.examples import SCHEDULE_PREVIEW
from entrypoints.http.queries import OccurrenceQuery
from entrypoints.http.schemas_occurrences import OccurrencesOut


async def preview_schedule(request: Request) -> Response:
    query = read_query(request, OccurrenceQuery)
    body = await read_body(request, NewSchedule)
    the_service = service(request)
    now = the_service.clock.now()
    occurrences = await run_in_threadpool(
        previews.schedule_preview,
        the_service.uow_factory,
        actor(request),
        body,
        after=query.after or now,
        count=query.count,
        now=now,
    )
    return json_response(OccurrencesOut.of(occurrences))


OPERATIONS = [
    Operation(
        "POST", "/schedules/preview", preview_schedule,
        "Preview the next slots of a schedule without saving anything: the schedule fields of a new "
        "reminder; 400 for a schedule that would be refused, or that has no slot to come", "schedules",
        query=OccurrenceQuery, body=NewSchedule, response=OccurrencesOut, errors=(400, 404, 413, 415),
        examples=SCHEDULE_PREVIEW,
    ),
]  # fmt: skip
