"""The email a reminder becomes: headers, a plain-text part and an HTML part. Shared by the email channels.

It is addressed to the person the reminder is for (the recipient of a team reminder, else the
owner), and ends with the acknowledge and snooze links when the notification carries them.

The title and the owner's name are a caller's text, and text can smuggle headers in. A line break is
turned into a space; and an RFC 2047 encoded word ("=?utf-8?b?…?=") is kept as the literal text it
is. The email package cannot be trusted with the latter: its header registry decodes an encoded word
in a value a program sets, then writes the decoded text back out raw, line breaks and all (fixed in
later Pythons as CVE-2024-6923). So a header whose text holds one is encoded here, and stored as it is.
"""

from __future__ import annotations

import html
import unicodedata
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from application.channels import Notification
from domain.errors import InvalidTarget


def validate_no_target(target: str | None) -> None:
    if target is not None:
        raise InvalidTarget("target", "the email channel takes no target; it mails whom the reminder is for")


def envelope_address(sender: str) -> str:
    """The bare address in `sender` ("Team <team@example.com>" or "team@example.com"); ValueError if none."""
    _, address = parseaddr(sender)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(char.isspace() for char in address):
        raise ValueError("the email sender must be an address such as reminders@example.com")
    return address


# Headers stored ready-encoded are written as they are, never re-read (and so never decoded) first.
_POLICY = policy.SMTP.clone(refold_source="none")
# What the email package's header parser reads as an encoded word: text holding it is encoded here.
_ENCODED_WORD = "=?"
# Control characters and line or paragraph separators: anything that could end a header line.
_BREAKS = frozenset({"Cc", "Zl", "Zp"})
# The links a message may carry (see Notification.actions), with the words that introduce them.
_ACTIONS = (("ack_url", "Acknowledge"), ("snooze_url", "Snooze 10 minutes"))


def one_line(text: str) -> str:
    """`text` as one line of words: control characters and line separators become spaces."""
    spaced = "".join(" " if unicodedata.category(char) in _BREAKS else char for char in text)
    return " ".join(spaced.split())


def subject(notification: Notification) -> str:
    return one_line(notification.title)


def message_id(notification: Notification, sender: str) -> str:
    """The same for every attempt of one delivery, so a receiving system can spot a resend."""
    domain = envelope_address(sender).rpartition("@")[2]
    return f"<reminder-delivery-{notification.delivery_id}@{domain}>"


def action_links(notification: Notification) -> list[tuple[str, str]]:
    """(words, url) of each link the message ends with, in order; none when it carries none."""
    return [(words, notification.actions[key]) for key, words in _ACTIONS if notification.actions.get(key)]


def text_body(notification: Notification) -> str:
    links = "".join(f"{words}: {url}\n" for words, url in action_links(notification))
    return notification.message + "\n" + (f"\n{links}" if links else "")


def _html(notification: Notification) -> str:
    paragraphs = "".join(
        f"<p>{'<br>'.join(html.escape(line) for line in block.splitlines())}</p>\n"
        for block in notification.message.split("\n\n")
        if block.strip()
    )
    links = action_links(notification)
    if links:
        anchors = " · ".join(
            f'<a href="{html.escape(url, quote=True)}">{html.escape(words)}</a>' for words, url in links
        )
        paragraphs += f"<p>{anchors}</p>\n"
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(subject(notification))}</title></head>\n<body>\n{paragraphs}</body></html>\n"
    )


def _encoded(text: str, header: str) -> str:
    """`text` as RFC 2047 encoded words, folded to fit a line after `header`, which any reader decodes
    back to exactly `text`."""
    return Header(text, "utf-8", header_name=header).encode()


def _set_subject(message: EmailMessage, text: str) -> None:
    if _ENCODED_WORD in text:
        message.set_raw("Subject", _encoded(text, "Subject"))
    else:
        message["Subject"] = text


def _set_recipient(message: EmailMessage, name: str, address: str) -> None:
    if _ENCODED_WORD in name or _ENCODED_WORD in address:
        # The address is written as given: an encoded word has no meaning inside one.
        phrase = f"{_encoded(name, 'To')} " if name else ""
        message.set_raw("To", f"{phrase}<{address}>")
    else:
        local, _, domain = address.rpartition("@")
        message["To"] = Address(display_name=name, username=local, domain=domain)


def _addressed(
    *, subject_text: str, sender: str, to_name: str, to_email: str, message_id: str
) -> EmailMessage:
    """A message with its headers set, none of which a caller's text can add to."""
    message = EmailMessage(policy=_POLICY)
    _set_subject(message, one_line(subject_text))
    message["From"] = sender
    _set_recipient(message, one_line(to_name), to_email)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    # RFC 3834: tells auto-responders (out-of-office replies) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    return message


def compose(notification: Notification, *, sender: str) -> EmailMessage:
    message = _addressed(
        subject_text=subject(notification),
        sender=sender,
        to_name=notification.to_name,
        to_email=notification.to_email,
        message_id=message_id(notification, sender),
    )
    message.set_content(text_body(notification))
    message.add_alternative(_html(notification), subtype="html")
    return message


def compose_text(*, subject_text: str, body: str, sender: str, to_name: str, to_email: str) -> EmailMessage:
    """A plain-text message of the service's own (a sign-in link), with a Message-ID of its own."""
    domain = envelope_address(sender).rpartition("@")[2]
    message = _addressed(
        subject_text=subject_text,
        sender=sender,
        to_name=to_name,
        to_email=to_email,
        message_id=make_msgid(domain=domain),
    )
    message.set_content(body)
    return message
