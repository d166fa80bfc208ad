"""Objects that the triggers of one triggerer process share per key, closed when the last one leaves."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar


class Shared(Protocol):
    def in_use(self) -> bool: ...

    def close(self) -> None: ...


T = TypeVar("T", bound=Shared)


class SharedRegistry(Generic[T]):
    """One object per key (its key holds the event loop through the client key); no locking needed."""

    def __init__(self) -> None:
        self._items: dict[Hashable, T] = {}

    @contextmanager
    def borrow(self, key: Hashable, make: Callable[[], T]) -> Iterator[T]:
        """The object of ``key`` (made when missing); closed and forgotten once no longer in use."""
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = make()
        try:
            yield item
        finally:
            if not item.in_use() and self._items.get(key) is item:
                del self._items[key]
                item.close()

    def __len__(self) -> int:
        return len(self._items)

    def values(self) -> list[T]:
        """The objects in use now (for tests and diagnostics)."""
        return list(self._items.values())
