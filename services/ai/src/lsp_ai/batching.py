"""Group commit per key: items submitted for a key while a batch for that key is being sent
become the next batch. Under load each location's actor gets one call (one state load and one
state save) for many order events instead of one each; when it is quiet a batch is one event and
nothing waits. Written by hand because it is twenty lines of asyncio with no timer (a library
batcher flushes by size or time, which would add latency when quiet)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class KeyedBatcher(Generic[Item, Result]):
    def __init__(
        self,
        send: Callable[[str, list[Item]], Awaitable[list[Result]]],
        max_batch: int = 100,
    ) -> None:
        """`send(key, items)` answers one result per item, in order; if it raises, every item of
        that batch fails with its exception (the caller retries them)."""
        self._send = send
        self._max_batch = max_batch
        self._pending: dict[str, list[tuple[Item, asyncio.Future[Result]]]] = {}
        self._draining: set[str] = set()
        # The event loop keeps only weak references to tasks: these keep the drains alive.
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, key: str, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append((item, future))
        if key not in self._draining:
            self._draining.add(key)
            task = asyncio.create_task(self._drain(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self, key: str) -> None:
        try:
            while queued := self._pending.get(key):
                batch, rest = queued[: self._max_batch], queued[self._max_batch :]
                if rest:
                    self._pending[key] = rest
                else:
                    del self._pending[key]
                try:
                    results = await self._send(key, [item for item, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError(f"{len(results)} results for a batch of {len(batch)}")
                except Exception as err:  # every waiting delivery learns of it and is retried
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(err)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._draining.discard(key)
