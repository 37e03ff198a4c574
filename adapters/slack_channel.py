"""The `slack` channel: a reminder posted to a Slack incoming webhook (the reminder's target).

The target URL is itself the credential (its last path segment is the secret), so it must be
https on an allowed host, and no error or log line carries its path. Plain http is accepted only
with `allow_insecure_local`, and then only for a loopback host: for tests and local relays.

A message with acknowledge and snooze links (Notification.actions) ends with a line of them, in a
section block of its own: "Acknowledge: <url|acknowledge> · Snooze: <url|snooze>".

Outcomes as for webhooks: 2xx is sent; 429 and 5xx (honouring Retry-After), timeouts and
connection errors are retried; Slack's 4xx answers (`invalid_payload`, `no_service`,
`channel_is_archived`, ...) fail the delivery at once. The error keeps the status line only: Slack
says which of those it was in the body, which is never recorded.

As for webhooks, the host must reach public addresses only, unless `allow_private_targets`.
"""

from __future__ import annotations

import ipaddress
import json

from adapters.http_delivery import HttpPoster, HttpTarget, parse_http_url
from adapters.outbound_addresses import NonPublicAddress, check_public_host
from application.channels import Notification, PermanentChannelError
from domain.errors import InvalidTarget

SLACK_HOSTS = frozenset({"hooks.slack.com"})
# Slack refuses a section block whose text is longer.
_SECTION_LIMIT = 3000
# The links a message may carry (see Notification.actions), with the words that show them.
_ACTIONS = (("ack_url", "Acknowledge"), ("snooze_url", "Snooze"))


def _escape(text: str) -> str:
    # Slack's mrkdwn reserves exactly these three characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _link(url: str, label: str) -> str:
    # "|" would end the address early, and "<" or ">" the link itself.
    return f"<{_escape(url.replace('|', '%7C'))}|{label}>"


def actions_line(notification: Notification) -> str | None:
    """The acknowledge and snooze links as one line of mrkdwn; None when the message has none."""
    links = [
        f"{name}: {_link(notification.actions[key], name.lower())}"
        for key, name in _ACTIONS
        if notification.actions.get(key)
    ]
    return " · ".join(links) if links else None


def payload(notification: Notification) -> bytes:
    title, message = _escape(notification.title), _escape(notification.message)
    section = f"*{title}*\n{message}"
    if len(section) > _SECTION_LIMIT:
        section = section[: _SECTION_LIMIT - 1] + "…"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": section}}]
    text = f"{title}\n{message}"
    actions = actions_line(notification)
    if actions is not None:
        # A block of their own: cutting a long message short never cuts the links.
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": actions}})
        text += f"\n{actions}"
    document = {"text": text, "blocks": blocks}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class SlackChannel:
    def __init__(
        self,
        *,
        timeout: float,
        poster: HttpPoster | None = None,
        allowed_hosts: frozenset[str] = SLACK_HOSTS,
        allow_insecure_local: bool = False,
        connections: int = 100,
        allow_private_targets: bool = False,
    ) -> None:
        """`connections`: the most requests in flight at once (the poster's pool), at least the
        worker's delivery concurrency, or the extra senders wait inside send().
        `allow_private_targets`: let the host be a loopback or private address (local development
        and tests); a poster passed in must be made with the same setting."""
        if timeout <= 0:
            raise ValueError("the Slack timeout must be positive")
        if not allowed_hosts:
            raise ValueError("allowed_hosts must name at least one host")
        if poster is not None and poster.allow_private_targets != allow_private_targets:
            raise ValueError("the poster's allow_private_targets must match the channel's")
        self._timeout = timeout
        self._allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self._allow_insecure_local = allow_insecure_local
        # A poster passed in belongs to the caller, who closes it; one made here is closed by close().
        self._owns_poster = poster is None
        self._poster = poster or HttpPoster(
            connections=connections, allow_private_targets=allow_private_targets
        )
        self._allow_private_targets = allow_private_targets

    def __repr__(self) -> str:
        return f"SlackChannel(allowed_hosts={sorted(self._allowed_hosts)}, timeout={self._timeout})"

    def close(self) -> None:
        if self._owns_poster:
            self._poster.close()

    def validate_target(self, target: str | None) -> None:
        host = self._parse(target).host
        try:
            check_public_host(host, allow_private=self._allow_private_targets)
        except NonPublicAddress as error:
            raise InvalidTarget("target", error.message) from None

    def peer(self, target: str | None) -> str | None:
        try:
            return self._parse(target).host
        except InvalidTarget:
            return None

    def send(self, notification: Notification) -> None:
        try:
            target = self._parse(notification.target)
        except InvalidTarget as error:
            raise PermanentChannelError(error.message) from None
        self._poster.post(
            target.url,
            content=payload(notification),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=self._timeout,
            peer=f"Slack webhook at {target.host}",
        )

    def _parse(self, target: str | None) -> HttpTarget:
        parsed = parse_http_url(target, schemes=frozenset({"http", "https"}))
        if parsed.host not in self._allowed_hosts:
            allowed = ", ".join(sorted(self._allowed_hosts))
            raise InvalidTarget("target", f"a Slack webhook URL must be on {allowed}")
        if parsed.scheme == "http" and not (self._allow_insecure_local and _is_loopback(parsed.host)):
            raise InvalidTarget("target", "a Slack webhook URL must use https")
        if not parsed.path.strip("/"):
            raise InvalidTarget("target", "a Slack webhook URL needs its path (/services/...)")
        return parsed
