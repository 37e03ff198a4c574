"""Fixtures of the process tests: webhook receivers in processes of their own, stopped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.process.receivers import Behaviour, ReceiverProcess

StartReceiver = Callable[..., ReceiverProcess]


@pytest.fixture
def start_receiver(tmp_path: Path) -> Iterator[StartReceiver]:
    """`start_receiver(name, host="127.0.0.1", delay=0, status=200, retry_after=None)`."""
    started: list[ReceiverProcess] = []

    def start(name: str, host: str = "127.0.0.1", **behaviour: float | int | None) -> ReceiverProcess:
        receiver = ReceiverProcess(tmp_path, name, host, Behaviour(**behaviour))  # type: ignore[arg-type]
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()
