"""`system df`, `system prune` and `image prune`: what the model holds on disk, and
removing what nothing uses.

docker/cli 20.10: cli/command/system/{df,prune}.go, cli/command/image/prune.go,
cli/command/formatter/disk_usage.go
"""

from __future__ import annotations

from typing import Any

from dockerlayers.cli.app import CLIError, Command, Env
from dockerlayers.cli.commands.common import confirm, parse_filters
from dockerlayers.cli.flags import Flag, Parsed

DF_TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
DF_RAW = "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n"  # noqa: E501
IMAGE_TABLE = (
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.VirtualSize}}\t"
    "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"
)
CONTAINER_TABLE = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t"
    "{{.Status}}\t{{.Names}}"
)
VOLUME_TABLE = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
BUILD_CACHE_TABLE = (
    "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
    "{{.UsageCount}}\t{{.Shared}}"
)


def _pct(part: int, total: int) -> str:
    from dockerlayers.cli.formatter import human_size

    if total > 0:
        return f"{human_size(part)} ({part * 100 // total}%)"
    return human_size(part)


class _DFRow:
    """One line of `system df` (diskUsage*Context)."""

    GO_TYPE = "*formatter.diskUsageContext"
    FIELDS = ("Active", "Reclaimable", "Size", "TotalCount", "Type")

    def __init__(self, kind: str, total: int, active: int, size: int, reclaimable: str) -> None:
        from dockerlayers.cli.formatter import human_size

        self.kind, self.total, self.active = kind, total, active
        self.size, self.reclaimable = human_size(size), reclaimable

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name)() for name in sorted(self.FIELDS)}

    def Type(self) -> str:  # noqa: N802
        return self.kind

    def TotalCount(self) -> str:  # noqa: N802
        return str(self.total)

    def Active(self) -> str:  # noqa: N802
        return str(self.active)

    def Size(self) -> str:  # noqa: N802
        return self.size

    def Reclaimable(self) -> str:  # noqa: N802
        return self.reclaimable


def df_rows(du: dict[str, Any]) -> list[_DFRow]:
    """The four summary rows, computed as the CLI's formatter computes them."""
    images, containers, volumes = du["Images"], du["Containers"], du["Volumes"]
    total = du["LayersSize"]
    used = sum(
        i["VirtualSize"] - i["SharedSize"]
        for i in images
        if i["Containers"] and i["VirtualSize"] != -1 and i["SharedSize"] != -1
    )

    def active(c: dict[str, Any]) -> bool:
        return any(s in c["State"] for s in ("running", "paused", "restarting"))

    c_total = sum(c.get("SizeRw", 0) for c in containers)
    c_recl = sum(c.get("SizeRw", 0) for c in containers if not active(c))
    v_sizes = [v["UsageData"] for v in volumes if v["UsageData"]["Size"] != -1]
    v_total = sum(u["Size"] for u in v_sizes)
    v_recl = sum(u["Size"] for u in v_sizes if u["RefCount"] == 0)
    return [
        _DFRow(
            "Images",
            len(images),
            sum(1 for i in images if i["Containers"] > 0),
            total,
            _pct(total - used, total),
        ),
        _DFRow(
            "Containers",
            len(containers),
            sum(1 for c in containers if active(c)),
            c_total,
            _pct(c_recl, c_total),
        ),
        _DFRow(
            "Local Volumes",
            len(volumes),
            sum(1 for v in volumes if v["UsageData"]["RefCount"] > 0),
            v_total,
            _pct(v_recl, v_total),
        ),
        _DFRow("Build Cache", 0, 0, 0, _pct(0, 0)),
    ]


