"""One aiobotocore client per (connection, region, settings, service, event loop), shared by triggers.

A triggerer process runs many triggers on one event loop. Each opening its own aiobotocore
client costs a connection pool and a credential resolution per trigger; here the first user
of a key opens the client, later users borrow it, and the last one to leave closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_sm_eval.connection_args import ConnectionArgs

ClientKey = tuple[Any, ...]
ClientOpener = Callable[[], Awaitable[Any]]


@dataclass
class _Entry:
    """A client being opened or open, with the number of users holding it."""

    ready: asyncio.Future[Any]
    users: int = 0
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)


def client_key(service: str, connection: ConnectionArgs) -> ClientKey:
    """The cache key of a client; the running event loop is part of it (clients are loop-bound)."""
    return (service, *connection.cache_key(), asyncio.get_running_loop())


class ClientCache:
    """The shared clients of one process, by key; no locking needed (a key holds its event loop)."""

    def __init__(self) -> None:
        self._entries: dict[ClientKey, _Entry] = {}

    def __len__(self) -> int:
        """How many shared clients are open or opening (for tests and diagnostics)."""
        return len(self._entries)

    @asynccontextmanager
    async def borrow(self, key: ClientKey, open_client: ClientOpener) -> AsyncIterator[Any]:
        """Borrow the client of ``key``; ``open_client`` returns aiobotocore's client context when needed."""
        entries = self._entries
        entry = entries.get(key)
        if entry is None:
            entry = _Entry(ready=asyncio.get_running_loop().create_future())
            entries[key] = entry
            entry.users += 1
            try:
                client = await entry.stack.enter_async_context(await open_client())
            except BaseException as error:
                del entries[key]
                if isinstance(error, asyncio.CancelledError):
                    entry.ready.cancel()
                else:
                    entry.ready.set_exception(error)
                    entry.ready.exception()  # marks it retrieved: only waiting users see it
                raise
            entry.ready.set_result(client)
        else:
            entry.users += 1
        try:
            yield await asyncio.shield(entry.ready)
        finally:
            entry.users -= 1
            if entry.users == 0 and entries.get(key) is entry:
                del entries[key]
                await entry.stack.aclose()
