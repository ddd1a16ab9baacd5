"""The Go text/template subset people write in `--format` and `inspect -f`.

Supported: `{{.Field}}`, `{{.A.B}}`, `{{.}}`, pipelines (`{{.X | json}}`), parentheses,
string/number/bool literals, trim markers (`{{-` / `-}}`), `{{if}}`/`{{else}}`/`{{end}}`,
`{{range}}` (with `$k, $v :=`), `{{with}}`, variables, and the functions docker adds
(`json`, `split`, `join`, `title`, `lower`, `upper`, `pad`, `truncate`) plus Go's
`index`, `len`, `print`, `println`, `printf`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `and`,
`or`, `not`. Values print like Go's `fmt` `%v` (`[a b]`, `map[k:v]`, `<no value>`).

Data is either a dict (JSON from the daemon, as `docker inspect` gives it) or an object
whose methods are the template's fields (the CLI's formatter contexts).

docker/cli: templates/templates.go; Go: text/template
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any


class TemplateError(Exception):
    """Parse or execution error, worded like Go's `template: ...` errors."""


class _NoValue:
    """What Go prints for a missing map key: `<no value>`."""

    def __repr__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


NO_VALUE = _NoValue()


class _Nil:
    """A JSON null read from a typed Go struct: a nil slice prints `[]`, a nil map `map[]`,
    a nil pointer `<nil>`; all encode as `null` and are false."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __go_str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return False

    def __len__(self) -> int:
        return 0


NIL_SLICE, NIL_MAP, NIL_POINTER = _Nil("[]"), _Nil("map[]"), _Nil("<nil>")
#: Fields of docker's inspect structs that are maps or pointers (every other null is a slice).
_MAP_FIELDS = {
    "Labels",
    "Volumes",
    "ExposedPorts",
    "Options",
    "DriverOpts",
    "Data",
    "Networks",
    "Ports",
    "Annotations",
    "Config",
    "StorageOpt",
    "Sysctls",
    "Tmpfs",
    "LogConfig",
}
#: Fields of the inspect structs that are Go maps: a key they lack is `<no value>`, not an
#: error, even with missingkey=error's raw fallback never reached (the typed run succeeds)
_GO_MAPS = (_MAP_FIELDS - {"Config", "LogConfig"}) | {"Status"}
_POINTER_FIELDS = {
    "Health",
    "Healthcheck",
    "Error",
    "Metadata",
    "UsageData",
    "Platform",
    "ImageManifestDescriptor",
    "ContainerConfig",
    "OomKillDisable",
    "PidsLimit",
    "Init",
    "MemorySwappiness",
}


# -- printing like Go's fmt %v ------------------------------------------------------------------
def go_float(f: float) -> str:
    """`strconv.FormatFloat(f, 'g', -1, 64)` as `%v` prints a float64."""
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if math.isnan(f):
        return "NaN"
    if f == 0:
        return "0"
    r = repr(float(f))
    mant, _, exp = r.partition("e")
    digits = mant.replace("-", "").replace(".", "").lstrip("0") or "0"
    e = int(exp) if exp else 0
    if not exp:
        intpart = mant.replace("-", "").split(".")[0]
        e = (
            len(intpart.lstrip("0")) - 1
            if intpart.strip("0")
            else -(len(mant.split(".")[1]) - len(mant.split(".")[1].lstrip("0")) + 1)
        )
    if e < -4 or e >= 6:  # strconv %v: shortest digits, exponent from 1e6
        digits = digits.rstrip("0") or "0"
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{'-' if f < 0 else ''}{m}e{'-' if e < 0 else '+'}{abs(e):02d}"
    return r[:-2] if r.endswith(".0") else r


def go_str(v: Any) -> str:
    """Format a value as Go's `fmt.Sprint` would in a template."""
    if v is NO_VALUE:
        return "<no value>"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v)
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_str(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    s = getattr(v, "__go_str__", None)
    if s is not None:
        return s()
    return str(v)


def truthy(v: Any) -> bool:
    if v is None or v is NO_VALUE or isinstance(v, _Nil):
        return False
    if isinstance(v, (bool, int, float, str, list, tuple, dict)):
        return bool(v)
    return True


def json_dumps(v: Any) -> str:
    """Go's json.Encoder with SetEscapeHTML(false), trailing newline trimmed."""
    return json.dumps(_plain(v), ensure_ascii=False, separators=(",", ":"))


def _plain(v: Any) -> Any:
    if v is NO_VALUE or isinstance(v, _Nil):
        return None
    to_json = getattr(v, "to_json", None)
    if to_json is not None and not isinstance(v, dict):
        return _plain(to_json())
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


# -- functions ------------------------------------------------------------------------------------
def _pad(s: Any, prefix: int, suffix: int) -> str:
    s = go_str(s)
    return s if s == "" else " " * int(prefix) + s + " " * int(suffix)


def _truncate(s: Any, n: int) -> str:
    s = go_str(s)
    return s if len(s) < int(n) else s[: int(n)]


def _title(s: str) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), s)


