"""Expensive runs (a created, polled and downloaded video) made once per session and shared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class RunCache(Generic[T]):
    """Each key is made once; a failure is kept and re-raised for every test that needs that run."""

    def __init__(self) -> None:
        self._made: dict[str, T | BaseException] = {}

    def get(self, key: str, make: Callable[[], T]) -> T:
        if key not in self._made:
            try:
                self._made[key] = make()
            except BaseException as exc:
                self._made[key] = exc
        value = self._made[key]
        if isinstance(value, BaseException):
            raise value
        return value
