"""Filters as the API carries them: a key with a set of values, and the ways moby matches them.

`Args` is moby's `filters.Args`: built from the CLI's `--filter key=value` pairs or from a
docker-py-style dict (`{"label": ["a=b"], "dangling": True}`), validated against the keys a
verb accepts (`Invalid filter 'x'`), and matched exactly (`ExactMatch`), by regular
expression (`Match`: `name`, `id`, `status`), by prefix (`FuzzyMatch`: events) or against
labels (`MatchKVList`; `label!` excludes, as every prune does). `path_match` is Go's
path.Match, which `reference=` globs use (`*` never crosses a `/`).

moby: api/types/filters/parse.go; daemon/prune.go matchLabels, getUntilFromPruneFilters;
docker/distribution reference.FamiliarMatch; Go: path.Match
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from dockerlayers.errors import APIError, InvalidParameter
from dockerlayers.timetypes import get_timestamp


class InvalidFilter(InvalidParameter):
    """`Invalid filter 'key'` or `Invalid filter 'key=value'` (HTTP 400).

    moby: api/types/filters/parse.go invalidFilter, daemon/errors.go invalidFilter
    """

    def __init__(self, key: str, value: str | list[str] | None = None) -> None:
        msg = f"Invalid filter '{key}"
        if value is not None:
            msg += "=" + (f"[{' '.join(value)}]" if isinstance(value, list) else value)
        super().__init__(msg + "'")


def _value_strings(v: Any) -> list[str]:
    """docker-py's convert_filters: a bool is `true`/`false`, a scalar one value, a list many."""
    if isinstance(v, bool):
        return ["true" if v else "false"]
    if isinstance(v, str | int | float):
        return [str(v)]
    if isinstance(v, Mapping):  # the API's own form: {"value": true}
        return [str(k) for k, on in v.items() if on]
    return [x if isinstance(x, str) else _value_strings(x)[0] for x in v]


class Args:
    """A mapping of filter keys to sets of values (moby's `filters.Args`)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.fields: dict[str, dict[str, bool]] = {}
        for k, v in pairs:
            self.add(k, v)

    @classmethod
    def of(cls, filters: Args | Mapping[str, Any] | None) -> Args:
        """An Args from a dict (docker-py or API style), another Args, or None (no filters)."""
        if isinstance(filters, Args):
            return filters
        args = cls()
        for key, values in (filters or {}).items():
            if values is None:
                continue
            vals = _value_strings(values)
            args.fields.setdefault(key, {})
            for v in vals:
                args.add(key, v)
        return args

    def add(self, key: str, value: str) -> None:
        self.fields.setdefault(key, {})[value] = True

    def get(self, key: str) -> list[str]:
        """The values of `key`, sorted (Go's map order is random; ours is stable)."""
        return sorted(self.fields.get(key, {}))

    def keys(self) -> list[str]:
        return sorted(self.fields)

    def contains(self, key: str) -> bool:
        return key in self.fields

    def __len__(self) -> int:
        return len(self.fields)

    def to_dict(self) -> dict[str, list[str]]:
        return {k: self.get(k) for k in self.keys()}

    def validate(self, accepted: Iterable[str]) -> None:
        """Refuse any key the verb does not take: `Invalid filter 'key'`."""
        ok = set(accepted)
        for key in self.keys():
            if key not in ok:
                raise InvalidFilter(key)

    def exact_match(self, key: str, source: str) -> bool:
        """True when `key` is absent or empty, or one of its values is `source`."""
        values = self.fields.get(key)
        if not values:
            return True
        return source in values

    def unique_exact_match(self, key: str, source: str) -> bool:
        values = self.fields.get(key)
        if not values:
            return True
        return len(values) == 1 and source in values

    def fuzzy_match(self, key: str, source: str) -> bool:
        """Exact, or one of the values is a prefix of `source`."""
        if self.exact_match(key, source):
            return True
        return any(source.startswith(v) for v in self.fields.get(key, {}))

    def match(self, key: str, source: str) -> bool:
        """Exact, or one of the values is a regular expression found in `source` (Go's
        regexp.MatchString: unanchored; a bad expression matches nothing)."""
        if self.exact_match(key, source):
            return True
        for pattern in self.fields.get(key, {}):
            try:
                if re.search(pattern, source):
                    return True
            except re.error:
                continue
        return False

    def match_kv_list(self, key: str, sources: Mapping[str, str] | None) -> bool:
        """Every value `k` or `k=v` of `key` is a label of `sources` (with that value)."""
        values = self.fields.get(key)
        if not values:
            return True
        if not sources:
            return False
        for value in values:
            k, sep, v = value.partition("=")
            if k not in sources:
                return False
            if sep and sources[k] != v:
                return False
        return True


def match_labels(args: Args, labels: Mapping[str, str] | None) -> bool:
    """A prune's label test: every `label` matches, and `label!` (if given) does not.

    moby: daemon/prune.go matchLabels
    """
    if not args.match_kv_list("label", labels):
        return False
    return not (args.contains("label!") and args.match_kv_list("label!", labels))


def until_from_prune_filters(args: Args, now: float) -> float | None:
    """The `until` of a prune, in Unix seconds (None without one).

    moby: daemon/prune.go getUntilFromPruneFilters
    """
    if not args.contains("until"):
        return None
    values = args.get("until")
    if len(values) > 1:
        raise APIError("more than one until filter specified", 500)
    try:
        return get_timestamp(values[0], now)
    except ValueError as e:
        raise APIError(str(e), 500) from None


class BadPattern(APIError):
    """Go's path.ErrBadPattern, as the daemon answers it."""

    def __init__(self) -> None:
        super().__init__("syntax error in pattern", 500)


def _glob_to_regex(pattern: str) -> str:
    """Go's path.Match syntax as a regular expression; BadPattern if malformed."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            if i + 1 >= n:
                raise BadPattern()
            out.append(re.escape(pattern[i + 1]))
            i += 1
        elif c == "[":
            i += 1
            negate = i < n and pattern[i] == "^"
            if negate:
                i += 1
            ranges: list[str] = []
            first = True
            while True:
                if i >= n:
                    raise BadPattern()
                if pattern[i] == "]" and not first:
                    break
                first = False
                lo, i = _class_char(pattern, i)
                hi = lo
                if i < n and pattern[i] == "-":
                    hi, i = _class_char(pattern, i + 1)
                ranges.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")
            out.append("[" + ("^" if negate else "") + "".join(ranges) + "]")
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """One character of a `[...]` class (Go path getEsc): `\\x` escapes; `-`, `]` or the
    end where a character is due are a bad pattern."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise BadPattern()
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise BadPattern()
    return pattern[i], i + 1


def path_match(pattern: str, name: str) -> bool:
    """Go's path.Match: the whole `name` matches the shell `pattern` (`*`, `?`, `[...]`
    with `^` negation, `\\` escapes; `*` and `?` never match `/`).

    Go: path/match.go Match
    """
    return re.fullmatch(_glob_to_regex(pattern), name, re.DOTALL) is not None


def familiar_match(pattern: str, familiar_string: str, familiar_name: str) -> bool:
    """A `reference=` pattern against one reference: its familiar string (`base:1`,
    `lib/base:2`), else its familiar name (`base`).

    moby: docker/distribution reference/helpers.go FamiliarMatch
    """
    return path_match(pattern, familiar_string) or path_match(pattern, familiar_name)
