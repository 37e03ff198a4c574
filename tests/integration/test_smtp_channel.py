"""The email channels: SMTP against a real aiosmtpd server on 127.0.0.1, and the log-only fallback."""

from __future__ import annotations

import base64
import logging
import ssl
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.utils import unquote

import pytest
import trustme

from adapters.log_email_channel import LogEmailChannel
from adapters.smtp_channel import SmtpChannel, SmtpConfig
from domain.errors import InvalidTarget
from tests.integration.conftest import TIMEOUT, Sending, assert_no_secret, errors, make_notification
from tests.integration.peers import HOST, Mail, SmtpServer, free_port

SENDER = "Team Reminders <reminders@example.org>"
PASSWORD = "s3cr3t-p@ss/w0rd"


def smtp_channel(server: SmtpServer) -> SmtpChannel:
    return SmtpChannel(SmtpConfig(host=HOST, port=server.port), sender=SENDER, timeout=TIMEOUT)


# -- Sending -------------------------------------------------------------------------------------


def test_a_reminder_is_mailed_to_its_owner_with_text_and_html(smtp_server: SmtpServer) -> None:
    notification = make_notification("email", title="Standup <b>for</b> Ann", message="Line one\n& <two>")

    outcome = Sending("email", smtp_channel(smtp_server)).send(notification)

    assert outcome.error is None
    assert [attempt.via for attempt in outcome.attempts] == [None]  # mailed, not a stand-in
    [mail] = smtp_server.handler.mails
    assert (mail.mail_from, mail.rcpt_tos) == ("reminders@example.org", ["ann@example.com"])
    message = mail.message
    assert message["Subject"] == "Standup <b>for</b> Ann"
    assert message["From"] == SENDER
    assert message["To"] == "Ann <ann@example.com>"
    assert message["Message-ID"] == "<reminder-delivery-d-0001@example.org>"
    assert message["Date"] is not None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert mail.part("plain") == "Line one\n& <two>\n"
    html = mail.part("html")
    assert "<p>Line one<br>&amp; &lt;two&gt;</p>" in html
    assert "<title>Standup &lt;b&gt;for&lt;/b&gt; Ann</title>" in html


def test_a_title_with_line_breaks_becomes_a_one_line_subject(smtp_server: SmtpServer) -> None:
    outcome = Sending("email", smtp_channel(smtp_server)).send(
        make_notification("email", title="Standup\nfor   Ann")
    )

    assert outcome.error is None
    assert smtp_server.handler.mails[0].message["Subject"] == "Standup for Ann"


# -- Hostile text in headers ---------------------------------------------------------------------

INJECTION = "x\r\nBcc: victim@example.com"
BASE64_WORD = f"=?utf-8?b?{base64.b64encode(INJECTION.encode()).decode()}?="
QUOTED_PRINTABLE_WORD = "=?utf-8?q?x=0D=0ABcc:_victim@example.com?="
# The headers every reminder email has, each once.
HEADERS = ["auto-submitted", "content-type", "date", "from", "message-id", "mime-version", "subject", "to"]

# (text sent, the text a reader must see)
HOSTILE_TEXTS = [
    pytest.param(BASE64_WORD, BASE64_WORD, id="base64-encoded-word"),
    pytest.param(QUOTED_PRINTABLE_WORD, QUOTED_PRINTABLE_WORD, id="quoted-printable-encoded-word"),
    pytest.param(
        "Standup =?UTF-8?Q?=0D=0ABcc=3A_victim=40example.com?= today",
        "Standup =?UTF-8?Q?=0D=0ABcc=3A_victim=40example.com?= today",
        id="encoded-word-inside-text",
    ),
    pytest.param(
        "Zoë =?utf-8?b?DQpCY2M6IHZAZXhhbXBsZS5jb20=?=",
        "Zoë =?utf-8?b?DQpCY2M6IHZAZXhhbXBsZS5jb20=?=",
        id="encoded-word-after-non-ascii",
    ),
    pytest.param(INJECTION, "x Bcc: victim@example.com", id="raw-crlf"),
    pytest.param("x\nBcc: victim@example.com", "x Bcc: victim@example.com", id="raw-lf"),
    pytest.param("x\u2028Bcc: victim@example.com", "x Bcc: victim@example.com", id="line-separator"),
]


