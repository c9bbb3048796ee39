"""Avatars and voices seeded into a tenant through the control plane; providers list them too."""

from __future__ import annotations

from typing import Any

CATALOG_KINDS = ("avatars", "voices")


class SeededCatalog:
    """Seeded avatars and voices of one tenant, per provider."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def add(self, provider: str, kind: str, item: dict[str, Any]) -> None:
        self._items.setdefault((provider, kind), []).append(item)

    def items(self, provider: str, kind: str) -> list[dict[str, Any]]:
        """The `kind` ("avatars" or "voices") seeded for `provider`, oldest first."""
        return list(self._items.get((provider, kind), []))

    def record(self) -> list[list[Any]]:
        """JSON-able: [[provider, kind, items], ...] (see `from_record`)."""
        return [[provider, kind, items] for (provider, kind), items in self._items.items()]

    @classmethod
    def from_record(cls, record: list[list[Any]]) -> SeededCatalog:
        catalog = cls()
        for provider, kind, items in record:
            catalog._items[(provider, kind)] = list(items)
        return catalog

    def describe(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in CATALOG_KINDS}
        for (provider, kind), items in self._items.items():
            out[kind].extend({"provider": provider, **item} for item in items)
        return out
