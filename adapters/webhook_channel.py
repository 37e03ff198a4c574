"""The `webhook` channel: a reminder POSTed as JSON to the reminder's target URL.

The request body (UTF-8 JSON)::

    {"delivery_id": "...", "reminder_id": "...", "kind": "scheduled", "title": "...", "message": "...",
     "scheduled_for": "2026-01-05T09:00:00+00:00" or null,
     "owner": {"id": "...", "name": "...", "email": "..."},
     "recipient": {"id": "...", "name": "...", "email": "..."},
     "actions": {"ack_url": "https://.../links/...", "snooze_url": "https://.../links/..."}}

``kind`` is scheduled, manual, snooze, repeat or alert. ``recipient`` is there only when the
delivery is for one of several people (a team reminder); ``actions`` only when the service knows
its public address: signed links that acknowledge or snooze the delivery without an API key, each
working once for seven days. They are secrets of the person the reminder is for: a receiver that
forwards the payload should pass them to that person only, and not log them.

Headers: ``Content-Type: application/json``; ``Idempotency-Key``, the same on every attempt of one
delivery (a receiver that has seen a key has already handled that reminder and can answer 2xx
again without acting); and ``X-Reminder-Signature: sha256=<hex>``, signed with the secret of the
reminder's owner's team. For 24 hours after a team rotates its secret, the header carries two
signatures, the new secret's first, comma-separated: ``sha256=<new>,sha256=<old>``.

Verifying the signature, on the receiver:

1. Read the raw request body as bytes, before any JSON parsing (re-serialising changes the bytes).
2. Compute the HMAC-SHA256 of those bytes with the team's secret (UTF-8 encoded) as the key, and
   write it as lower-case hex, prefixed with ``sha256=``.
3. Compare it in constant time with each comma-separated value of the ``X-Reminder-Signature``
   header; reject the request if the header is missing or none matches.

In Python::

    import hashlib, hmac

    def is_authentic(body: bytes, header: str | None, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        offered = (header or "").split(",")
        return any(hmac.compare_digest(expected, value.strip()) for value in offered)

The signature proves the body came from a holder of the secret and was not altered; it does not
stop a replay of a captured request, which the Idempotency-Key lets a receiver drop.

Outcomes: 2xx is sent; 429 and 5xx (honouring Retry-After), timeouts and connection errors are
retried; any other status, a redirect included, fails the delivery at once.

Targets must reach public addresses (adapters/outbound_addresses.py), checked when the reminder is
saved and on the address connected to at each send, unless `allow_private_targets`.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from adapters.http_delivery import HttpPoster, parse_http_url
from adapters.outbound_addresses import NonPublicAddress, check_public_host
from application.channels import Notification, PermanentChannelError
from domain.errors import InvalidTarget

SIGNATURE_HEADER = "X-Reminder-Signature"
# The links a payload's "actions" may carry, in this order.
ACTIONS = ("ack_url", "snooze_url")
_SCHEMES = frozenset({"http", "https"})


def signature(body: bytes, secret: str) -> str:
    """The X-Reminder-Signature value of `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def payload(notification: Notification) -> bytes:
    scheduled_for = notification.scheduled_for
    document: dict[str, object] = {
        "delivery_id": notification.delivery_id,
        "reminder_id": notification.reminder_id,
        "kind": notification.kind,
        "title": notification.title,
        "message": notification.message,
        "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
        "owner": {
            "id": notification.owner_id,
            "name": notification.owner_name,
            "email": notification.owner_email,
        },
    }
    if notification.recipient_id is not None:
        document["recipient"] = {
            "id": notification.recipient_id,
            "name": notification.recipient_name,
            "email": notification.recipient_email,
        }
    actions = {name: notification.actions[name] for name in ACTIONS if name in notification.actions}
    if actions:
        document["actions"] = actions
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookChannel:
    def __init__(
        self,
        *,
        secret: str | None,
        timeout: float,
        poster: HttpPoster | None = None,
        connections: int = 100,
        allow_private_targets: bool = False,
    ) -> None:
        """`connections`: the most requests in flight at once (the poster's pool), at least the
        worker's delivery concurrency, or the extra senders wait inside send().
        `allow_private_targets`: let targets reach loopback and private addresses (local
        development and tests); a poster passed in must be made with the same setting."""
        if secret == "":
            raise ValueError("the webhook secret must not be empty; pass None to send unsigned requests")
        if timeout <= 0:
            raise ValueError("the webhook timeout must be positive")
        if poster is not None and poster.allow_private_targets != allow_private_targets:
            raise ValueError("the poster's allow_private_targets must match the channel's")
        self._secret = secret
        self._timeout = timeout
        # A poster passed in belongs to the caller, who closes it; one made here is closed by close().
        self._owns_poster = poster is None
        self._poster = poster or HttpPoster(
            connections=connections, allow_private_targets=allow_private_targets
        )
        self._allow_private_targets = allow_private_targets

    def __repr__(self) -> str:
        return f"WebhookChannel(signed={self._secret is not None}, timeout={self._timeout})"

    def close(self) -> None:
        if self._owns_poster:
            self._poster.close()

    def validate_target(self, target: str | None) -> None:
        host = parse_http_url(target, schemes=_SCHEMES).host
        try:
            check_public_host(host, allow_private=self._allow_private_targets)
        except NonPublicAddress as error:
            raise InvalidTarget("target", error.message) from None

    def peer(self, target: str | None) -> str | None:
        try:
            return parse_http_url(target, schemes=_SCHEMES).host
        except InvalidTarget:
            return None

    def send(self, notification: Notification) -> None:
        try:
            target = parse_http_url(notification.target, schemes=_SCHEMES)
        except InvalidTarget as error:
            raise PermanentChannelError(error.message) from None
        body = payload(notification)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": notification.idempotency_key,
        }
        secrets = notification.signing_secrets or (() if self._secret is None else (self._secret,))
        if secrets:
            headers[SIGNATURE_HEADER] = ",".join(signature(body, secret) for secret in secrets)
        self._poster.post(
            target.url,
            content=body,
            headers=headers,
            timeout=self._timeout,
            peer=f"webhook {target.host}",
        )