def sent_headers(mail: Mail) -> list[str]:
    """The header section as it reached the server, one entry per header, continuation lines joined."""
    head = mail.content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    headers: list[str] = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            headers[-1] += line
        else:
            headers.append(line)
    return headers


def assert_only_the_owner_is_addressed(mail: Mail) -> None:
    assert mail.rcpt_tos == ["ann@example.com"]
    names = sorted(header.split(":", 1)[0].lower() for header in sent_headers(mail))
    assert names == HEADERS, sent_headers(mail)  # one Subject, one To, and no Bcc, Cc or anything else
    assert [recipient.addr_spec for recipient in mail.message["To"].addresses] == ["ann@example.com"]


def shown_name(mail: Mail) -> str:
    """The To header's display name as a mail reader shows it. Read with RFC 2047's own rules, not
    the email package's address parser, which keeps the space between two adjacent encoded words (a
    long name takes several) where the RFC drops it."""
    [to] = [header for header in sent_headers(mail) if header.lower().startswith("to:")]
    phrase = to.split(":", 1)[1].strip().rsplit(" <", 1)[0]
    return unquote(str(make_header(decode_header(phrase))))


@pytest.mark.parametrize(("text", "shown"), HOSTILE_TEXTS)
def test_a_title_never_adds_a_header(smtp_server: SmtpServer, text: str, shown: str) -> None:
    outcome = Sending("email", smtp_channel(smtp_server)).send(make_notification("email", title=text))

    assert outcome.error is None
    [mail] = smtp_server.handler.mails
    assert_only_the_owner_is_addressed(mail)
    assert mail.message["Subject"] == shown  # the literal text, not what an encoded word would decode to


@pytest.mark.parametrize(("text", "shown"), HOSTILE_TEXTS)
def test_an_owner_name_never_adds_a_header(smtp_server: SmtpServer, text: str, shown: str) -> None:
    outcome = Sending("email", smtp_channel(smtp_server)).send(make_notification("email", owner_name=text))

    assert outcome.error is None
    [mail] = smtp_server.handler.mails
    assert_only_the_owner_is_addressed(mail)
    assert shown_name(mail) == shown


@pytest.mark.parametrize(
    "name",
    [
        'O\'Brien, Ann (Ops) "AJ" <boss@example.com>',
        "back\\slash; semi:colon",
        "Zoë Ünal 🚀",
        "ends with =?",
        "=?utf-8?x?not an encoded word?=",
        "a" * 200,
    ],
)
def test_a_name_with_odd_characters_is_still_mailed(smtp_server: SmtpServer, name: str) -> None:
    outcome = Sending("email", smtp_channel(smtp_server)).send(make_notification("email", owner_name=name))

    assert outcome.error is None
    [mail] = smtp_server.handler.mails
    assert_only_the_owner_is_addressed(mail)
    assert shown_name(mail) == name


def test_an_address_that_looks_like_an_encoded_word_is_mailed_as_it_is(smtp_server: SmtpServer) -> None:
    # The form of address the API accepts allows these characters before the @.
    address = "=?utf-8?q?x=0d=0abcc=3a_v=40evil.example?=@example.com"

    outcome = Sending("email", smtp_channel(smtp_server)).send(
        make_notification("email", owner_email=address)
    )

    assert outcome.error is None
    [mail] = smtp_server.handler.mails
    assert len(mail.rcpt_tos) == 1  # (aiosmtpd decodes the encoded word when it reads the address)
    headers = sent_headers(mail)
    assert sorted(header.split(":", 1)[0].lower() for header in headers) == HEADERS
    [to] = [header for header in headers if header.lower().startswith("to:")]
    assert to.endswith(f" <{address}>")


