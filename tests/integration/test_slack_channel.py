"""The Slack channel against a real HTTP receiver on 127.0.0.1 standing in for hooks.slack.com."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from adapters.slack_channel import SlackChannel
from domain.errors import InvalidTarget
from tests.integration.conftest import TIMEOUT, Sending, assert_no_secret, errors, make_notification
from tests.integration.peers import HttpReceiver, Reply

TOKEN = "xQ7vR2mK9pL4sT8wY3zA6bC1"
HOOK_PATH = f"/services/T0123ABCD/B0456EFGH/{TOKEN}"


@pytest.fixture
def channel() -> Iterator[SlackChannel]:
    slack = SlackChannel(
        timeout=TIMEOUT,
        allowed_hosts=frozenset({"127.0.0.1"}),
        allow_insecure_local=True,
        allow_private_targets=True,  # the receiver is on 127.0.0.1
    )
    yield slack
    slack.close()


@pytest.fixture
def hook(receiver: HttpReceiver) -> str:
    return receiver.url(HOOK_PATH)


def test_a_reminder_is_posted_as_a_slack_message(
    channel: SlackChannel, receiver: HttpReceiver, hook: str
) -> None:
    outcome = Sending("slack", channel).send(make_notification("slack", hook))

    assert outcome.error is None
    [request] = receiver.requests
    assert request.path == HOOK_PATH
    assert request.headers["content-type"].startswith("application/json")
    assert json.loads(request.body) == {
        "text": "Standup for Ann\nJoin the call &lt;now&gt; &amp; say hi",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Standup for Ann*\nJoin the call &lt;now&gt; &amp; say hi",
                },
            }
        ],
    }


def test_a_long_message_fits_slacks_section_limit(
    channel: SlackChannel, receiver: HttpReceiver, hook: str
) -> None:
    outcome = Sending("slack", channel).send(make_notification("slack", hook, message="word " * 800))

    assert outcome.error is None
    section = json.loads(receiver.requests[0].body)["blocks"][0]["text"]["text"]
    assert len(section) == 3000
    assert section.endswith("…")


def test_slack_errors_then_success_are_retried(
    channel: SlackChannel, receiver: HttpReceiver, hook: str
) -> None:
    receiver.script(Reply(500, b"internal_error"), Reply(503, b""), Reply(200, b"ok"))

    outcome = Sending("slack", channel).send(make_notification("slack", hook))

    assert outcome.error is None
    assert errors(outcome) == [
        "Slack webhook at 127.0.0.1 answered 500 Internal Server Error",
        "Slack webhook at 127.0.0.1 answered 503 Service Unavailable",
        None,
    ]
    assert len(receiver.requests) == 3


def test_a_removed_webhook_fails_at_once_with_the_status_line_only(
    channel: SlackChannel, receiver: HttpReceiver, hook: str
) -> None:
    receiver.script(Reply(404, b"no_service"))

    outcome = Sending("slack", channel).send(make_notification("slack", hook))

    assert outcome.error == "Slack webhook at 127.0.0.1 answered 404 Not Found"
    assert len(outcome.attempts) == 1


def test_rate_limiting_honours_retry_after(channel: SlackChannel, receiver: HttpReceiver, hook: str) -> None:
    receiver.script(Reply(429, b"rate_limited", {"Retry-After": "2"}))
    sending = Sending("slack", channel, max_seconds=60)

    outcome = sending.send(make_notification("slack", hook))

    assert (outcome.error, len(outcome.attempts), sending.waits) == (None, 2, [2.0])


def test_a_slow_slack_times_out_and_is_retried(
    channel: SlackChannel, receiver: HttpReceiver, hook: str
) -> None:
    receiver.script(Reply(200, delay=TIMEOUT * 5))

    outcome = Sending("slack", channel).send(make_notification("slack", hook))

    assert errors(outcome) == ["Slack webhook at 127.0.0.1 timed out after 0.3s (ReadTimeout)", None]


def test_the_webhook_token_reaches_no_log_and_no_error(
    channel: SlackChannel, receiver: HttpReceiver, hook: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.script(Reply(500, b"oops"), Reply(403, f"invalid_token {TOKEN}".encode()))

    outcome = Sending("slack", channel).send(make_notification("slack", hook))

    assert outcome.error == "Slack webhook at 127.0.0.1 answered 403 Forbidden"
    assert_no_secret([TOKEN], caplog.records, errors(outcome))


@pytest.mark.parametrize(
    "target",
    [
        f"https://hooks.slack.com{HOOK_PATH}",
        f"https://HOOKS.slack.com{HOOK_PATH}",
    ],
)
def test_the_default_channel_takes_slack_webhook_urls(target: str) -> None:
    SlackChannel(timeout=TIMEOUT).validate_target(target)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (None, "needs a target"),
        (f"http://hooks.slack.com{HOOK_PATH}", "https"),
        (f"https://example.com{HOOK_PATH}", "hooks.slack.com"),
        (f"https://hooks.slack.com.evil.example{HOOK_PATH}", "hooks.slack.com"),
        ("https://hooks.slack.com/", "path"),
        ("hooks.slack.com/services/T/B/x", "https"),
    ],
)
def test_other_targets_are_refused_without_echoing_them(target: str | None, reason: str) -> None:
    with pytest.raises(InvalidTarget, match=reason) as raised:
        SlackChannel(timeout=TIMEOUT).validate_target(target)
    assert raised.value.field == "target"
    assert TOKEN not in raised.value.message


def test_plain_http_needs_the_local_allowance_and_a_loopback_host(receiver: HttpReceiver) -> None:
    hosts = frozenset({"127.0.0.1", "relay.internal"})
    strict = SlackChannel(timeout=TIMEOUT, allowed_hosts=hosts, allow_private_targets=True)
    local = SlackChannel(
        timeout=TIMEOUT, allowed_hosts=hosts, allow_insecure_local=True, allow_private_targets=True
    )

    with pytest.raises(InvalidTarget, match="https"):
        strict.validate_target(receiver.url(HOOK_PATH))
    local.validate_target(receiver.url(HOOK_PATH))
    with pytest.raises(InvalidTarget, match="https"):
        local.validate_target(f"http://relay.internal{HOOK_PATH}")
