import asyncio

import pytest

from lsp_ai.batching import KeyedBatcher


def test_deliveries_that_arrive_while_a_batch_is_sent_become_the_next_batch() -> None:
    async def scenario() -> tuple[list[tuple[str, list[int]]], list[int]]:
        sent: list[tuple[str, list[int]]] = []
        release = asyncio.Event()

        async def send(key: str, items: list[int]) -> list[int]:
            sent.append((key, items))
            if len(sent) == 1:
                await release.wait()  # the first batch is in flight while the others arrive
            return [i * 10 for i in items]

        batcher: KeyedBatcher[int, int] = KeyedBatcher(send)
        first = asyncio.create_task(batcher.submit("loc-a", 1))
        await asyncio.sleep(0)
        rest = [asyncio.create_task(batcher.submit("loc-a", i)) for i in (2, 3, 4)]
        other = asyncio.create_task(batcher.submit("loc-b", 5))
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(first, *rest, other)
        return sent, results

    sent, results = asyncio.run(scenario())
    assert sent == [("loc-a", [1]), ("loc-b", [5]), ("loc-a", [2, 3, 4])]
    assert results == [10, 20, 30, 40, 50], "each delivery gets its own item's result"


def test_a_failed_batch_fails_every_delivery_in_it_and_the_next_batch_still_runs() -> None:
    async def scenario() -> tuple[list[BaseException | int], int]:
        calls = 0
        gate = asyncio.Event()

        async def send(key: str, items: list[int]) -> list[int]:
            nonlocal calls
            calls += 1
            if calls == 1:
                await gate.wait()
                return items
            if calls == 2:
                raise ConnectionError("sidecar went away")
            return items

        batcher: KeyedBatcher[int, int] = KeyedBatcher(send)
        first = asyncio.create_task(batcher.submit("loc", 1))
        await asyncio.sleep(0)
        failing = [asyncio.create_task(batcher.submit("loc", i)) for i in (2, 3)]
        await asyncio.sleep(0)
        gate.set()
        outcomes = await asyncio.gather(first, *failing, return_exceptions=True)
        after = await batcher.submit("loc", 4)
        return [*outcomes, after], calls

    outcomes, calls = asyncio.run(scenario())
    assert outcomes[0] == 1
    assert all(isinstance(o, ConnectionError) for o in outcomes[1:3])
    assert outcomes[3] == 4 and calls == 3


def test_a_batch_is_capped_and_a_wrong_number_of_results_is_an_error() -> None:
    async def scenario() -> list[list[int]]:
        sizes: list[list[int]] = []
        gate = asyncio.Event()

        async def send(key: str, items: list[int]) -> list[int]:
            sizes.append(items)
            if len(sizes) == 1:
                await gate.wait()
            return items

        batcher: KeyedBatcher[int, int] = KeyedBatcher(send, max_batch=2)
        tasks = [asyncio.create_task(batcher.submit("loc", i)) for i in range(5)]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(*tasks)
        return sizes

    assert asyncio.run(scenario()) == [[0, 1], [2, 3], [4]]

    async def short_answer() -> None:
        async def send(key: str, items: list[int]) -> list[int]:
            return []

        await KeyedBatcher(send).submit("loc", 1)

    with pytest.raises(RuntimeError, match="0 results for a batch of 1"):
        asyncio.run(short_answer())
