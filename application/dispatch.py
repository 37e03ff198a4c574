"""The dispatcher port: hands a command to run later, off the caller's thread.

The scheduler uses it so the tick never waits on a channel: a due reminder's delivery is
submitted here and runs on a bounded pool.
"""

from __future__ import annotations

from typing import Protocol

from application.commands import Command


class Dispatcher(Protocol):
    def submit(self, command: Command) -> None: ...
