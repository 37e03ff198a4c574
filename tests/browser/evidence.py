"""Where the browser tests leave what they saw: screenshots of failed tests, and the README's
screenshots when they are not being updated."""

from __future__ import annotations

import os
from pathlib import Path

ARTIFACTS = Path(os.environ.get("REMINDERS_BROWSER_ARTIFACTS") or Path(__file__).parent / "artifacts")


def artifacts(*parts: str) -> Path:
    """The artifacts folder (or a folder in it), created when missing."""
    folder = ARTIFACTS.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
