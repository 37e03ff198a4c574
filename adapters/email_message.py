"""The email a reminder becomes: headers, a plain-text part and an HTML part. Shared by the email channels."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

from application.channels import Notification
from domain.errors import InvalidTarget


def validate_no_target(target: str | None) -> None:
    if target is not None:
        raise InvalidTarget("target", "the email channel takes no target; it mails the reminder's owner")


def envelope_address(sender: str) -> str:
    """The bare address in `sender` ("Team <team@example.com>" or "team@example.com"); ValueError if none."""
    _, address = parseaddr(sender)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(char.isspace() for char in address):
        raise ValueError("the email sender must be an address such as reminders@example.com")
    return address


def subject(notification: Notification) -> str:
    # A header cannot hold line breaks; a title may.
    return " ".join(notification.title.split())


def message_id(notification: Notification, sender: str) -> str:
    """The same for every attempt of one delivery, so a receiving system can spot a resend."""
    domain = envelope_address(sender).rpartition("@")[2]
    return f"<reminder-delivery-{notification.delivery_id}@{domain}>"


def _html(notification: Notification) -> str:
    paragraphs = "".join(
        f"<p>{'<br>'.join(html.escape(line) for line in block.splitlines())}</p>\n"
        for block in notification.message.split("\n\n")
        if block.strip()
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(subject(notification))}</title></head>\n<body>\n{paragraphs}</body></html>\n"
    )


def compose(notification: Notification, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(notification)
    message["From"] = sender
    message["To"] = formataddr((" ".join(notification.owner_name.split()), notification.owner_email))
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(notification, sender)
    # RFC 3834: tells auto-responders (out-of-office replies) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notification.message + "\n")
    message.add_alternative(_html(notification), subtype="html")
    return message