def _index(v: Any, *keys: Any) -> Any:
    for k in keys:
        if isinstance(v, dict):
            v = v.get(k, "")
        elif isinstance(v, (list, tuple, str)):
            try:
                v = v[int(k)]
            except IndexError:
                raise TemplateError(f"error calling index: index out of range: {k}") from None
        elif v is None or v is NO_VALUE:
            raise TemplateError("error calling index: index of untyped nil")
        else:
            raise TemplateError(f"error calling index: can't index item of type {type(v).__name__}")
    return v


def _printf(fmt: str, *args: Any) -> str:
    out, i = [], 0
    it = iter(args)
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            verb = fmt[i + 1]
            i += 2
            if verb == "%":
                out.append("%")
                continue
            a = next(it, NO_VALUE)
            if verb == "q":
                out.append(json.dumps(go_str(a), ensure_ascii=False))
            elif verb == "d" and isinstance(a, (int, float)):
                out.append(str(int(a)))
            else:
                out.append(go_str(a))
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def f(a: Any, *bs: Any) -> bool:
        return any(op(a, b) for b in bs) if op is _eq else op(a, bs[0])

    return f


def _eq(a: Any, b: Any) -> bool:
    return a == b


BASIC_FUNCS: dict[str, Callable[..., Any]] = {
    "json": json_dumps,
    "split": lambda s, sep: go_str(s).split(sep) if sep else list(go_str(s)),
    "join": lambda items, sep: sep.join(go_str(x) for x in (items or [])),
    "title": lambda s: _title(go_str(s)),
    "lower": lambda s: go_str(s).lower(),
    "upper": lambda s: go_str(s).upper(),
    "pad": _pad,
    "truncate": _truncate,
    "index": _index,
    "len": lambda v: len(v) if v not in (None, NO_VALUE) else 0,
    "print": lambda *a: "".join(go_str(x) for x in a),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "printf": _printf,
    "eq": _cmp(_eq),
    "ne": _cmp(lambda a, b: a != b),
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
    "not": lambda a: not truthy(a),
}

#: docker/cli templates.HeaderFunctions: table headers stay as they are.
HEADER_FUNCS: dict[str, Callable[..., Any]] = {
    **BASIC_FUNCS,
    "json": lambda v: v,
    "split": lambda v, _sep: v,
    "join": lambda v, _sep: v,
    "title": lambda v: v,
    "lower": lambda v: v,
    "upper": lambda v: v,
    "truncate": lambda v, _n: v,
}

