"""The Apprise channel against a real HTTP receiver on 127.0.0.1, through Apprise's json:// service."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adapters.apprise_channel import AppriseChannel, AppriseUnavailable
from domain.errors import InvalidTarget
from tests.integration.conftest import TIMEOUT, Sending, assert_no_secret, errors, make_notification
from tests.integration.peers import HOST, HttpReceiver, Reply, free_port

# Apprise's PGP support imports a stdlib module that Python 3.11 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Pw-apprise-5ecret"


@pytest.fixture
def channel() -> AppriseChannel:
    return AppriseChannel(timeout=TIMEOUT, allow_private_targets=True)  # the receiver is on 127.0.0.1


def target(receiver: HttpReceiver, query: str = "") -> str:
    return f"json://mailer:{PASSWORD}@{HOST}:{receiver.port}/hook{query}"


def test_a_reminder_goes_out_through_the_apprise_service(
    channel: AppriseChannel, receiver: HttpReceiver
) -> None:
    outcome = Sending("apprise", channel).send(make_notification("apprise", target(receiver)))

    assert outcome.error is None
    [request] = receiver.requests
    assert request.path == "/hook"
    body = json.loads(request.body)
    assert (body["title"], body["message"]) == ("Standup for Ann", "Join the call <now> & say hi")


def test_apprise_does_not_retry_on_its_own_even_when_the_url_asks(
    channel: AppriseChannel, receiver: HttpReceiver
) -> None:
    receiver.script(Reply(503, b"busy"), Reply(503, b"busy"), Reply(200))

    outcome = Sending("apprise", channel).send(make_notification("apprise", target(receiver, "?retry=5")))

    assert outcome.error is None
    assert errors(outcome) == ["Apprise JSON notification failed: HTTP 503"] * 2 + [None]
    assert len(receiver.requests) == 3  # one request per attempt of ours


def test_a_client_error_fails_at_once(channel: AppriseChannel, receiver: HttpReceiver) -> None:
    receiver.script(Reply(404, b"gone"))

    outcome = Sending("apprise", channel).send(make_notification("apprise", target(receiver)))

    assert outcome.error == "Apprise JSON notification failed: HTTP 404"
    assert len(outcome.attempts) == 1


def test_a_slow_service_times_out_and_is_retried(channel: AppriseChannel, receiver: HttpReceiver) -> None:
    receiver.script(Reply(200, delay=TIMEOUT * 5))

    outcome = Sending("apprise", channel).send(make_notification("apprise", target(receiver)))

    assert errors(outcome) == ["Apprise JSON could not be reached (connection error or timeout)", None]


def test_an_unreachable_service_is_transient(channel: AppriseChannel) -> None:
    url = f"json://{HOST}:{free_port()}/hook"

    outcome = Sending("apprise", channel).send(make_notification("apprise", url))

    assert errors(outcome) == ["Apprise JSON could not be reached (connection error or timeout)"] * 4


def test_the_url_password_reaches_no_error(
    channel: AppriseChannel, receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.script(Reply(500), Reply(401, b"who are you"))

    outcome = Sending("apprise", channel).send(make_notification("apprise", target(receiver)))

    assert outcome.error == "Apprise JSON notification failed: HTTP 401"
    # Apprise's own log lines mask URL passwords too (its secure logging is on by default).
    assert_no_secret([PASSWORD], caplog.records, errors(outcome))


@pytest.mark.parametrize("url", [None, "", "nosuchservice://x/y", "not a url", "json://"])
def test_an_unusable_apprise_url_is_refused_without_echoing_it(
    channel: AppriseChannel, url: str | None
) -> None:
    with pytest.raises(InvalidTarget) as raised:
        channel.validate_target(url)
    assert raised.value.field == "target"
    assert not url or url not in raised.value.message


def test_a_known_service_url_is_accepted(channel: AppriseChannel) -> None:
    channel.validate_target("json://example.com/hook")
    channel.validate_target("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ")


def test_the_module_imports_without_apprise_and_the_channel_says_what_is_missing() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["apprise"] = None  # as if it were not installed
        from adapters.apprise_channel import AppriseChannel, AppriseUnavailable
        try:
            AppriseChannel(timeout=1)
        except AppriseUnavailable as error:
            print(error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'team-reminders[apprise]'" in result.stdout
    assert issubclass(AppriseUnavailable, RuntimeError)


@pytest.mark.parametrize("query", ["", "?redirect=yes"])
def test_a_redirect_is_never_followed_so_no_check_can_be_gone_round(
    channel: AppriseChannel, receiver: HttpReceiver, query: str
) -> None:
    inward = HttpReceiver().start()
    try:
        receiver.script(Reply(307, b"", {"Location": inward.url("/metadata")}))

        outcome = Sending("apprise", channel).send(make_notification("apprise", target(receiver, query)))

        assert outcome.error is not None
        assert len(receiver.requests) == 1
        assert inward.requests == []
    finally:
        inward.stop()