class _VolumeRow:
    GO_TYPE = "*formatter.volumeContext"
    FIELDS = ("Driver", "Labels", "Links", "Mountpoint", "Name", "Scope", "Size")

    def __init__(self, v: dict[str, Any]) -> None:
        self.v = v

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name)() for name in sorted(self.FIELDS)}

    def Name(self) -> str:  # noqa: N802
        return self.v["Name"]

    def Driver(self) -> str:  # noqa: N802
        return self.v["Driver"]

    def Scope(self) -> str:  # noqa: N802
        return self.v["Scope"]

    def Mountpoint(self) -> str:  # noqa: N802
        return self.v["Mountpoint"]

    def Labels(self) -> str:  # noqa: N802
        return ",".join(f"{k}={v}" for k, v in sorted((self.v.get("Labels") or {}).items()))

    def Links(self) -> str:  # noqa: N802
        return str(self.v["UsageData"]["RefCount"])

    def Size(self) -> str:  # noqa: N802
        from dockerlayers.cli.formatter import human_size

        size = self.v["UsageData"]["Size"]
        return "N/A" if size == -1 else human_size(size)


def run_system_df(env: Env, p: Parsed) -> int:
    from dockerlayers.cli.formatter import (
        CONTAINER_HEADER,
        IMAGE_HEADER,
        ContainerContext,
        Header,
        human_size,
        image_rows,
        render,
    )
    from dockerlayers.cli.templates import TemplateError

    with env.client() as client:
        du = client.daemon.disk_usage()
        now = client.daemon.clock.now()
    header = Header(
        Type="TYPE", TotalCount="TOTAL", Active="ACTIVE", Size="SIZE", Reclaimable="RECLAIMABLE"
    )
    fmt = p.format or "table"
    try:
        if not p.verbose:
            if fmt == "table":
                fmt = DF_TABLE
            elif fmt == "raw":
                fmt = DF_RAW
            env.out.write(render(fmt, df_rows(du), header))
            return 0
        if fmt != "table":
            raise CLIError("the model prints `system df -v` as a table only")
        images = [dict(i) for i in du["Images"]]
        for i in images:
            tags = [t for t in i["RepoTags"] if t != "<none>:<none>"]
            i["RepoTags"] = tags[:1]  # only the first tag
            i["RepoDigests"] = []
        out = ["Images space usage:\n\n"]
        out.append(render(IMAGE_TABLE, image_rows(images, True, now, False), IMAGE_HEADER))
        out.append("\nContainers space usage:\n\n")
        # the CLI does not show the virtual size here
        rows = [ContainerContext({**c, "SizeRootFs": 0}, True, now) for c in du["Containers"]]
        out.append(render(CONTAINER_TABLE, rows, CONTAINER_HEADER))
        out.append("\nLocal Volumes space usage:\n\n")
        vol_header = Header(Name="VOLUME NAME", Links="LINKS", Size="SIZE")
        out.append(render(VOLUME_TABLE, [_VolumeRow(v) for v in du["Volumes"]], vol_header))
        out.append(f"\nBuild cache usage: {human_size(0)}\n\n")
        bc_header = Header(
            ID="CACHE ID",
            CacheType="CACHE TYPE",
            Size="SIZE",
            CreatedSince="CREATED",
            LastUsedSince="LAST USED",
            UsageCount="USAGE",
            Shared="SHARED",
        )
        out.append(render(BUILD_CACHE_TABLE, [], bc_header))
        env.out.write("".join(out))
    except TemplateError as e:
        raise CLIError(str(e)) from None
    return 0


def _prune_images(
    env: Env, client: Any, all: bool, filters: dict[str, list[str]]
) -> tuple[int, str]:
    report = client.daemon.prune_images(filters or None, all=all)
    deleted = report.get("ImagesDeleted") or []
    if not deleted:
        return 0, ""
    lines = "".join(
        f"untagged: {d['Untagged']}\n" if d.get("Untagged") else f"deleted: {d['Deleted']}\n"
        for d in deleted
    )
    return report.get("SpaceReclaimed") or 0, "Deleted Images:\n" + lines


