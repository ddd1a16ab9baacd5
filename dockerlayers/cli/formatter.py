"""Tables and `--format` output, as the docker CLI renders them.

A format is `table` (the command's default columns), `table <template>` (a header row from
the column names, aligned by the tabwriter) or a bare template (one line per item, no
header). Each item is rendered through a context object whose methods are the template
fields (`{{.ID}}`, `{{.Status}}`, ...), with docker's truncation rules.

docker/cli: cli/command/formatter/{formatter,custom,container,image,history,volume,
displayutils,reflect}.go, pkg/stringid TruncateID, go-units size.go/duration.go
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from dockerlayers.cli.tabwriter import tabwrite
from dockerlayers.cli.templates import BASIC_FUNCS, HEADER_FUNCS, TemplateError, parse
from dockerlayers.gostrings import go_quote
from dockerlayers.process.clock import human_duration

TABLE = "table"
RAW = "raw"
QUIET = "{{.ID}}"

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


# -- value helpers -------------------------------------------------------------------------------
def human_size(size: float, precision: int = 4) -> str:
    """go-units HumanSizeWithPrecision (HumanSize = precision 4): `1.23MB`, `0B`."""
    i = 0
    size = float(size)
    while size >= 1000.0 and i < len(_DECIMAL) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.{precision}g}{_DECIMAL[i]}"


def truncate_id(value: str) -> str:
    """pkg/stringid TruncateID: drop `sha256:`, keep 12 characters."""
    if ":" in value:
        value = value.split(":", 1)[1]
    return value[:12]


def ellipsis(s: str, width: int) -> str:
    """formatter.Ellipsis: cut to `width` display columns with a trailing `…`."""
    if width <= 0:
        return ""
    if width == 1:
        return s[:1]
    if len(s) <= width:
        return s
    return s[: width - 1] + "…"


def since(t: float, now: float) -> str:
    """`3 seconds ago`: go-units HumanDuration of now - t, plus " ago"."""
    return human_duration(now - t) + " ago"


def go_time_string(t: float) -> str:
    """Go's time.Time.String() in local time: `2024-01-01 00:00:00 +0000 UTC`."""
    lt = time.localtime(int(t))
    return time.strftime("%Y-%m-%d %H:%M:%S %z ", lt) + (lt.tm_zone or time.strftime("%z", lt))


def rfc3339(t: float) -> str:
    """Go's time.RFC3339 in local time: `2024-01-01T00:00:00Z` / `...+01:00`."""
    lt = time.localtime(int(t))
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + _zone(lt)


def rfc3339_nano_fixed(ns: int) -> str:
    """`2006-01-02T15:04:05.000000000Z07:00` in local time (docker events)."""
    secs, frac = divmod(int(ns), 1_000_000_000)
    lt = time.localtime(secs)
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + f".{frac:09d}" + _zone(lt)


def _zone(lt: time.struct_time) -> str:
    off = lt.tm_gmtoff or 0
    if off == 0:
        return "Z"
    sign = "+" if off > 0 else "-"
    off = abs(off)
    return f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"


# -- rendering -----------------------------------------------------------------------------------
class Header(dict):
    """formatter.SubHeaderContext: column names by field; `.Label "a.b"` gives `b`."""

    def Label(self, name: str) -> str:  # noqa: N802 - the template field's name
        return name.split(".")[-1].replace("-", " ").replace("_", " ")


def is_table(fmt: str) -> bool:
    return fmt.startswith(TABLE)


def render(fmt: str, items: Iterable[Any], header: Header | None = None) -> str:
    """formatter.Context.Write: run the template per item; tables get a header and the
    tabwriter (minwidth 10, padding 3)."""
    body = fmt[len(TABLE) :] if is_table(fmt) else fmt
    body = body.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    try:
        tmpl = parse(body)
    except TemplateError as e:
        raise TemplateError(f"template parsing error: {e}") from None
    rows = []
    for item in items:
        try:
            rows.append(tmpl.execute(item, BASIC_FUNCS) + "\n")
        except TemplateError as e:
            raise TemplateError(f"template parsing error: {e}") from None
    if not is_table(fmt):
        return "".join(rows)
    try:
        head = tmpl.execute(header if header is not None else Header(), HEADER_FUNCS)
    except TemplateError:
        head = ""
    return tabwrite(head + "\n" + "".join(rows))


