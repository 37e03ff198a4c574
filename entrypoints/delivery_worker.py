"""The delivery worker: claims due deliveries from the queue, sends each once, records what happened.

Three kinds of threads, so a slow peer only ever costs its own deliveries:
- the claimer publishes ClaimDeliveries (and, now and then, ExpireLeases) while there is room;
- `concurrency` senders make one attempt each through the channel (a batch's claims to channels
  with no host, such as the log, are sent and recorded by one sender in one go); at most `per_target` run
  against one host at once, the rest of that host's claims wait their turn, and claims beyond what
  the host can work through in time go straight back to the queue for a little later
  (entrypoints.peer_limiter);
- the recorder publishes RecordOutcomes and ReleaseClaims in batches, so a thousand fast sends
  cost a few commits rather than a thousand.
The threads are daemons: a send stuck in a peer never keeps the process from exiting.

`stop(grace)` stops claiming, gives back the claims not yet started, waits up to `grace` seconds
for the sends in flight, then gives back every claim it still holds and says how many.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import Any

from adapters.local_signals import LocalSignals
from application.commands import (
    AttemptOutcome,
    ClaimDeliveries,
    Command,
    ExpireLeases,
    HeldClaim,
    RecordOutcomes,
    ReleaseClaims,
)
from application.handlers.queue import Job
from application.messagebus import EventHandlersFailed
from application.unit_of_work import StoreUnavailable
from entrypoints.bootstrap import Service
from entrypoints.peer_limiter import PeerLimiter

log = logging.getLogger("reminders.worker")

_RECORD_BATCH = 500
# Claims held at most, in claim batches: enough that claiming, sending and recording overlap.
_HELD_BATCHES = 4
_RECORD_LINGER_SECONDS = 0.02
_RECORD_ENOUGH = 50
_EXPIRY_BATCH = 500
# A claim given back because its host is busy is due again this much later.
_BUSY_DELAY_SECONDS = 2.0
_STORE_TRIES = 4


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    name: str
    concurrency: int = 16
    per_target: int = 4
    lease_seconds: float = 60.0
    # The channels' own timeout: a claim not started while this much of its lease is left goes back.
    send_timeout_seconds: float = 10.0
    poll_seconds: float = 0.25
    claim_batch: int = 200


@dataclass(frozen=True, slots=True)
class _Release:
    claims: list[HeldClaim]
    delay_seconds: float
    reason: str


@dataclass(slots=True)
class _Held:
    job: Job
    peer: str | None
    # Monotonic time after which the claim may not be started: its lease could end mid-send.
    start_by: float
    started: bool = False


@dataclass(slots=True)
class _Run:
    """A claim batch's claims to host-less channels, for one sender to send in one go."""

    claims: list[_Held]
    done: threading.Event = field(default_factory=threading.Event)