def run_image_prune(env: Env, p: Parsed) -> int:
    from dockerlayers.cli.formatter import human_size

    warning = (
        "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"  # noqa: E501
        if p.all
        else "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
    )
    filters = parse_filters(p.filter)
    if not p.force and not confirm(env, warning):
        env.print(f"Total reclaimed space: {human_size(0)}")
        return 0
    with env.client() as client:
        space, output = _prune_images(env, client, p.all, filters)
    if output:
        env.print(output)
    env.print(f"Total reclaimed space: {human_size(space)}")
    return 0


def run_system_prune(env: Env, p: Parsed) -> int:
    """`system prune`: stopped containers, (networks: none in the model), unused volumes
    with `--volumes`, dangling (or with `-a` unused) images."""
    from dockerlayers.cli.formatter import human_size

    filters = parse_filters(p.filter)
    if p.volumes and "until" in filters:
        raise CLIError('ERROR: The "until" filter is not supported with "--volumes"')
    if not p.force:
        warnings = ["all stopped containers", "all networks not used by at least one container"]
        if p.volumes:
            warnings.append("all volumes not used by at least one container")
        warnings.append(
            "all images without at least one container associated to them"
            if p.all
            else "all dangling images"
        )
        warnings.append("all build cache" if p.all else "all dangling build cache")
        text = "WARNING! This will remove:\n" + "".join(f"  - {w}\n" for w in warnings)
        shown = [f"{k}={v}" for k in ("label", "label!", "until") for v in filters.get(k, [])]
        if shown:
            text += "\n  Items to be pruned will be filtered with:\n"
            text += "".join(f"  - {f}\n" for f in sorted(shown))
        if not confirm(env, text + "\nAre you sure you want to continue?"):
            return 0
    space = 0
    with env.client() as client:
        report = client.daemon.prune()
        deleted = report.get("ContainersDeleted") or []
        if deleted:
            space += report.get("SpaceReclaimed") or 0
            env.print("Deleted Containers:\n" + "".join(f"{d}\n" for d in deleted))
        if p.volumes:
            in_use = {
                mp.get("Name")
                for c in client.daemon.containers.values()
                for mp in c.mount_points.values()
            }
            vreport = client.daemon.volumes.prune(in_use)
            vdeleted = vreport.get("VolumesDeleted") or []
            if vdeleted:
                space += vreport.get("SpaceReclaimed") or 0
                env.print("Deleted Volumes:\n" + "".join(f"{d}\n" for d in vdeleted))
        ispace, output = _prune_images(env, client, p.all, filters)
        space += ispace
        if output:
            env.print(output)
    env.print(f"Total reclaimed space: {human_size(space)}")
    return 0


def image_prune_command() -> Command:
    return Command(
        "prune [OPTIONS]",
        "Remove unused images",
        run_image_prune,
        [
            Flag("all", "a", help="Remove all unused images, not just dangling ones"),
            Flag(
                "filter",
                kind="list",
                type_name="filter",
                help="Provide filter values (e.g. 'until=<timestamp>')",
            ),
            Flag("force", "f", help="Do not prompt for confirmation"),
        ],
        (0, 0),
    )


def system_df_command() -> Command:
    return Command(
        "df [OPTIONS]",
        "Show docker disk usage",
        run_system_df,
        [
            Flag("format", kind="string", help="Pretty-print images using a Go template"),
            Flag("verbose", "v", help="Show detailed information on space usage"),
        ],
        (0, 0),
    )


def system_prune_command() -> Command:
    return Command(
        "prune [OPTIONS]",
        "Remove unused data",
        run_system_prune,
        [
            Flag("all", "a", help="Remove all unused images not just dangling ones"),
            Flag(
                "filter",
                kind="list",
                type_name="filter",
                help="Provide filter values (e.g. 'label=<key>=<value>')",
            ),
            Flag("force", "f", help="Do not prompt for confirmation"),
            Flag("volumes", help="Prune volumes"),
        ],
        (0, 0),
    )
