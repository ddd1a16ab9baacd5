"""Plain record classes for the command line's hot path (issue 16).

A `@dataclass` compiles its `__init__`, `__repr__` and `__eq__` with `exec` when its class is
defined, and importing `dataclasses` loads `inspect`, `ast`, `dis` and `tokenize`: together
about 15 ms of every fresh `dockerlayers` process. The records every command loads (the
container, its state, its runtime, the layer metadata) are instead plain classes with an
explicit `__init__` and this base, which gives them a dataclass's equality and repr over
the fields named in `_fields`.
"""

from __future__ import annotations

from typing import Any


class Record:
    """Equality and repr by the fields in `_fields` (a dataclass's `eq=True`, `repr=True`;
    unhashable, as such a dataclass is)."""

    _fields: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__qualname__}({fields})"


class FrozenRecord(Record):
    """A Record whose fields cannot be set after `__init__` (`frozen=True`), hashable."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f) for f in self._fields))

    def _set(self, **fields: Any) -> None:
        """For `__init__` only."""
        for name, value in fields.items():
            object.__setattr__(self, name, value)
