"""Sign-in links by email, through the SMTP server the email channel uses (adapters/smtp_channel.py).

A plain-text message with the link on a line of its own. The person's and the team's names are
their own text: they reach the headers only through adapters/email_message.py, which keeps them
from adding a header. The link is the sign-in itself, so nothing here logs it; a failure raises
the transport's ChannelError, whose text is the server's answer, never the message.
"""

from __future__ import annotations

import ssl

from adapters.email_message import compose_text, one_line
from adapters.smtp_channel import SmtpConfig, SmtpTransport


class SmtpSignInMailer:
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

    def __repr__(self) -> str:
        return self._transport.describe("SmtpSignInMailer")

    def send(self, *, to_name: str, to_email: str, team_name: str, url: str, minutes: int) -> None:
        message = compose_text(
            subject_text=f"Sign in to {team_name}",
            body=_body(one_line(to_name), one_line(team_name), url, minutes),
            sender=self._transport.sender,
            to_name=to_name,
            to_email=to_email,
        )
        self._transport.deliver(message, to_address=to_email)


def _body(name: str, team: str, url: str, minutes: int) -> str:
    return (
        f"Hello {name},\n\n"
        f"Open this link to sign in to {team} on Team Reminders. It works once, "
        f"within {minutes} minutes:\n\n"
        f"{url}\n\n"
        "If you did not ask to sign in, you can ignore this message: nobody signs in without the link.\n"
    )
