"""A small least-recently-used map: what a process keeps of things it reads often."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LruCache(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: K, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found

    def clear(self) -> None:
        self.items.clear()

    def discard(self, key: K) -> None:
        self.items.pop(key, None)

    def discard_where(self, predicate: Callable[[K, V], bool]) -> int:
        """Drop every entry for which `predicate(key, value)` holds; returns how many."""
        gone = [k for k, v in self.items.items() if predicate(k, v)]
        for key in gone:
            del self.items[key]
        return len(gone)
