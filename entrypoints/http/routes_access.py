"""API keys, the team's webhook secret and the audit trail."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from application import views
from application.commands import CreateApiKey, NewKey, RevokeApiKey, RotateWebhookSecret
from application.handlers.keys import IssuedKey
from domain.team import ROTATION_OVERLAP
from entrypoints.http.api import (
    Operation,
    actor,
    given,
    handle,
    json_response,
    read_body,
    read_query,
    service,
)
from entrypoints.http.queries import AuditQuery, KeyQuery
from entrypoints.http.schemas_access import (
    AuditEntryOut,
    AuditPage,
    KeyOut,
    KeyPage,
    NewKeyOut,
    WebhookSecretOut,
)


async def create_key(request: Request) -> Response:
    body = await read_body(request, NewKey)
    issued: IssuedKey = await handle(
        request, given(request, CreateApiKey, body, user_id=request.path_params["user_id"])
    )
    return json_response(NewKeyOut.issued(issued.key, issued.plain), 201)


async def list_keys(request: Request) -> Response:
    query = read_query(request, KeyQuery)
    page = await run_in_threadpool(
        views.list_keys_of,
        service(request).uow_factory,
        actor(request),
        request.path_params["user_id"],
        limit=query.limit,
        offset=query.offset,
    )
    return json_response(KeyPage.of(page, KeyOut.of))


async def revoke_key(request: Request) -> Response:
    await handle(request, given(request, RevokeApiKey, key_id=request.path_params["key_id"]))
    return Response(status_code=204)


async def rotate_webhook_secret(request: Request) -> Response:
    secret: str = await handle(request, given(request, RotateWebhookSecret))
    until = service(request).clock.now() + ROTATION_OVERLAP
    return json_response(WebhookSecretOut(webhook_secret=secret, previous_secret_valid_until=until))


async def list_audit(request: Request) -> Response:
    query = read_query(request, AuditQuery)
    page = await run_in_threadpool(
        views.list_audit,
        service(request).uow_factory,
        actor(request),
        limit=query.limit,
        offset=query.offset,
        actor_id=query.actor_id,
        target_id=query.target_id,
        action=query.action,
        since=query.since,
        until=query.until,
    )
    return json_response(AuditPage.of(page, AuditEntryOut.of))


OPERATIONS = [
    Operation(
        "POST", "/users/{user_id}/keys", create_key,
        "Create an API key for yourself, or (admins) anyone in the team; the key is shown once", "keys",
        status=201, body=NewKey, response=NewKeyOut, errors=(400, 403, 404, 413, 415),
    ),
    Operation(
        "GET", "/users/{user_id}/keys", list_keys, "List a user's API keys, never the keys themselves",
        "keys", query=KeyQuery, response=KeyPage, errors=(400, 403, 404),
    ),
    Operation(
        "DELETE", "/keys/{key_id}", revoke_key, "Revoke an API key at once", "keys",
        status=204, errors=(403, 404),
    ),
    Operation(
        "POST", "/team/webhook-secret", rotate_webhook_secret,
        "Rotate your team's webhook signing secret (admins); for 24 hours both signatures are sent",
        "team", response=WebhookSecretOut, errors=(403,),
    ),
    Operation(
        "GET", "/audit", list_audit, "The team's audit trail, newest first (admins)", "audit",
        query=AuditQuery, response=AuditPage, errors=(400, 403),
    ),
]  # fmt: skip