def test_a_temporary_refusal_is_retried_with_the_same_message_id(smtp_server: SmtpServer) -> None:
    smtp_server.handler.replies = ["451 4.3.0 Try again later"]

    outcome = Sending("email", smtp_channel(smtp_server)).send(make_notification("email"))

    assert outcome.error is None
    assert errors(outcome) == [
        f"SMTP server {HOST}:{smtp_server.port} answered: 451 4.3.0 Try again later",
        None,
    ]
    assert smtp_server.handler.attempts == 2
    [mail] = smtp_server.handler.mails
    assert mail.message["Message-ID"] == "<reminder-delivery-d-0001@example.org>"


def test_a_permanent_refusal_fails_at_once(smtp_server: SmtpServer) -> None:
    smtp_server.handler.replies = ["550 5.1.1 No such user here"]

    outcome = Sending("email", smtp_channel(smtp_server)).send(make_notification("email"))

    assert outcome.error == f"SMTP server {HOST}:{smtp_server.port} answered: 550 5.1.1 No such user here"
    assert (len(outcome.attempts), smtp_server.handler.mails) == (1, [])


@pytest.mark.parametrize(
    ("reply", "attempts"),
    [("550 5.1.1 No such user here", 1), ("450 4.2.1 Mailbox busy", 4)],
)
def test_a_refused_recipient_is_permanent_or_transient_by_its_code(
    smtp_server: SmtpServer, reply: str, attempts: int
) -> None:
    smtp_server.handler.refused["nobody@example.com"] = reply

    outcome = Sending("email", smtp_channel(smtp_server)).send(
        make_notification("email", owner_email="nobody@example.com")
    )

    assert outcome.error == f"SMTP server {HOST}:{smtp_server.port} refused the recipient: {reply}"
    assert len(outcome.attempts) == attempts
    assert smtp_server.handler.mails == []


def test_a_server_slower_than_the_timeout_is_retried(smtp_server: SmtpServer) -> None:
    smtp_server.handler.delays = [TIMEOUT * 4]

    outcome = Sending("email", smtp_channel(smtp_server)).send(make_notification("email"))

    assert outcome.error is None
    assert errors(outcome) == [f"SMTP server {HOST}:{smtp_server.port} did not answer within 0.3s", None]
    # The stalled first attempt may still be accepted later; its Message-ID lets the mailbox drop it.
    assert smtp_server.handler.mails[0].message["Message-ID"] == "<reminder-delivery-d-0001@example.org>"


def test_no_server_listening_is_a_transient_failure() -> None:
    port = free_port()
    channel = SmtpChannel(SmtpConfig(host=HOST, port=port), sender=SENDER, timeout=TIMEOUT)

    outcome = Sending("email", channel).send(make_notification("email"))

    assert errors(outcome) == [f"SMTP server {HOST}:{port} could not be reached: Connection refused"] * 4


# -- Authentication and TLS ----------------------------------------------------------------------


@pytest.fixture
def auth_server() -> Iterator[SmtpServer]:
    server = SmtpServer(credentials=("mailer", PASSWORD)).start()
    yield server
    server.stop()


def test_the_url_credentials_log_in(auth_server: SmtpServer) -> None:
    config = SmtpConfig.parse(f"smtp://mailer:s3cr3t-p%40ss%2Fw0rd@{HOST}:{auth_server.port}")
    channel = SmtpChannel(config, sender=SENDER, timeout=TIMEOUT)

    outcome = Sending("email", channel).send(make_notification("email"))

    assert (outcome.error, auth_server.logins, len(auth_server.handler.mails)) == (None, ["mailer"], 1)


