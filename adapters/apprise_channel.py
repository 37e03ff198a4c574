"""The `apprise` channel: a reminder sent through any service Apprise knows, the target being its URL.

Needs the optional `apprise` package (``pip install 'team-reminders[apprise]'``); this module
imports without it, and building an AppriseChannel without it raises AppriseUnavailable.

Apprise's own retries are off (a URL's ``?retry=`` is overridden): the delivery ledger owns
retries. Each send gets a fresh Apprise object, so Apprise's per-object throttle never sleeps and
no state is shared between threads.

What can be told apart, and how well:

- Sent: Apprise reports SUCCESS for the service. Reliable.
- Unusable target: the URL names no known service or lacks what it needs; refused when the
  reminder is saved, and a permanent failure if it happens at send time. Reliable.
- Out of time: Apprise reports TIMEOUT (its call deadline passed). Transient. Reliable.
- Anything else is one FAILURE status: Apprise's plugins return True or False and say why only in
  their log lines. Most HTTP-based plugins log the status as ``error=<code>``, and most log
  "A Connection error occurred" for network errors and socket timeouts; those words are read from
  the failure's captured log entries. 429 and 5xx are transient, any other 4xx or a 3xx is
  permanent. A failure with no recognisable reason is treated as transient: the ledger bounds the
  attempts, and a real misconfiguration still ends as a failed delivery. A plugin that logs its
  reasons differently (or in another language) always lands in that last case, and no Retry-After
  is ever available.

The message ends with its acknowledge and snooze links, one a line, when it carries them.

Error texts name the service (e.g. "Slack") and the reason, never the URL or Apprise's own text,
which may quote credentials, nor anything of the service's answer but its status code.

Unless `allow_private_targets`, a URL must reach public addresses only
(adapters/outbound_addresses.py): the host a service takes from its URL (`json://`, `form://`,
`xml://`, `rsyslog://`, `ntfy://host`, `mailto://` and its `smtp=` server...) is resolved when
the reminder is saved and again just before each send, and must be public; services that notify
this machine itself (`syslog://`, the desktop ones) are refused. Services whose URL holds only
tokens talk to their own public API. Apprise connects by itself, so the send-time check resolves
the name a moment before Apprise does: a name whose answer changes in between (a rebinding DNS
server) is not caught, as it is for webhooks and Slack, which check the connected address.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from adapters.outbound_addresses import NonPublicAddress, check_public_host
from application.channels import Notification, PermanentChannelError, TransientChannelError
from domain.errors import InvalidTarget

if TYPE_CHECKING:
    from apprise import NotifyBase

_STATUS = re.compile(r"\berror=(\d{3})\b")
_CONNECTION = re.compile(r"connection error", re.IGNORECASE)
# Apprise's deadline for a whole send: a connect, the request and its answer, with room to spare.
_BUDGET_FACTOR = 3
# Services that notify the machine the service runs on (its syslog, its desktop), never a remote one.
_LOCAL_SERVICES = frozenset({"syslog", "dbus", "kde", "qt", "glib", "gio", "gnome", "macosx", "windows"})


# The links a message may carry (see Notification.actions), with the words that introduce them.
_ACTIONS = (("ack_url", "Acknowledge"), ("snooze_url", "Snooze"))


def body(notification: Notification) -> str:
    """The message, then a line for each acknowledge or snooze link it carries."""
    links = [
        f"{words}: {notification.actions[key]}" for key, words in _ACTIONS if notification.actions.get(key)
    ]
    return "\n".join([notification.message, "", *links]) if links else notification.message


class AppriseUnavailable(RuntimeError):
    """The apprise package is not installed."""


def _import_apprise() -> ModuleType:
    try:
        import apprise
    except ImportError:
        raise AppriseUnavailable(
            "the apprise channel needs the apprise package: pip install 'team-reminders[apprise]'"
        ) from None
    return apprise


class AppriseChannel:
    def __init__(self, *, timeout: float, allow_private_targets: bool = False) -> None:
        """`allow_private_targets`: let URLs reach loopback and private addresses, and this
        machine's own services (local development and tests)."""
        if timeout <= 0:
            raise ValueError("the Apprise timeout must be positive")
        self._apprise = _import_apprise()
        self._timeout = timeout
        self._allow_private_targets = allow_private_targets
        self._budget = timeout * _BUDGET_FACTOR

    def __repr__(self) -> str:
        return f"AppriseChannel(timeout={self._timeout:g})"

    def validate_target(self, target: str | None) -> None:
        self._service(target)

    def peer(self, target: str | None) -> str | None:
        # The URL's host where it names one (mailto://host, json://host...); the service otherwise.
        parts = urlsplit(target or "")
        return parts.hostname or parts.scheme or None

    def send(self, notification: Notification) -> None:
        try:
            service = self._service(notification.target)
        except InvalidTarget as error:
            raise PermanentChannelError(error.message) from None
        name = str(getattr(service, "service_name", None) or "service")
        sender = self._apprise.Apprise(asset=service.asset)
        sender.add(service)
        result = sender.notify(
            body=body(notification),
            title=notification.title,
            body_format=self._apprise.NotifyFormat.TEXT,
            timeout=self._budget,
        )
        self._raise_for(result, name)

    def _service(self, target: str | None) -> NotifyBase:
        if not target or not target.strip():
            raise InvalidTarget("target", "the apprise channel needs an Apprise URL as its target")
        # Redirects are never followed: a public host could otherwise send the request on to a
        # private one after every check here has passed. `?redirect=yes` in the URL would turn them
        # back on for its service, so the service is told again below.
        asset = self._apprise.AppriseAsset(service_timeout=self._budget, http_redirects=False)
        service: NotifyBase | None = self._apprise.Apprise.instantiate(target.strip(), asset=asset)
        if service is None:
            raise InvalidTarget(
                "target", "the target is not a usable Apprise URL (unknown service or missing details)"
            )
        self._check_reach(target.strip().split("://", 1)[0].lower(), service)
        service.retry = 0
        service.redirects = False
        # Apprise's network plugins take their connect and read timeouts from these.
        service.socket_connect_timeout = self._timeout
        service.socket_read_timeout = self._timeout
        return service

    def _check_reach(self, scheme: str, service: NotifyBase) -> None:
        if self._allow_private_targets:
            return
        if scheme in _LOCAL_SERVICES:
            raise InvalidTarget(
                "target",
                f"{scheme}:// notifies this machine itself; targets must be public services "
                "(use --allow-private-targets for local development)",
            )
        try:
            for host in _contacted_hosts(service):
                check_public_host(host, allow_private=False)
        except NonPublicAddress as error:
            raise InvalidTarget("target", error.message) from None

    def _raise_for(self, result: Any, name: str) -> None:
        status = self._apprise.AppriseResultStatus
        if result.status == status.SUCCESS:
            return
        outcomes = list(result.results)
        if not outcomes:
            raise PermanentChannelError(f"Apprise did not send to {name}: {result.status.name.lower()}")
        outcome = outcomes[0]
        if outcome.status == status.TIMEOUT:
            raise TransientChannelError(f"Apprise {name} did not finish within {self._budget:g}s")
        messages = [entry.message for entry in outcome.logs()]
        codes = [int(code) for message in messages for code in _STATUS.findall(message)]
        if codes:
            code = codes[-1]
            if code == 429 or code >= 500:
                raise TransientChannelError(f"Apprise {name} notification failed: HTTP {code}")
            raise PermanentChannelError(f"Apprise {name} notification failed: HTTP {code}")
        if any(_CONNECTION.search(message) for message in messages):
            raise TransientChannelError(f"Apprise {name} could not be reached (connection error or timeout)")
        raise TransientChannelError(f"Apprise {name} notification failed (Apprise gave no reason)")


def _contacted_hosts(service: NotifyBase) -> list[str]:
    """The hosts `service` connects to that its URL names: its host when the service takes one
    (a "host" among its template tokens; services that take only tokens keep a token there), and
    an email service's SMTP server, which `?smtp=` may name apart."""
    hosts = []
    host = getattr(service, "host", None)
    if host and "host" in getattr(type(service), "template_tokens", {}):
        hosts.append(str(host))
    smtp_host = getattr(service, "smtp_host", None)
    if smtp_host:
        hosts.append(str(smtp_host))
    return [host.strip("[]") for host in hosts]
