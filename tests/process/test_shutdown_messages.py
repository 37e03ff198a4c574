"""What `serve`, `tick` and `worker` say when asked to stop: the signal, and what the stop waits for.

(test_bounded_shutdown.py holds the delivery worker to its own lines with 200 sends in flight.)
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx

from tests.process.api import client, create_reminder, create_user, reminder_body
from tests.process.processes import admin_key, running


def test_serve_says_how_many_requests_its_stop_waits_for_and_then_what_else(tmp_path: Path) -> None:
    # No delivery worker: a send-now request waits (up to 30 s) for a delivery nobody sends.
    args = ["--database-url", f"sqlite:///{tmp_path / 'reminders.db'}", "--no-delivery"]
    with (
        running("serve", [*args, "--send-wait-seconds", "30"], name="serve", cwd=tmp_path) as serve,
        client(serve.url, admin_key(serve), timeout=30) as http,
    ):
        owner = create_user(http, "Ann", "ann@example.com")
        reminder = create_reminder(
            http, reminder_body(owner["id"], "Stand-up", time_of_day="09:00", frequency="daily")
        )
        answers: list[httpx.Response] = []
        waiting = threading.Thread(
            target=lambda: answers.append(http.post(f"/notifications/send/{reminder['id']}"))
        )
        waiting.start()
        deadline = time.monotonic() + 10
        while http.get("/deliveries/", params={"status": "pending"}).json()["total"] == 0:
            assert time.monotonic() < deadline, f"the send-now request queued nothing\n{serve.describe()}"
            time.sleep(0.05)

        code = serve.stop(signal.SIGTERM)
        waiting.join(timeout=10)

    [stopping] = serve.logged("SIGTERM received")
    assert code == 0, serve.describe()
    assert stopping["message"] == (
        "SIGTERM received: stopping; waiting up to 10 s for 1 request in flight"
        " and any scheduler tick in progress"
    )
    assert stopping["requests_in_flight"] == 1
    assert [answer.status_code for answer in answers] == [202]  # answered at once, still pending


def test_serve_with_its_delivery_worker_names_it_among_what_the_stop_waits_for(tmp_path: Path) -> None:
    args = ["--database-url", "memory://", "--no-scheduler", "--shutdown-grace-seconds", "2.5"]
    with running("serve", args, name="serve", cwd=tmp_path) as serve:
        code = serve.stop(signal.SIGINT)

    assert code == 0, serve.describe()
    assert [line["message"] for line in serve.logged("SIGINT received")] == [
        "SIGINT received: stopping; waiting up to 2.5 s for 0 requests in flight"
        " and the delivery worker's sends"
    ]
    assert serve.logged("stopping delivery: 0 in flight, 0 claimed and not started; waiting up to 2.5 s")


def test_tick_says_whether_a_tick_is_in_progress_and_that_it_stopped(tmp_path: Path) -> None:
    args = ["--database-url", f"sqlite:///{tmp_path / 'reminders.db'}", "--tick-seconds", "0.5"]
    with running("tick", args, name="tick", cwd=tmp_path) as tick:
        code = tick.stop(signal.SIGTERM)

    assert code == 0, tick.describe()
    [stopping] = tick.logged("SIGTERM received: stopping")
    # Almost always between ticks; a tick that happens to be running is named, with how long it has run.
    assert stopping["message"] == "SIGTERM received: stopping; no tick in progress" or stopping[
        "message"
    ].startswith("SIGTERM received: stopping once the tick in progress ends (running for "), stopping
    assert tick.logged("stopped")


def test_worker_says_how_long_its_stop_may_take_then_what_it_waits_for(tmp_path: Path) -> None:
    args = ["--database-url", f"sqlite:///{tmp_path / 'reminders.db'}", "--shutdown-grace-seconds", "3"]
    with running("worker", args, name="worker", cwd=tmp_path) as worker:
        code = worker.stop(signal.SIGINT)

    assert code == 0, worker.describe()
    messages = [line["message"] for line in worker.log_lines()]
    said = messages[messages.index("SIGINT received: stopping within 3 s") :]
    assert said == [
        "SIGINT received: stopping within 3 s",
        "stopping delivery: 0 in flight, 0 claimed and not started; waiting up to 3 s",
        "delivery stopped: released 0 claims back to the queue",
        "stopped",
    ]