class _Context:
    """Base of the per-item contexts: `{{json .}}` marshals every field method."""

    GO_TYPE = "*formatter.Context"
    FIELDS: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name)() for name in sorted(self.FIELDS)}


# -- containers (docker ps) -------------------------------------------------------------------
CONTAINER_TABLE = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)
CONTAINER_HEADER = Header(
    ID="CONTAINER ID",
    Names="NAMES",
    Image="IMAGE",
    Command="COMMAND",
    CreatedAt="CREATED AT",
    RunningFor="CREATED",
    Ports="PORTS",
    State="STATE",
    Status="STATUS",
    Size="SIZE",
    Labels="LABELS",
    Mounts="MOUNTS",
    LocalVolumes="LOCAL VOLUMES",
    Networks="NETWORKS",
)


def container_format(source: str, quiet: bool, size: bool) -> str:
    """formatter.NewContainerFormat (20.10): a custom format wins over --quiet."""
    if source == TABLE:
        if quiet:
            return QUIET
        return CONTAINER_TABLE + ("\t{{.Size}}" if size else "")
    if source == RAW:
        if quiet:
            return "container_id: {{.ID}}"
        fmt = (
            "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\n"
            "created_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\n"
            "status: {{- pad .Status 1 0}}\nnames: {{.Names}}\n"
            "labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n"
        )
        return fmt + ("size: {{.Size}}\\n" if size else "")
    return source


class ContainerContext(_Context):
    """One `docker ps` row, from the API's /containers/json entry."""

    GO_TYPE = "*formatter.ContainerContext"
    FIELDS = (
        "Command",
        "CreatedAt",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Names",
        "Networks",
        "Ports",
        "RunningFor",
        "Size",
        "State",
        "Status",
    )

    def __init__(self, c: dict[str, Any], trunc: bool, now: float) -> None:
        self.c = c
        self.trunc = trunc
        self.now = now
        self.size_used = False

    def ID(self) -> str:  # noqa: N802
        return truncate_id(self.c["Id"]) if self.trunc else self.c["Id"]

    def Names(self) -> str:  # noqa: N802
        names = [n[1:] if n.startswith("/") else n for n in self.c.get("Names") or []]
        if self.trunc:
            for n in names:
                if "/" not in n:
                    return n
        return ",".join(names)

    def Image(self) -> str:  # noqa: N802
        image = self.c.get("Image") or ""
        if not image:
            return "<no image>"
        if self.trunc:
            if truncate_id(self.c.get("ImageID") or "") == truncate_id(image):
                return truncate_id(image)
            return _familiar(image)
        return image

    def Command(self) -> str:  # noqa: N802
        cmd = self.c.get("Command") or ""
        return go_quote(ellipsis(cmd, 20) if self.trunc else cmd)

    def CreatedAt(self) -> str:  # noqa: N802
        return go_time_string(self.c.get("Created") or 0)

    def RunningFor(self) -> str:  # noqa: N802
        return since(int(self.c.get("Created") or 0), self.now)

    def Ports(self) -> str:  # noqa: N802
        return ""  # no networking in the model

    def State(self) -> str:  # noqa: N802
        return self.c.get("State") or ""

    def Status(self) -> str:  # noqa: N802
        return self.c.get("Status") or ""

    def Size(self) -> str:  # noqa: N802
        self.size_used = True
        srw = human_size(self.c.get("SizeRw") or 0, 3)
        rootfs = self.c.get("SizeRootFs") or 0
        return f"{srw} (virtual {human_size(rootfs, 3)})" if rootfs > 0 else srw

    def Labels(self) -> str:  # noqa: N802
        labels = self.c.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def Label(self, name: str) -> str:  # noqa: N802
        return (self.c.get("Labels") or {}).get(name, "")

    def Mounts(self) -> str:  # noqa: N802
        names = []
        for m in self.c.get("Mounts") or []:
            name = m.get("Name") or m.get("Source") or ""
            names.append(ellipsis(name, 15) if self.trunc else name)
        return ",".join(names)

    def LocalVolumes(self) -> str:  # noqa: N802
        return str(sum(1 for m in self.c.get("Mounts") or [] if m.get("Driver") == "local"))

    def Networks(self) -> str:  # noqa: N802
        return ",".join((self.c.get("NetworkSettings") or {}).get("Networks") or {})


