"""redact(): secrets in URLs are masked wherever they appear in a text; everything else is left alone."""

from __future__ import annotations

import pytest

from domain.redaction import redact

SLACK_TOKEN = "xQ7vR2mK9pL4sT8wY3zA6bC1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # URL passwords, whatever the scheme; the user and host stay readable.
        ("smtp://mailer:hunter2@mail.example.com:587", "smtp://mailer:****@mail.example.com:587"),
        ("smtps://mailer:p@ss@w0rd@mail.example.com", "smtps://mailer:****@mail.example.com"),
        ("https://:only-password@example.com/x", "https://:****@example.com/x"),
        (
            "could not reach smtp://a:b1@h1 nor https://c:d2@h2/p?q=1 today",
            "could not reach smtp://a:****@h1 nor https://c:****@h2/p?q=1 today",
        ),
        # Slack: the path keeps its team and bot ids, the secret last segment is masked.
        (
            f"https://hooks.slack.com/services/T0123ABCD/B0456EFGH/{SLACK_TOKEN}",
            "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/****",
        ),
        (
            "POST https://hooks.slack.com/services/T0001/B0002/abc123 failed",
            "POST https://hooks.slack.com/services/T0001/B0002/**** failed",
        ),
        (
            "https://hooks.slack.com/triggers/T0123ABCD/4567890/0a1b2c3d4e",
            "https://hooks.slack.com/triggers/T0123ABCD/4567890/****",
        ),
        # Other well-known webhook shapes.
        (
            "https://discord.com/api/webhooks/123456/aBc-dEf_123",
            "https://discord.com/api/webhooks/123456/****",
        ),
        (
            "https://api.telegram.org/bot123456:AAF-x_yZ/sendMessage",
            "https://api.telegram.org/bot****/sendMessage",
        ),
        # Credential-like query parameters, by name, case-insensitively.
        (
            "https://x.example/hook?token=abc&page=2&API_KEY=zzz&signature=9f&secret=s",
            "https://x.example/hook?token=****&page=2&API_KEY=****&signature=****&secret=****",
        ),
        ("https://x.example/cb?code=oauth-code#frag", "https://x.example/cb?code=****#frag"),
        ("https://x.example/a?access_token=t1&pwd=p2", "https://x.example/a?access_token=****&pwd=****"),
        # A long mixed-case token as a path segment.
        (
            "https://ntfy.example/AbCdEfGh1234567890abcdefXYZ/publish",
            "https://ntfy.example/****/publish",
        ),
        (
            "https://h.example/AbCdEfGh1234567890abcdefXYZ/x/ZyXwVuTs0987654321zyxwvuABC",
            "https://h.example/****/x/****",
        ),
    ],
)
def test_secrets_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "the receiver answered 503 Service Unavailable",
        "mail ann@example.com at 09:00",
        "smtp://mail.example.com:25",
        "smtp://mailer@mail.example.com",
        "http://[::1]:8080/hook",
        "https://example.com/hooks/team?page=2&limit=10",
        # Ids are not tokens: UUIDs (lower-case hex) and ULIDs (upper case) stay readable.
        "https://example.com/deliveries/4f9c2b7d0e8a4f1b9c3d2e1f0a9b8c7d",
        "https://example.com/deliveries/01HZX3K4M5N6P7Q8R9S0T1V2W3",
        "a bare word like AbCdEfGh1234567890abcdefXYZ outside a URL",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_redacting_twice_changes_nothing_more() -> None:
    text = f"smtp://u:pw@h https://hooks.slack.com/services/T1/B2/{SLACK_TOKEN} https://x/?token=t"
    once = redact(text)
    assert redact(once) == once
    assert "pw@" not in once
    assert SLACK_TOKEN not in once
    assert "token=t" not in once


def test_an_action_link_token_is_masked() -> None:
    link = "https://reminders.example.com/links/eyJkIjoiZDEifQ.aVW5AA.w7TIEQHX2SAyAnthZSQe6xB-oTY"
    assert redact(f"see {link} now") == "see https://reminders.example.com/links/**** now"
    assert redact("/links/abc.def") == "/links/****"
