"""Sign-in links mailed through SMTP, against a real aiosmtpd server on 127.0.0.1: one plain-text
message to the person, the link on a line of its own, and no header a name could smuggle in."""

from __future__ import annotations

import pytest

from adapters.smtp_channel import SmtpConfig
from adapters.smtp_sign_in_mailer import SmtpSignInMailer
from application.channels import ChannelError, PermanentChannelError, TransientChannelError
from application.commands import CreateTeam, RedeemSignInLink, SendSignInLinks
from application.handlers.web_sessions import WebSessionStarted
from application.sign_in_mail import SignInMailer
from entrypoints.bootstrap import bootstrap_runtime, close_runtime, open_store
from entrypoints.settings import ServeSettings
from tests.integration.conftest import TIMEOUT
from tests.integration.peers import HOST, SmtpServer, free_port
from tests.integration.test_smtp_channel import INJECTION, sent_headers

SENDER = "Team Reminders <reminders@example.org>"
URL = "https://reminders.example.com/app/sign-in/link/Zx3_k9QmVb7Lw2Rt8Yp4Nc6Hd1Jf5Gs0Ae-Ui7Oy2Te"
HEADERS = ["auto-submitted", "content-transfer-encoding", "content-type", "date", "from"]
HEADERS += ["message-id", "mime-version", "subject", "to"]


def mailer_for(port: int) -> SmtpSignInMailer:
    return SmtpSignInMailer(SmtpConfig(host=HOST, port=port), sender=SENDER, timeout=TIMEOUT)


def send(mailer: SignInMailer, *, to_name: str = "Ann", team_name: str = "Platform", url: str = URL) -> None:
    mailer.send(to_name=to_name, to_email="ann@example.com", team_name=team_name, url=url, minutes=15)


def test_the_link_is_mailed_to_the_person_in_plain_text(smtp_server: SmtpServer) -> None:
    send(mailer_for(smtp_server.port))

    [mail] = smtp_server.handler.mails
    assert (mail.mail_from, mail.rcpt_tos) == ("reminders@example.org", ["ann@example.com"])
    message = mail.message
    assert message["To"] == "Ann <ann@example.com>"
    assert message["From"] == SENDER
    assert message["Subject"] == "Sign in to Platform"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@example.org>")
    assert message.get_content_type() == "text/plain"
    body = mail.part("plain")
    assert f"\n{URL}\n" in body  # on a line of its own, whole, as a mail reader links it
    assert "Hello Ann," in body
    assert "within 15 minutes" in body
    assert "Platform" in body


def test_each_message_has_an_id_of_its_own(smtp_server: SmtpServer) -> None:
    mailer = mailer_for(smtp_server.port)
    send(mailer)
    send(mailer)

    first, second = smtp_server.handler.mails
    assert first.message["Message-ID"] != second.message["Message-ID"]


@pytest.mark.parametrize("field", ["to_name", "team_name"])
def test_a_name_never_adds_a_header(smtp_server: SmtpServer, field: str) -> None:
    send(mailer_for(smtp_server.port), **{field: INJECTION})

    [mail] = smtp_server.handler.mails
    assert mail.rcpt_tos == ["ann@example.com"]
    headers = sent_headers(mail)
    assert sorted(header.split(":", 1)[0].lower() for header in headers) == HEADERS, headers


def test_a_refusal_raises_without_the_link(smtp_server: SmtpServer) -> None:
    smtp_server.handler.replies = [f"550 5.7.1 Rejected: {URL}"]

    with pytest.raises(PermanentChannelError) as refused:
        send(mailer_for(smtp_server.port))

    assert refused.value.message.startswith(f"SMTP server {HOST}:{smtp_server.port} answered: 550")
    assert URL.rsplit("/", 1)[1] not in refused.value.message
    assert smtp_server.handler.mails == []


def test_no_server_is_a_channel_error() -> None:
    port = free_port()

    with pytest.raises(TransientChannelError) as failed:
        send(mailer_for(port))

    assert isinstance(failed.value, ChannelError)
    assert failed.value.message == f"SMTP server {HOST}:{port} could not be reached: Connection refused"


# -- As `reminders serve` wires it ---------------------------------------------------------------


def test_serve_mails_sign_in_links_through_its_smtp_server(smtp_server: SmtpServer) -> None:
    settings = ServeSettings(
        database_url="memory://",
        smtp_url=f"smtp://{HOST}:{smtp_server.port}",
        email_from="reminders@example.org",
    )
    runtime = bootstrap_runtime(settings, open_store(settings, migrate=True))
    try:
        bus = runtime.service.bus
        bus.handle(CreateTeam(name="Platform", admin_name="Ann", admin_email="ann@example.com"))

        bus.handle(SendSignInLinks(email="ann@example.com", base_url="http://127.0.0.1:8000/"))

        [mail] = smtp_server.handler.mails
        assert (mail.rcpt_tos, mail.message["Subject"]) == (["ann@example.com"], "Sign in to Platform")
        [url] = [line for line in mail.part("plain").splitlines() if line.startswith("http")]
        assert url.startswith("http://127.0.0.1:8000/app/sign-in/link/")
        started = bus.handle(RedeemSignInLink(token=url.rsplit("/", 1)[1]))
        assert isinstance(started, WebSessionStarted)
    finally:
        close_runtime(runtime)


def test_serve_without_an_smtp_url_has_no_sign_in_mailer() -> None:
    settings = ServeSettings(database_url="memory://")
    runtime = bootstrap_runtime(settings, open_store(settings, migrate=True))
    try:
        assert runtime.service.sign_in_mailer is None
    finally:
        close_runtime(runtime)