class DeliveryWorker:
    def __init__(self, *, service: Service, signals: LocalSignals, config: WorkerConfig) -> None:
        if config.lease_seconds <= config.send_timeout_seconds:
            raise ValueError("the delivery lease must be longer than the channels' timeout")
        self._service = service
        self._signals = signals
        self._config = config
        # How long a claim may wait to be sent: the rest of its lease after the longest send.
        spare = config.lease_seconds - config.send_timeout_seconds
        # What a send must have left of its lease when it starts: the longest send, and a little to
        # record its outcome.
        self._send_margin = config.send_timeout_seconds + min(1.0, spare / 2)
        self._start_window = config.lease_seconds - self._send_margin
        self._lock = threading.Lock()
        # Lines are kept to half the window, so a claim cut from one still has time elsewhere.
        self._limiter: PeerLimiter[_Held] = PeerLimiter(config.per_target, patience=self._start_window / 2)
        # Every claim this worker holds, by its token (a delivery claimed again after a hung send
        # is a second claim, not the first one back).
        self._held: dict[str, _Held] = {}
        # Claims ready to send: one to a host, or a claim batch's claims to host-less channels.
        self._ready: SimpleQueue[_Held | _Run | None] = SimpleQueue()
        self._outbox: SimpleQueue[list[AttemptOutcome] | _Release | None] = SimpleQueue()
        self._room = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._recorder: threading.Thread | None = None
        self._released: Counter[str] = Counter()

    @property
    def name(self) -> str:
        return self._config.name

    def start(self) -> None:
        config = self._config
        self._recorder = threading.Thread(target=self._record_loop, name="delivery-recorder", daemon=True)
        self._threads = [
            threading.Thread(target=self._send_loop, name=f"delivery-{n}", daemon=True)
            for n in range(config.concurrency)
        ]
        self._threads.append(threading.Thread(target=self._claim_loop, name="delivery-claimer", daemon=True))
        self._recorder.start()
        for thread in self._threads:
            thread.start()
        log.info(
            "delivery worker started",
            extra={
                "worker": config.name,
                "concurrency": config.concurrency,
                "per_target_concurrency": config.per_target,
                "lease_seconds": config.lease_seconds,
            },
        )

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    # -- claiming ----------------------------------------------------------------------------------

    def _claim_loop(self) -> None:
        config = self._config
        expire_every = max(config.poll_seconds, min(5.0, config.lease_seconds / 4))
        last_expiry = float("-inf")
        while not self._stopping.is_set():
            if time.monotonic() - last_expiry >= expire_every:
                last_expiry = time.monotonic()
                self._publish(ExpireLeases(limit=_EXPIRY_BATCH))
            room = config.claim_batch * _HELD_BATCHES - self.held()
            if room < config.claim_batch // 2:  # claim in batches worth a commit
                self._room.wait(config.poll_seconds)
                self._room.clear()
                continue
            limit = min(room, config.claim_batch)
            claimed = self._publish(
                ClaimDeliveries(worker=config.name, limit=limit, lease_seconds=config.lease_seconds)
            )
            jobs: list[Job] = claimed or []
            if jobs:
                local = self._admit(jobs)
                if local:
                    # Waiting for the run keeps one thread busy at a time, which costs less than
                    # claiming meanwhile; a run that hangs is left to its sender after a moment.
                    run = _Run(local)
                    self._ready.put(run)
                    run.done.wait(config.poll_seconds)
            if len(jobs) < limit:
                self._signals.wait_for_work(config.poll_seconds)

    def _admit(self, jobs: list[Job]) -> list[_Held]:
        """Each claim held, and handed to the senders or its host's line (or given back when the
        line is full); returns the claims to host-less channels, which one sender takes together."""
        # Counted from the lease itself, which began before the claim's commit (a slow commit, or
        # one that waited for SQLite's write lock, leaves less of it).
        wall, started = self._service.clock.now(), time.monotonic()
        deferred: list[HeldClaim] = []
        peers = [self._peer(job) for job in jobs]
        local: list[_Held] = []
        with self._lock:
            if self._stopping.is_set():
                # Claimed while stop() began: straight back to the queue (and held until then, so
                # stop() gives them back if this release comes too late).
                for job in jobs:
                    self._held[job.token] = _Held(job, None, started)
                claims = [HeldClaim(job.delivery_id, job.token) for job in jobs]
                self._outbox.put(_Release(claims, 0.0, "shutdown"))
                return []
            for job, peer in zip(jobs, peers, strict=True):
                left = (job.lease_expires_at - wall).total_seconds() - self._send_margin
                held = _Held(job, peer, started + min(self._start_window, left))
                verdict = self._limiter.admit(held, peer)
                if verdict == "defer":
                    deferred.append(HeldClaim(job.delivery_id, job.token))
                self._held[job.token] = held
                if verdict == "run" and peer is None:
                    local.append(held)
                elif verdict == "run":
                    self._ready.put(held)
        if deferred:
            self._outbox.put(_Release(deferred, _BUSY_DELAY_SECONDS, "busy_peer"))
        return local

    def _peer(self, job: Job) -> str | None:
        channel = self._service.channels.get(job.notification.channel)
        if channel is None:
            return None  # the attempt fails at once: nothing to limit
        try:
            return channel.peer(job.notification.target)
        except Exception:
            log.exception("channel could not name its peer", extra={"channel": job.notification.channel})
            return None

    # -- sending -----------------------------------------------------------------------------------

    def _send_loop(self) -> None:
        while (item := self._ready.get()) is not None:
            if isinstance(item, _Run):
                self._send_run(item)
                continue
            held: _Held | None = item
            while held is not None:
                outcomes: list[AttemptOutcome] = []
                seconds = self._send(held, outcomes)
                if outcomes:
                    self._outbox.put(outcomes)
                with self._lock:
                    following, cut = self._limiter.done(held.peer, seconds)
                if cut:
                    claims = [HeldClaim(c.job.delivery_id, c.job.token) for c in cut]
                    self._outbox.put(_Release(claims, _BUSY_DELAY_SECONDS, "busy_peer"))
                # The host's next claim takes over its slot on this thread at once: waking another
                # sender for it would cost more than the send.
                held = following

    def _send_run(self, run: _Run) -> None:
        """A claim batch's claims to host-less channels (the log, email written to the log), sent
        one after the other and recorded in one commit by this sender: with no peer to wait for,
        handing each between threads cost more CPU than sending it (docs/benchmarks.md)."""
        outcomes: list[AttemptOutcome] = []
        for held in run.claims:
            self._send(held, outcomes)
        if outcomes:
            self._record(outcomes)
        run.done.set()

    def _send(self, held: _Held, outcomes: list[AttemptOutcome]) -> float | None:
        """One attempt of the claimed delivery, its outcome added to `outcomes`; how long it took, or
        None when it was not sent (and its claim is given back)."""
        job = held.job
        claim = [HeldClaim(job.delivery_id, job.token)]
        if time.monotonic() > held.start_by:
            # Waited so long that its lease could end mid-send: another worker may take it.
            self._outbox.put(_Release(claim, 0.0, "lease_running_out"))
            return None
        with self._lock:
            if self._stopping.is_set():
                # stop() is giving back what has not started; this one goes back too.
                self._outbox.put(_Release(claim, 0.0, "shutdown"))
                return None
            held.started = True
        began = time.monotonic()
        try:
            result = self._service.sender.attempt(job.notification, number=job.attempt_number)
        except Exception:
            log.exception("sending a delivery failed", extra={"delivery_id": job.delivery_id})
            self._outbox.put(_Release(claim, 0.0, "worker_error"))
            return None
        outcomes.append(
            AttemptOutcome(job.delivery_id, job.token, result.attempt, result.transient, result.retry_after)
        )
        return time.monotonic() - began

    # -- recording ---------------------------------------------------------------------------------

    def _record_loop(self) -> None:
        stop = False
        while not stop:
            items = self._next_batch()
            outcomes = [outcome for item in items if isinstance(item, list) for outcome in item]
            releases = [item for item in items if isinstance(item, _Release)]
            stop = None in items
            if outcomes:
                self._record(outcomes)
            for release in releases:
                released = self._publish(
                    ReleaseClaims(
                        claims=release.claims, delay_seconds=release.delay_seconds, reason=release.reason
                    )
                )
                with self._lock:
                    self._released[release.reason] += released or 0
                self._forget([claim.token for claim in release.claims])

    def _record(self, outcomes: list[AttemptOutcome]) -> None:
        self._publish(RecordOutcomes(outcomes=outcomes))
        self._forget([outcome.token for outcome in outcomes])

    def _next_batch(self) -> list[list[AttemptOutcome] | _Release | None]:
        """What the senders handed over, at least one item. A small batch waits a few milliseconds
        for more to join the same commit (a commit per webhook cost more than the webhook); a batch
        worth a commit goes at once."""
        items = [self._outbox.get()]
        count = _size(items[0])
        until = time.monotonic() + _RECORD_LINGER_SECONDS
        while count < _RECORD_BATCH and items[-1] is not None:
            try:
                item = self._outbox.get_nowait()
            except Empty:
                left = until - time.monotonic()
                if count >= _RECORD_ENOUGH or left <= 0:
                    break
                # One sleep for the rest of the linger rather than a wake-up for every outcome.
                time.sleep(left)
                continue
            items.append(item)
            count += _size(item)
        return items

    def _publish(self, command: Command) -> Any:
        """The command's result; None when it failed (logged). A store that is unavailable for a
        moment is given a few more tries first: an outcome that cannot be recorded leaves its claim
        to expire, and the delivery is sent again by whichever worker claims it next."""
        for attempt in range(_STORE_TRIES):
            try:
                return self._service.bus.handle(command)
            except EventHandlersFailed as failed:
                return failed.result  # the command committed; the handlers' failures are logged
            except StoreUnavailable:
                if attempt + 1 < _STORE_TRIES and not self._stopping.wait(0.5 * (attempt + 1)):
                    continue
                log.exception("the store is unavailable", extra={"command": type(command).__name__})
            except Exception:
                log.exception("a delivery command failed", extra={"command": type(command).__name__})
            return None
        return None

    def _forget(self, tokens: list[str]) -> None:
        with self._lock:
            for token in tokens:
                self._held.pop(token, None)
        self._room.set()

    # -- stopping ----------------------------------------------------------------------------------

    def stop(self, grace: float) -> int:
        """Stop claiming, finish what is in flight within `grace` seconds, give back the rest.

        Returns how many claims were given back to the queue.
        """
        deadline = time.monotonic() + grace
        self._stopping.set()
        self._signals.work_queued()
        self._room.set()
        claimer = self._threads[-1] if self._threads else None
        if claimer is not None:
            claimer.join(timeout=max(0.5, grace / 2))
        with self._lock:
            unstarted = self._limiter.drain()
            while True:
                try:
                    item = self._ready.get_nowait()
                except Empty:
                    break
                if isinstance(item, _Run):
                    unstarted.extend(item.claims)
                elif item is not None:
                    unstarted.append(item)
            sending = sum(1 for held in self._held.values() if held.started)
            queued = len(self._held) - sending
        log.info(
            "stopping delivery: %d in flight, %d claimed and not started; waiting up to %g s",
            sending,
            queued,
            grace,
            extra={"worker": self.name, "in_flight": sending, "not_started": queued, "grace_seconds": grace},
        )
        if unstarted:
            self._outbox.put(
                _Release([HeldClaim(h.job.delivery_id, h.job.token) for h in unstarted], 0.0, "shutdown")
            )
        while time.monotonic() < deadline and self._unfinished_sends():
            time.sleep(0.02)
        if claimer is not None:  # a claim still being committed is admitted, and so given back
            claimer.join(timeout=max(0.0, deadline - time.monotonic()))
        for _ in range(self._config.concurrency):
            self._ready.put(None)
        with self._lock:
            # Every claim still held, started or not (one handed between threads as stop() began
            # is in neither list above); a claim given back twice is released once.
            left = [HeldClaim(h.job.delivery_id, h.job.token) for h in self._held.values()]
        if left:
            self._outbox.put(_Release(left, 0.0, "shutdown"))
        self._outbox.put(None)
        if self._recorder is not None:
            self._recorder.join(timeout=max(1.0, deadline - time.monotonic() + 1.0))
        with self._lock:
            released = self._released["shutdown"]
        log.info(
            "delivery stopped: released %d claims back to the queue",
            released,
            extra={"worker": self.name, "released": released, "still_held": len(left)},
        )
        return released

    def _unfinished_sends(self) -> bool:
        with self._lock:
            return any(held.started for held in self._held.values())


def _size(item: list[AttemptOutcome] | _Release | None) -> int:
    return len(item) if isinstance(item, list) else 0 if item is None else len(item.claims)
