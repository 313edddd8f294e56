"""A private event loop on a daemon thread, for the sync :class:`~nexio_lab.Client`.

The pattern of jupyter_core's ``run_sync`` and fsspec: the sync client hands coroutines to a
loop it owns, so sync calls work even where a loop already runs (a Jupyter cell) and without
nest-asyncio. Every httpx connection of a sync client lives and dies on this loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop_thread: LoopThread | None = None


class LoopThread:
    """An event loop running forever on a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="nexio-lab-loop", daemon=True
        )
        self._thread.start()

    def submit(
        self, coro: Coroutine[Any, Any, T]
    ) -> tuple[concurrent.futures.Future[T], threading.Event]:
        """Schedule ``coro``; return its future and an event set once it has really ended."""
        ended = threading.Event()

        async def guarded() -> T:
            try:
                return await coro
            finally:
                ended.set()

        return asyncio.run_coroutine_threadsafe(guarded(), self.loop), ended

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to completion on the loop and return its result, from any thread.

        Ctrl-C (or a kernel interrupt) cancels the coroutine and waits until it has cleaned
        up (e.g. journaled what it sent) before the KeyboardInterrupt propagates.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "sync nexio-lab calls cannot run on the client's own loop; use AsyncClient there"
            )
        future, ended = self.submit(coro)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            ended.wait(timeout=30)
            raise


def loop_thread() -> LoopThread:
    """The process-wide loop thread, started on first use."""
    global _loop_thread
    with _lock:
        if _loop_thread is None:
            _loop_thread = LoopThread()
        return _loop_thread