def test_a_wrong_password_fails_at_once_and_no_password_is_ever_shown(
    auth_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wr0ng-Passw0rd-xyz"
    channel = SmtpChannel(
        SmtpConfig.parse(f"smtp://mailer:{wrong}@{HOST}:{auth_server.port}"), sender=SENDER, timeout=TIMEOUT
    )
    right = SmtpChannel(
        SmtpConfig.parse(f"smtp://mailer:s3cr3t-p%40ss%2Fw0rd@{HOST}:{auth_server.port}"),
        sender=SENDER,
        timeout=TIMEOUT,
    )
    auth_server.handler.replies = ["451 later"]

    failed = Sending("email", channel).send(make_notification("email"))
    retried = Sending("email", right).send(make_notification("email"))

    assert failed.error is not None
    assert failed.error.startswith(f"SMTP server {HOST}:{auth_server.port} answered: 535")
    assert len(failed.attempts) == 1
    assert retried.error is None
    texts = [*errors(failed), *errors(retried), repr(channel), repr(right), repr(right._config)]
    assert_no_secret([wrong, PASSWORD], caplog.records, texts)


def test_a_server_quoting_the_password_does_not_put_it_in_the_error(auth_server: SmtpServer) -> None:
    config = SmtpConfig.parse(f"smtp://mailer:s3cr3t-p%40ss%2Fw0rd@{HOST}:{auth_server.port}")
    auth_server.handler.replies = [f"451 later, {PASSWORD} was noted"]

    outcome = Sending("email", SmtpChannel(config, sender=SENDER, timeout=TIMEOUT)).send(
        make_notification("email")
    )

    assert errors(outcome) == [
        f"SMTP server {HOST}:{auth_server.port} answered: 451 later, **** was noted",
        None,
    ]


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def tls_contexts(authority: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(HOST).configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return server, client


def test_smtps_sends_over_tls(authority: trustme.CA) -> None:
    server_context, client_context = tls_contexts(authority)
    server = SmtpServer(ssl_context=server_context).start()
    try:
        config = SmtpConfig.parse(f"smtps://{HOST}:{server.port}")
        channel = SmtpChannel(config, sender=SENDER, timeout=TIMEOUT, ssl_context=client_context)
        outcome = Sending("email", channel).send(make_notification("email"))
    finally:
        server.stop()

    assert (outcome.error, len(server.handler.mails)) == (None, 1)


def test_starttls_upgrades_before_logging_in(authority: trustme.CA) -> None:
    server_context, client_context = tls_contexts(authority)
    server = SmtpServer(tls_context=server_context, require_starttls=True, credentials=("mailer", PASSWORD))
    server.start()
    try:
        config = SmtpConfig.parse(f"smtp://mailer:s3cr3t-p%40ss%2Fw0rd@{HOST}:{server.port}?starttls=true")
        channel = SmtpChannel(config, sender=SENDER, timeout=TIMEOUT, ssl_context=client_context)
        outcome = Sending("email", channel).send(make_notification("email"))
    finally:
        server.stop()

    assert (outcome.error, server.logins, len(server.handler.mails)) == (None, ["mailer"], 1)


def test_an_untrusted_certificate_is_a_permanent_failure(authority: trustme.CA) -> None:
    server_context, _ = tls_contexts(authority)
    server = SmtpServer(ssl_context=server_context).start()
    try:
        channel = SmtpChannel(
            SmtpConfig.parse(f"smtps://{HOST}:{server.port}"), sender=SENDER, timeout=TIMEOUT
        )
        outcome = Sending("email", channel).send(make_notification("email"))
    finally:
        server.stop()

    assert outcome.error == f"SMTP server {HOST}:{server.port} has a certificate that does not verify"
    assert len(outcome.attempts) == 1


def test_starttls_against_a_server_without_it_is_a_permanent_failure(smtp_server: SmtpServer) -> None:
    channel = SmtpChannel(
        SmtpConfig.parse(f"smtp://{HOST}:{smtp_server.port}?starttls=true"), sender=SENDER, timeout=TIMEOUT
    )

    outcome = Sending("email", channel).send(make_notification("email"))

    assert outcome.error == (
        f"SMTP server {HOST}:{smtp_server.port} cannot be used: STARTTLS extension not supported by server."
    )
    assert len(outcome.attempts) == 1


# -- Targets and the log-only fallback -----------------------------------------------------------


@pytest.mark.parametrize("channel", [LogEmailChannel(), None])
def test_email_takes_no_target(channel: LogEmailChannel | None, smtp_server: SmtpServer) -> None:
    email = channel or smtp_channel(smtp_server)
    email.validate_target(None)
    with pytest.raises(InvalidTarget) as raised:
        email.validate_target("someone@example.com")
    assert raised.value.field == "target"


def test_without_smtp_the_whole_email_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    outcome = Sending("email", LogEmailChannel()).send(make_notification("email", title="Standup\nfor Ann"))

    assert outcome.error is None
    assert [attempt.via for attempt in outcome.attempts] == ["log"]  # the delivery says it was only logged
    [record] = [record for record in caplog.records if record.name == "reminders.channel.email"]
    assert record.levelno == logging.INFO
    fields = {key: getattr(record, key) for key in ("to", "subject", "body", "delivery_id", "reminder_id")}
    assert fields == {
        "to": "ann@example.com",
        "subject": "Standup for Ann",
        "body": "Join the call <now> & say hi",
        "delivery_id": "d-0001",
        "reminder_id": "r-0001",
    }


def test_the_sender_must_be_an_address() -> None:
    with pytest.raises(ValueError, match="address"):
        SmtpChannel(SmtpConfig(host=HOST, port=25), sender="reminders", timeout=TIMEOUT)


# -- SmtpConfig.parse ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpConfig("mail.example.com", 25)),
        ("smtps://mail.example.com", SmtpConfig("mail.example.com", 465, implicit_tls=True)),
        (
            "smtp://me%40example.com:p%3Ass@Mail.Example.com:587?starttls=true",
            SmtpConfig("mail.example.com", 587, starttls=True, username="me@example.com", password="p:ss"),
        ),
        ("SMTP://h:2525/?starttls=false", SmtpConfig("h", 2525)),
        ("smtps://u:@h", SmtpConfig("h", 465, implicit_tls=True, username="u", password="")),
        ("smtp://[::1]:2525", SmtpConfig("::1", 2525)),
    ],
)
def test_parse_reads_the_url(url: str, expected: SmtpConfig) -> None:
    assert SmtpConfig.parse(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://u:hunter2pw@h", "smtp:// or smtps://"),
        ("u:hunter2pw@h:25", "smtp:// or smtps://"),
        ("smtp://u:hunter2pw@", "no host"),
        ("smtp://u:hunter2pw@h:port", "malformed"),
        ("smtp://u:hunter2pw@h:70000", "malformed"),
        ("smtp://u:hunter2pw@[::1", "malformed"),
        ("smtp://u:hunter2pw@h/inbox", "no path"),
        ("smtp://u:hunter2pw@h?tls=yes", "unknown SMTP URL option 'tls'"),
        ("smtp://u:hunter2pw@h?starttls=maybe", "true or false"),
        ("smtps://u:hunter2pw@h?starttls=true", "smtp:// only"),
        ("smtp://:hunter2pw@h", "both a user and a password"),
        ("smtp://u@h", "both a user and a password"),
    ],
)
def test_parse_refuses_a_bad_url_without_quoting_the_password(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        SmtpConfig.parse(url)
    assert "hunter2pw" not in str(raised.value)
    # No chained exception (which a traceback would print) quotes the URL either.
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


def test_the_config_never_shows_its_password() -> None:
    config = SmtpConfig.parse("smtp://u:hunter2pw@h:587?starttls=true")
    assert "hunter2pw" not in repr(config)
    assert config.redacted_url == "smtp://u:****@h:587?starttls=true"
