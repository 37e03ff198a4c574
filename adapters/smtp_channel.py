"""The `email` channel over SMTP: each reminder mailed to the person it is for (its recipient, else
its owner), one connection per attempt.

Configured by a URL: ``smtp://[user:password@]host[:port][?starttls=true]`` (port 25 by default)
or ``smtps://[user:password@]host[:port]`` (TLS from the first byte, port 465 by default). User and
password are percent-decoded.

Outcomes: connection errors, timeouts, a dropped connection and 4xx replies are transient; 5xx
replies (a refused recipient, failed authentication), a server without STARTTLS or AUTH, and a
certificate that does not verify are permanent. Once the server has accepted the message, a
failure to say goodbye is ignored: retrying would mail it twice.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qsl, unquote, urlsplit

from adapters.email_message import compose, envelope_address, validate_no_target
from application.channels import ChannelError, Notification, PermanentChannelError, TransientChannelError
from domain.redaction import MASK, redact

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_REPLY_LIMIT = 200
# Masking a shorter password would garble every message that happens to contain its letters.
_MASKED_LENGTH = 4


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        """The settings in an smtp:// or smtps:// URL; ValueError (never quoting the password) if unusable."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ValueError("the SMTP URL is malformed (check the host and port)") from None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ValueError("the SMTP URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("the SMTP URL has no host")
        if parts.path not in ("", "/") or parts.fragment:
            raise ValueError("the SMTP URL takes no path or fragment")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if (username is None) != (password is None):
            raise ValueError("the SMTP URL needs both a user and a password, or neither")
        starttls = _starttls(parts.query)
        if starttls and scheme == "smtps":
            raise ValueError("starttls=true applies to smtp:// only; smtps:// is encrypted from the start")
        return cls(
            host=parts.hostname,
            port=port if port is not None else _DEFAULT_PORTS[scheme],
            implicit_tls=scheme == "smtps",
            starttls=starttls,
            username=username,
            password=password,
        )

    @property
    def redacted_url(self) -> str:
        """The URL with the password masked: safe to show, e.g. in a health report."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}:****@" if self.username is not None else ""
        query = "?starttls=true" if self.starttls else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}{query}"


def _starttls(query: str) -> bool:
    starttls = False
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key != "starttls":
            raise ValueError(f"unknown SMTP URL option {key[:40]!r}; the only option is starttls")
        if value.lower() not in _BOOLEANS:
            raise ValueError("starttls in the SMTP URL must be true or false")
        starttls = _BOOLEANS[value.lower()]
    return starttls


class SmtpTransport:
    """One message at a time from `sender` through the configured server, a connection each, every
    failure classified as above. The email channel and the sign-in mailer are both built on it."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        sender: str,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`sender` is the From header (a ValueError unless it holds an address); `ssl_context`
        defaults to the system's trusted CAs: pass one to trust a private CA."""
        if timeout <= 0:
            raise ValueError("the SMTP timeout must be positive")
        self._config = config
        self._timeout = timeout
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._server = f"SMTP server {config.host}:{config.port}"
        self._sender = sender
        self._envelope_from = envelope_address(sender)

    @property
    def config(self) -> SmtpConfig:
        return self._config

    @property
    def sender(self) -> str:
        return self._sender

    def describe(self, owner: str) -> str:
        """A repr for `owner` (the class built on the transport) that shows no password."""
        return f"{owner}({self._config.redacted_url!r}, sender={self._sender!r})"

    def deliver(self, message: EmailMessage, *, to_address: str) -> None:
        """Hand `message` to the server for `to_address`; a ChannelError, free of secrets, if not taken."""
        try:
            smtp = self._open()
        except (smtplib.SMTPException, OSError) as error:
            raise self._classify(error) from None
        try:
            smtp.send_message(message, from_addr=self._envelope_from, to_addrs=[to_address])
        except (smtplib.SMTPException, OSError) as error:
            smtp.close()  # no QUIT: the server may be what failed, and it would cost another timeout
            raise self._classify(error) from None
        _quit(smtp)

    def _open(self) -> smtplib.SMTP:
        config = self._config
        smtp: smtplib.SMTP
        if config.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                config.host, config.port, timeout=self._timeout, context=self._ssl_context
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=self._timeout)
        try:
            if config.starttls:
                smtp.starttls(context=self._ssl_context)
            if config.username is not None and config.password is not None:
                smtp.login(config.username, config.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _classify(self, error: smtplib.SMTPException | OSError) -> ChannelError:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            code, reply = next(iter(error.recipients.values()), (-1, b""))
            return self._by_code(code, reply, "refused the recipient")
        if isinstance(error, smtplib.SMTPResponseException):
            return self._by_code(error.smtp_code, error.smtp_error, "answered")
        if isinstance(error, smtplib.SMTPServerDisconnected):
            # smtplib reports a reply that never came as a disconnection, raised while handling the timeout.
            if isinstance(error.__context__, TimeoutError):
                return self._timed_out()
            return TransientChannelError(self._scrub(f"{self._server} closed the connection: {error}"))
        if isinstance(error, smtplib.SMTPException):
            # STARTTLS or AUTH not offered, no usable AUTH method: the configuration, not the moment.
            return PermanentChannelError(self._scrub(f"{self._server} cannot be used: {error}"))
        if isinstance(error, ssl.SSLCertVerificationError):
            return PermanentChannelError(f"{self._server} has a certificate that does not verify")
        if isinstance(error, TimeoutError):
            return self._timed_out()
        reason = error.strerror or type(error).__name__
        return TransientChannelError(self._scrub(f"{self._server} could not be reached: {reason}"))

    def _scrub(self, text: str) -> str:
        # A server may quote what it was sent; a password is masked even where it has no URL around it.
        password = self._config.password
        if password and len(password) >= _MASKED_LENGTH:
            text = text.replace(password, MASK)
        return redact(text)

    def _timed_out(self) -> ChannelError:
        return TransientChannelError(f"{self._server} did not answer within {self._timeout:g}s")

    def _by_code(self, code: int, reply: bytes | str, what: str) -> ChannelError:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
        text = " ".join(text.split())[:_REPLY_LIMIT]
        summary = self._scrub(f"{self._server} {what}: {code} {text}".rstrip())
        if 500 <= code <= 599:
            return PermanentChannelError(summary)
        return TransientChannelError(summary)


class SmtpChannel:
    def __init__(
        self,
        config: SmtpConfig,
        *,
        sender: str,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`ssl_context` defaults to the system's trusted CAs; pass one to trust a private CA."""
        self._transport = SmtpTransport(config, sender=sender, timeout=timeout, ssl_context=ssl_context)
        self._config = config

    def __repr__(self) -> str:
        return self._transport.describe("SmtpChannel")

    def validate_target(self, target: str | None) -> None:
        validate_no_target(target)

    def peer(self, target: str | None) -> str | None:
        return self._config.host  # every email goes through the one SMTP server

    def send(self, notification: Notification) -> None:
        message = compose(notification, sender=self._transport.sender)
        self._transport.deliver(message, to_address=notification.to_email)


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()  # the message was already accepted
