"""`--build-arg` values and the ARGs a Dockerfile declares.

moby: builder/dockerfile/buildargs.go
"""

from __future__ import annotations

from dockerlayers.builder.parser import ShellLex, split_words

#: Build args Docker accepts without an ARG line (moby: buildargs.go builtinAllowedBuildArgs).
BUILTIN_ARGS = frozenset(
    [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "FTP_PROXY",
        "ftp_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
)


class BuildArgs:
    """`--build-arg` values and the ARGs declared so far.

    moby: builder/dockerfile/buildargs.go BuildArgs
    """

    def __init__(self, from_options: dict[str, str | None]) -> None:
        self.args_from_options = dict(from_options)
        self.allowed_build_args: dict[str, str | None] = {}
        self.allowed_meta_args: dict[str, str | None] = {}
        self.referenced: set[str] = set()

    def clone(self) -> BuildArgs:
        other = BuildArgs(self.args_from_options)
        other.allowed_build_args = dict(self.allowed_build_args)
        other.allowed_meta_args = dict(self.allowed_meta_args)
        other.referenced = set(self.referenced)
        return other

    def reset_allowed(self) -> None:
        self.allowed_build_args = {}

    def add_arg(self, key: str, value: str | None) -> None:
        self.allowed_build_args[key] = value
        self.referenced.add(key)

    def add_meta_arg(self, key: str, value: str | None) -> None:
        self.allowed_meta_args[key] = value

    def _get(self, key: str, mapping: dict[str, str | None]) -> tuple[str, bool]:
        """moby: buildargs.go getBuildArg (the option wins, then the default, then a meta
        arg of the same name)"""
        default = mapping.get(key)
        exists = key in mapping
        if self.args_from_options.get(key) is not None:
            return self.args_from_options[key], True  # type: ignore[return-value]
        if default is None:
            meta = self.allowed_meta_args.get(key)
            if meta is not None:
                return meta, True
            return "", False
        return default, exists

    def _all(self, mapping: dict[str, str | None]) -> dict[str, str]:
        out = {}
        for key in [*mapping, *sorted(BUILTIN_ARGS)]:
            value, ok = self._get(key, mapping)
            if ok:
                out[key] = value
        return out

    def get_all_allowed(self) -> dict[str, str]:
        """moby: buildargs.go GetAllAllowed"""
        return self._all(self.allowed_build_args)

    def get_all_meta(self) -> dict[str, str]:
        """moby: buildargs.go GetAllMeta"""
        return self._all(self.allowed_meta_args)

    def filter_allowed(self, env: list[str] | None) -> list[str]:
        """The allowed args as `k=v`, minus those the config's Env already sets.

        moby: buildargs.go FilterAllowed
        """
        keys = {e.split("=", 1)[0] for e in env or []}
        return [f"{k}={v}" for k, v in self.get_all_allowed().items() if k not in keys]

    def is_unreferenced_builtin(self, key: str) -> bool:
        """moby: buildargs.go IsReferencedOrNotBuiltin (negated)"""
        return key in BUILTIN_ARGS and key not in self.allowed_build_args

    def unused(self) -> list[str]:
        """The `--build-arg`s no ARG consumed (moby: buildargs.go WarnOnUnusedBuildArgs)."""
        return sorted(
            k for k in self.args_from_options if k not in BUILTIN_ARGS and k not in self.referenced
        )


def arg_pairs(args: str, lex: ShellLex, env: dict[str, str]) -> list[tuple[str, str | None]]:
    """An ARG line's `name[=default]` words; defaults expanded against `env`.

    moby: buildkit instructions/parse.go parseArg
    """
    out: list[tuple[str, str | None]] = []
    for word in split_words(args):
        k, eq, v = word.partition("=")
        out.append((k, lex.process_word(v, env) if eq else None))
    return out
