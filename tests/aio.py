"""Running a coroutine from a synchronous test, whatever loop this thread already has.

The browser tests (Playwright's sync API) may leave an event loop running in the main
thread; `asyncio.run` and `anyio.run` refuse to start inside one, so the coroutine gets a
thread, and a loop, of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio

T = TypeVar("T")


def run(main: Callable[[], Awaitable[T]]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, main).result()