# -- lexing and parsing ---------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<decl>:=|=)
    | (?P<var>\$[A-Za-z0-9_]*)
    | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
    | (?P<chain>(?<=\))(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[|(),])
    )""",
    re.VERBOSE,
)


class _Node:
    pass


class _Text(_Node):
    def __init__(self, text: str) -> None:
        self.text = text


class _Action(_Node):
    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe


class _Block(_Node):
    def __init__(self, kind: str, pipe: _Pipe) -> None:
        self.kind = kind
        self.pipe = pipe
        self.body: list[_Node] = []
        self.else_body: list[_Node] = []
        self.chained = False


class _Pipe:
    def __init__(self, decl: list[str], cmds: list[list[Any]]) -> None:
        self.decl = decl
        self.cmds = cmds


def _lex_action(src: str, pos: int) -> list[tuple[str, str]]:
    """The tokens of one action's text `src`, which starts at byte `pos` of the template;
    a field token carries its own offset as a third element (for Go's `:1:COL` errors)."""
    tokens: list[Any] = []
    i = 0
    while i < len(src):
        if src[i:].strip() == "":
            break
        m = _TOKEN.match(src, i)
        if not m or m.end() == i:
            bad = src[i:].strip()[:1]
            raise TemplateError(f"template: :1: unexpected {bad!r} in command")
        kind = m.lastgroup or ""
        if kind == "field":
            tokens.append((kind, m.group(kind), pos + m.start(kind)))
        else:
            tokens.append((kind, m.group(kind)))
        i = m.end()
    return tokens


def _parse_pipe(tokens: list[tuple[str, str]]) -> _Pipe:
    decl: list[str] = []
    # `$k, $v :=` or `$x :=`
    j = 0
    names = []
    while j < len(tokens) and tokens[j][0] == "var":
        names.append(tokens[j][1])
        if j + 1 < len(tokens) and tokens[j + 1] == ("punct", ","):
            j += 2
            continue
        if j + 1 < len(tokens) and tokens[j + 1][0] == "decl":
            decl = names
            tokens = tokens[j + 2 :]
        break
    pos = 0

    def operand() -> Any:
        nonlocal pos
        kind, val = tokens[pos][:2]
        where = tokens[pos][2] if len(tokens[pos]) > 2 else 0
        pos += 1
        if kind == "punct" and val == "(":
            inner = pipeline(stop=")")
            pos += 1  # ')'
            node: Any = ("pipe", inner)
            if pos < len(tokens) and tokens[pos][0] == "chain":
                node = ("chain", node, tokens[pos][1][1:].split("."))
                pos += 1
            return node
        if kind == "str":
            return ("lit", json.loads(val))
        if kind == "raw":
            return ("lit", val[1:-1])
        if kind == "num":
            return ("lit", float(val) if "." in val else int(val))
        if kind == "field":
            return ("field", [] if val == "." else val[1:].split("."), where, val)
        if kind == "var":
            return ("var", val)
        if kind == "ident":
            if val in ("true", "false"):
                return ("lit", val == "true")
            if val == "nil":
                return ("lit", None)
            return ("func", val)
        raise TemplateError(f"template: :1: unexpected {val!r} in operand")

    def command(stop: str | None) -> list[Any]:
        nonlocal pos
        args = []
        while (
            pos < len(tokens)
            and tokens[pos] != ("punct", "|")
            and tokens[pos] != ("punct", stop or "")
        ):
            args.append(operand())
        if not args:
            raise TemplateError("template: :1: missing value for command")
        return args

    def pipeline(stop: str | None = None) -> list[list[Any]]:
        nonlocal pos
        cmds = [command(stop)]
        while pos < len(tokens) and tokens[pos] == ("punct", "|"):
            pos += 1
            cmds.append(command(stop))
        return cmds

    cmds = pipeline()
    if pos != len(tokens):
        raise TemplateError(f"template: :1: unexpected {tokens[pos][1]!r} in command")
    return _Pipe(decl, cmds)


def parse(src: str) -> Template:
    """Parse a template; errors read like Go's (`template: :1: ...`)."""
    root: list[_Node] = []
    stack: list[tuple[_Block, bool]] = []  # (block, in_else)
    cur = root
    pos = 0
    trim_next = False
    while True:
        start = src.find("{{", pos)
        text = src[pos:] if start < 0 else src[pos:start]
        if start >= 0 and src.startswith("{{- ", start):
            text = text.rstrip(" \t\r\n")
        if trim_next:
            text = text.lstrip(" \t\r\n")
        if text:
            cur.append(_Text(text))
        if start < 0:
            break
        end = src.find("}}", start + 2)
        if end < 0:
            raise TemplateError("template: :1: unclosed action")
        inner = src[start + 2 : end]
        trim_next = False
        if inner.startswith("- "):
            inner = inner[2:]
        if inner.endswith(" -"):
            inner = inner[:-2]
            trim_next = True
        pos = end + 2
        stripped = inner.strip()
        if stripped.startswith("/*"):
            continue
        tokens = _lex_action(inner, start + 2 + (2 if src.startswith("{{- ", start) else 0))
        if not tokens:
            raise TemplateError("template: :1: missing value for command")
        head = tokens[0]
        if head == ("ident", "end"):
            if not stack:
                raise TemplateError("template: :1: unexpected {{end}}")
            stack.pop()
            cur = _cur_list(stack, root)
        elif head == ("ident", "else"):
            if not stack:
                raise TemplateError("template: :1: unexpected {{else}}")
            block, _ = stack[-1]
            if len(tokens) > 1 and tokens[1] == ("ident", "if"):
                # else if: a nested if inside the else branch, closed by the same end
                nested = _Block("if", _parse_pipe(tokens[2:]))
                nested.chained = True
                block.else_body.append(nested)
                stack[-1] = (block, True)
                stack.append((nested, False))
                cur = nested.body
            else:
                stack[-1] = (block, True)
                cur = block.else_body
        elif head[0] == "ident" and head[1] in ("if", "range", "with"):
            block = _Block(head[1], _parse_pipe(tokens[1:]))
            cur.append(block)
            stack.append((block, False))
            cur = block.body
        else:
            cur.append(_Action(_parse_pipe(tokens)))
        if head == ("ident", "end"):
            # an `else if` chain is closed by its one {{end}}
            while stack and _ends_in_chain(stack[-1]):
                stack.pop()
            cur = _cur_list(stack, root)
    if stack:
        raise TemplateError("template: :1: unexpected EOF")
    return Template(root)


def _ends_in_chain(entry: tuple[_Block, bool]) -> bool:
    """True if this block's else branch is an `else if` (closed by the same {{end}})."""
    block, in_else = entry
    return in_else and bool(block.else_body) and getattr(block.else_body[-1], "chained", False)


def _cur_list(stack: list[tuple[_Block, bool]], root: list[_Node]) -> list[_Node]:
    if not stack:
        return root
    block, in_else = stack[-1]
    return block.else_body if in_else else block.body


# -- execution ------------------------------------------------------------------------------------
class Template:
    """A parsed template; `execute(data, funcs)` returns the text."""

    def __init__(self, nodes: list[_Node]) -> None:
        self.nodes = nodes

    def execute(
        self,
        data: Any,
        funcs: dict[str, Callable[..., Any]] | None = None,
        missing_key_error: bool = False,
    ) -> str:
        """The text. `missing_key_error`: a field that is not in an object (a Go struct
        there) is an error, as `docker inspect` gets it: the typed run fails and its raw
        fallback runs with `missingkey=error` (cli/command/inspect/inspector.go); a key
        missing from a Go map (Labels, Volumes, ...) still prints `<no value>`."""
        out: list[str] = []
        ex = _Exec(funcs or BASIC_FUNCS, data, out)
        ex.missing_key_error = missing_key_error
        ex.run(self.nodes, data, {"$": data})
        return "".join(out)


class _Exec:
    def __init__(self, funcs: dict[str, Callable[..., Any]], root: Any, out: list[str]) -> None:
        self.funcs = funcs
        self.root = root
        self.out = out
        self.missing_key_error = False

    def run(self, nodes: list[_Node], dot: Any, vars_: dict[str, Any]) -> None:
        for n in nodes:
            if isinstance(n, _Text):
                self.out.append(n.text)
            elif isinstance(n, _Action):
                v = self.pipe(n.pipe, dot, vars_)
                if n.pipe.decl:
                    vars_[n.pipe.decl[0]] = v
                else:
                    self.out.append(go_str(v))
            elif isinstance(n, _Block):
                self.block(n, dot, vars_)

    def block(self, b: _Block, dot: Any, vars_: dict[str, Any]) -> None:
        if b.kind == "range":
            v = self.pipe(_Pipe([], b.pipe.cmds), dot, vars_)
            items: list[tuple[Any, Any]]
            if isinstance(v, dict):
                items = [(k, v[k]) for k in sorted(v)]
            elif isinstance(v, (list, tuple)):
                items = list(enumerate(v))
            elif v is None or v is NO_VALUE or isinstance(v, _Nil):
                items = []
            elif isinstance(v, int):
                items = [(i, i) for i in range(v)]
            else:
                raise TemplateError(f"template: :1: range can't iterate over {go_str(v)}")
            if not items:
                self.run(b.else_body, dot, vars_)
            for k, x in items:
                inner = dict(vars_)
                if len(b.pipe.decl) == 1:
                    inner[b.pipe.decl[0]] = x
                elif len(b.pipe.decl) >= 2:
                    inner[b.pipe.decl[0]] = k
                    inner[b.pipe.decl[1]] = x
                self.run(b.body, x, inner)
            return
        v = self.pipe(_Pipe([], b.pipe.cmds), dot, vars_)
        if b.pipe.decl:
            vars_ = {**vars_, b.pipe.decl[0]: v}
        if truthy(v):
            self.run(b.body, v if b.kind == "with" else dot, vars_)
        else:
            self.run(b.else_body, dot, vars_)

    def pipe(self, p: _Pipe, dot: Any, vars_: dict[str, Any]) -> Any:
        value: Any = NO_VALUE
        for i, cmd in enumerate(p.cmds):
            value = self.command(cmd, dot, vars_, value if i > 0 else NO_VALUE, piped=i > 0)
        return value

    def command(
        self, cmd: list[Any], dot: Any, vars_: dict[str, Any], last: Any, piped: bool
    ) -> Any:
        head = cmd[0]
        if head[0] == "func":
            fn = self.funcs.get(head[1])
            if fn is None:
                raise TemplateError(f'template: :1: function "{head[1]}" not defined')
            args = [self.arg(a, dot, vars_) for a in cmd[1:]]
            if piped:
                args.append(last)
            try:
                return fn(*args)
            except TemplateError:
                raise
            except TypeError as e:
                raise TemplateError(
                    f"template: :1: wrong number of args for {head[1]}: {e}"
                ) from None
        if head[0] == "field" and (len(cmd) > 1 or piped):
            # a method with arguments, e.g. {{.Label "com.example"}}
            target = self.field(dot, head[1][:-1])
            args = [self.arg(a, dot, vars_) for a in cmd[1:]]
            if piped:
                args.append(last)
            return self.call(target, head[1][-1], args)
        if len(cmd) > 1 or piped:
            raise TemplateError(
                f"template: :1: can't give argument to non-function {go_str(self.arg(head, dot, vars_))}"  # noqa: E501
            )
        return self.arg(head, dot, vars_)

    def arg(self, a: Any, dot: Any, vars_: dict[str, Any]) -> Any:
        kind = a[0]
        if kind == "lit":
            return a[1]
        if kind == "field":
            if self.missing_key_error and len(a) > 3:
                self._check_keys(dot, a[1], a[2], a[3])
            return self.field(dot, a[1])
        if kind == "var":
            if a[1] not in vars_:
                raise TemplateError(f'template: :1: undefined variable "{a[1]}"')
            return vars_[a[1]]
        if kind == "pipe":
            return self.pipe(_Pipe([], a[1]), dot, vars_)
        if kind == "chain":
            return self.field(self.arg(a[1], dot, vars_), a[2])
        if kind == "func":
            return self.command([a], dot, vars_, NO_VALUE, False)
        raise TemplateError("template: :1: bad operand")

    def _check_keys(self, v: Any, names: list[str], where: int, text: str) -> None:
        """missingkey=error on the raw JSON: the first name an object lacks fails, unless
        the object is a Go map."""
        grandparent = parent = ""
        offset = where
        for name in names:
            if not isinstance(v, dict):
                return
            if name not in v:
                if parent in _GO_MAPS or (parent, grandparent) == ("Config", "LogConfig"):
                    return
                raise TemplateError(
                    f'template: :1:{offset}: executing "" at <{text}>: '
                    f'map has no entry for key "{name}"'
                )
            v, grandparent, parent = v[name], parent, name
            offset += 1 + len(name)

    def field(self, v: Any, names: list[str]) -> Any:
        for name in names:
            v = self.call(v, name, [])
        return v

    def call(self, v: Any, name: str, args: list[Any]) -> Any:
        method = (
            getattr(type(v), name, None) if not isinstance(v, (str, int, float, list)) else None
        )
        if callable(method) and name[:1].isupper():
            try:
                return method(v, *args)
            except TypeError as e:
                raise TemplateError(f"template: :1: wrong number of args for {name}: {e}") from None
        if args:
            raise TemplateError(f"template: :1: can't give argument to non-function .{name}")
        if isinstance(v, dict):
            value = v.get(name, NO_VALUE)
            if value is None:
                return (
                    NIL_MAP
                    if name in _MAP_FIELDS
                    else NIL_POINTER
                    if name in _POINTER_FIELDS
                    else NIL_SLICE
                )
            return value
        if v is None or v is NO_VALUE or isinstance(v, _Nil):
            return NO_VALUE
        tname = getattr(v, "GO_TYPE", type(v).__name__)
        raise TemplateError(
            f'template: :1: executing "" at <.{name}>: can\'t evaluate field {name} in type {tname}'
        )