def _familiar(ref: str) -> str:
    """reference.FamiliarString: drop `docker.io/` and `library/`, keep the tag."""
    name = ref
    if "@" in name:
        name = name.split("@", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name


# -- images ------------------------------------------------------------------------------------
IMAGE_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGE_TABLE_DIGEST = (
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
)
IMAGE_HEADER = Header(
    ID="IMAGE ID",
    Repository="REPOSITORY",
    Tag="TAG",
    Digest="DIGEST",
    CreatedSince="CREATED",
    CreatedAt="CREATED AT",
    Size="SIZE",
    Containers="CONTAINERS",
    VirtualSize="SIZE",
    SharedSize="SHARED SIZE",
    UniqueSize="UNIQUE SIZE",
)


def image_format(source: str, quiet: bool, digest: bool) -> str:
    """formatter.NewImageFormat (20.10)."""
    if source == TABLE:
        if quiet:
            return QUIET
        return IMAGE_TABLE_DIGEST if digest else IMAGE_TABLE
    if source == RAW:
        if quiet:
            return "image_id: {{.ID}}"
        d = "digest: {{.Digest}}\n" if digest else ""
        return (
            "repository: {{ .Repository }}\ntag: {{.Tag}}\n" + d + "image_id: {{.ID}}\n"
            "created_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n"
        )
    if is_table(source) and digest and "{{.Digest}}" not in source:
        source += "\t{{.Digest}}"
    return source


class ImageContext(_Context):
    """One `docker images` row: an image under one repository:tag."""

    GO_TYPE = "*formatter.imageContext"
    FIELDS = (
        "Containers",
        "CreatedAt",
        "CreatedSince",
        "Digest",
        "ID",
        "Repository",
        "SharedSize",
        "Size",
        "Tag",
        "UniqueSize",
        "VirtualSize",
    )

    def __init__(
        self, i: dict[str, Any], repo: str, tag: str, digest: str, trunc: bool, now: float
    ) -> None:
        self.i = i
        self.repo = repo
        self.tag = tag
        self.digest = digest
        self.trunc = trunc
        self.now = now

    def ID(self) -> str:  # noqa: N802
        return truncate_id(self.i["Id"]) if self.trunc else self.i["Id"]

    def Repository(self) -> str:  # noqa: N802
        return self.repo

    def Tag(self) -> str:  # noqa: N802
        return self.tag

    def Digest(self) -> str:  # noqa: N802
        return self.digest

    def CreatedSince(self) -> str:  # noqa: N802
        return since(int(self.i.get("Created") or 0), self.now)

    def CreatedAt(self) -> str:  # noqa: N802
        return go_time_string(self.i.get("Created") or 0)

    def Size(self) -> str:  # noqa: N802
        return human_size(self.i.get("Size") or 0, 3)

    def Containers(self) -> str:  # noqa: N802
        n = self.i.get("Containers", -1)
        return "N/A" if n == -1 else str(n)

    def VirtualSize(self) -> str:  # noqa: N802
        return human_size(self.i.get("VirtualSize", self.i.get("Size")) or 0, 3)

    def SharedSize(self) -> str:  # noqa: N802
        n = self.i.get("SharedSize", -1)
        return "N/A" if n == -1 else human_size(n)

    def UniqueSize(self) -> str:  # noqa: N802
        size, shared = (
            self.i.get("VirtualSize", self.i.get("Size", 0)),
            self.i.get("SharedSize", -1),
        )
        return "N/A" if size == -1 or shared == -1 else human_size(size - shared)


def image_rows(
    images: list[dict[str, Any]], trunc: bool, now: float, digest: bool
) -> list[ImageContext]:
    """imageFormat: one row per repository:tag (or `<none> <none>` for a dangling image)."""
    rows = []
    for img in images:
        tags = [t for t in img.get("RepoTags") or [] if t != "<none>:<none>"]
        digests = [d for d in img.get("RepoDigests") or [] if d != "<none>@<none>"]
        if not tags and not digests:
            rows.append(ImageContext(img, "<none>", "<none>", "<none>", trunc, now))
            continue
        repo_tags: dict[str, list[str]] = {}
        for ref in tags:
            name, _, tag = ref.rpartition(":")
            if "/" in tag or not name:
                continue
            repo_tags.setdefault(_familiar(name), []).append(tag)
        repo_digests: dict[str, list[str]] = {}
        for ref in digests:
            name, _, dgst = ref.partition("@")
            repo_digests.setdefault(_familiar(name), []).append(dgst)
        for repo, tag_list in repo_tags.items():
            dl = repo_digests.pop(repo, [])
            if not digest:
                dl = []  # digests are not shown: one row per tag
            for tag in tag_list:
                if not dl:
                    rows.append(ImageContext(img, repo, tag, "<none>", trunc, now))
                for d in dl:
                    rows.append(ImageContext(img, repo, tag, d, trunc, now))
        for repo, dl in repo_digests.items():
            if digest:
                rows.extend(ImageContext(img, repo, "<none>", d, trunc, now) for d in dl)
            else:
                rows.append(ImageContext(img, repo, "<none>", "", trunc, now))
    return rows


# -- history -----------------------------------------------------------------------------------
HISTORY_TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HISTORY_TABLE_NON_HUMAN = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HISTORY_HEADER = Header(
    ID="IMAGE",
    CreatedSince="CREATED",
    CreatedAt="CREATED AT",
    CreatedBy="CREATED BY",
    Size="SIZE",
    Comment="COMMENT",
)


def history_format(source: str, quiet: bool, human: bool) -> str:
    if source == TABLE:
        if quiet:
            return QUIET
        return HISTORY_TABLE if human else HISTORY_TABLE_NON_HUMAN
    return source


class HistoryContext(_Context):
    """One `docker history` row."""

    GO_TYPE = "*formatter.historyContext"
    FIELDS = ("Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size")

    def __init__(self, h: dict[str, Any], trunc: bool, human: bool, now: float) -> None:
        self.h = h
        self.trunc = trunc
        self.human = human
        self.now = now

    def ID(self) -> str:  # noqa: N802
        return truncate_id(self.h.get("Id") or "") if self.trunc else self.h.get("Id") or ""

    def CreatedAt(self) -> str:  # noqa: N802
        return rfc3339(self.h.get("Created") or 0)

    def CreatedSince(self) -> str:  # noqa: N802
        if not self.human:
            return self.CreatedAt()
        return since(int(self.h.get("Created") or 0), self.now)

    def CreatedBy(self) -> str:  # noqa: N802
        created_by = (self.h.get("CreatedBy") or "").replace("\t", " ")
        return ellipsis(created_by, 45) if self.trunc else created_by

    def Size(self) -> str:  # noqa: N802
        size = self.h.get("Size") or 0
        return human_size(size, 3) if self.human else str(size)

    def Comment(self) -> str:  # noqa: N802
        return self.h.get("Comment") or ""


# -- volumes -----------------------------------------------------------------------------------
VOLUME_TABLE = "table {{.Driver}}\t{{.Name}}"
VOLUME_HEADER = Header(
    Name="VOLUME NAME",
    Driver="DRIVER",
    Scope="SCOPE",
    Mountpoint="MOUNTPOINT",
    Labels="LABELS",
    Links="LINKS",
    Size="SIZE",
)


def volume_format(source: str, quiet: bool) -> str:
    if source == TABLE:
        return "{{.Name}}" if quiet else VOLUME_TABLE
    if source == RAW:
        return "name: {{.Name}}" if quiet else "name: {{.Name}}\\ndriver: {{.Driver}}\\n"
    return source


class VolumeContext(_Context):
    """One `docker volume ls` row."""

    GO_TYPE = "*formatter.volumeContext"
    FIELDS = ("Driver", "Labels", "Links", "Mountpoint", "Name", "Scope", "Size")

    def __init__(self, v: dict[str, Any]) -> None:
        self.v = v

    def Name(self) -> str:  # noqa: N802
        return self.v.get("Name") or ""

    def Driver(self) -> str:  # noqa: N802
        return self.v.get("Driver") or ""

    def Scope(self) -> str:  # noqa: N802
        return self.v.get("Scope") or ""

    def Mountpoint(self) -> str:  # noqa: N802
        return self.v.get("Mountpoint") or ""

    def Labels(self) -> str:  # noqa: N802
        return ",".join(f"{k}={v}" for k, v in sorted((self.v.get("Labels") or {}).items()))

    def Label(self, name: str) -> str:  # noqa: N802
        return (self.v.get("Labels") or {}).get(name, "")

    def Links(self) -> str:  # noqa: N802
        usage = self.v.get("UsageData")
        return "N/A" if not usage else str(usage.get("RefCount", 0))

    def Size(self) -> str:  # noqa: N802
        usage = self.v.get("UsageData")
        return "N/A" if not usage else human_size(usage.get("Size", 0))
