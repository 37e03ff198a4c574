"""A command-line client for a running service: `reminders users`, `reminders remind` and
`reminders deliveries`, over HTTP at $REMINDERS_URL.

`register` adds the subcommands to the `reminders` parser; `run` carries out a parsed one.
"""

from __future__ import annotations

from entrypoints.client.arguments import COMMANDS, register
from entrypoints.client.commands import run

__all__ = ["COMMANDS", "register", "run"]
