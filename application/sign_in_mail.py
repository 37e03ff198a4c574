"""The sign-in mail port: how a one-time sign-in link reaches the address it was asked for.

Only the web app's sign-in by email uses it; there is none when no SMTP server is set up, and
the sign-in page then offers the API key alone.
"""

from __future__ import annotations

from typing import Protocol


class SignInMailer(Protocol):
    def send(self, *, to_name: str, to_email: str, team_name: str, url: str, minutes: int) -> None:
        """Mail `url`, which signs `to_name` in to `team_name` once within `minutes`. Raises
        application.channels.ChannelError when the message did not go out; its text holds no secret
        (the url's token least of all)."""
        ...
