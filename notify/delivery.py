"""Delivery inside the server: send right after commit, and keep a dispatcher loop running.

The after-commit path only puts ids on a queue, so a page action never waits for a provider;
worker threads claim exactly those rows with the dispatcher's lease (so they can never send
a row the loop is sending) using short provider timeouts. Whatever they miss — a provider
outage, a crash, a row written by another process — the loop picks up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Self

from notify.dispatch import Dispatcher

log = logging.getLogger("product_orders.dispatch")

IMMEDIATE_TIMEOUT = 3.0  # seconds per provider request on the after-commit path
POLL_SECONDS = 5.0
MAX_BATCH = 20  # commits whose messages one worker claims together
GATHER_SECONDS = 0.05  # how long a worker waits for more commits before it claims


class ImmediateDelivery:
    """A `Database.notification_listeners` entry: hands ids to worker threads, never blocks."""

    def __init__(self, dispatcher: Dispatcher, *, workers: int = 2) -> None:
        self.dispatcher = dispatcher
        self._queue: queue.Queue[list[int] | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._work, name=f"notify-now-{n}", daemon=True)
            for n in range(workers)
        ]

    def __call__(self, ids: list[int]) -> None:
        self._queue.put(list(ids))

    def start(self) -> Self:
        for thread in self._threads:
            thread.start()
        listeners = self.dispatcher.db.notification_listeners
        if self not in listeners:
            listeners.append(self)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self in self.dispatcher.db.notification_listeners:
            self.dispatcher.db.notification_listeners.remove(self)
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """True once every handed-over id has been dealt with (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def _work(self) -> None:
        while True:
            batch = self._take()
            ids = [id_ for taken in batch if taken is not None for id_ in taken]
            try:
                if ids:
                    self.dispatcher.deliver_ids(ids)
            except Exception:  # the loop retries whatever this missed
                log.exception("immediate delivery of %s failed; the dispatcher will retry", ids)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if None in batch:
                return

    def _take(self) -> list[list[int] | None]:
        """The next commit's ids, and those of the commits that follow it within GATHER_SECONDS.

        Under load one claim then covers many orders' messages: on PostgreSQL, claiming
        and recording cost 1.1 ms of this process's CPU per message one at a time, 0.4 ms
        four at a time and 0.26 ms eight at a time. A message leaves at most that much later.
        """
        batch = [self._queue.get()]
        until = time.monotonic() + GATHER_SECONDS
        while batch[-1] is not None and len(batch) < MAX_BATCH:
            try:
                batch.append(self._queue.get(timeout=max(0.0, until - time.monotonic())))
            except queue.Empty:
                break
        return batch


class DispatcherLoop:
    """`Dispatcher.run_forever` on a thread, stopped by `stop()`."""

    def __init__(self, dispatcher: Dispatcher, *, interval: float = POLL_SECONDS) -> None:
        self.dispatcher = dispatcher
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=dispatcher.run_forever,
            args=(self._stop,),
            kwargs={"interval": interval},
            name="notify-dispatcher",
            daemon=True,
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


class BackgroundDelivery:
    """Both halves together, as the server's lifespan starts and stops them."""

    def __init__(
        self, *, immediate: Dispatcher, loop: Dispatcher, interval: float = POLL_SECONDS
    ) -> None:
        self.db = loop.db
        self.immediate = ImmediateDelivery(immediate)
        self.loop = DispatcherLoop(loop, interval=interval)

    def start(self) -> Self:
        self.immediate.start()
        self.loop.start()
        log.info("notification delivery started (%s)", self.db.describe())
        return self

    def stop(self) -> None:
        self.immediate.stop()
        self.loop.stop()
        log.info("notification delivery stopped")
