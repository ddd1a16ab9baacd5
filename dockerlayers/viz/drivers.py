"""The same scenario on vfs, aufs and overlay2: disk used, and what creating a container
costs as the image grows (entries and bytes written, from root snapshots; wall time too).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.viz.filemap import human_size
from dockerlayers.viz.scenes import layered_image
from dockerlayers.viz.snapshot import CREATED, diff_snapshots, take_snapshot

DRIVERS = ("vfs", "aufs", "overlay2")


@dataclass
class DriverResult:
    driver: str
    disk_bytes: int
    disk_files: int
    #: image files -> (entries created, bytes created) by one `docker create`
    create_cost: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: image files -> seconds of one `docker create` (wall clock: varies run to run)
    create_seconds: dict[int, float] = field(default_factory=dict)


@dataclass
class DriverComparison:
    files_per_layer: tuple[int, ...]
    containers: int
    results: list[DriverResult]

    def result(self, driver: str) -> DriverResult:
        return next(r for r in self.results if r.driver == driver)

    def to_text(self) -> str:
        out = [
            f"{self.containers} containers on an image of {sum(self.files_per_layer)} files "
            f"in {len(self.files_per_layer)} layers"
        ]
        for r in self.results:
            cost = ", ".join(
                f"{n} files: +{e} entries/{human_size(b)}"
                for n, (e, b) in sorted(r.create_cost.items())
            )
            out.append(
                f"{r.driver:<9} disk {human_size(r.disk_bytes):>8} in {r.disk_files} files; "
                f"create: {cost}"
            )
        return "\n".join(out)


def _disk(home: str) -> tuple[int, int]:
    files = size = 0
    for dp, _, fns in os.walk(home):
        for n in fns:
            try:
                st = os.lstat(os.path.join(dp, n))
            except OSError:
                continue
            files += 1
            size += st.st_size
    return size, files


def compare_drivers(
    files_per_layer: tuple[int, ...] = (40, 40, 40),
    containers: int = 2,
    growth: tuple[int, ...] | None = None,
    drivers: tuple[str, ...] = DRIVERS,
    seed: int = 1,
) -> DriverComparison:
    """Build the same image and `containers` containers on each driver (temporary roots,
    user-space mounts) and measure: apparent bytes and files under the driver's folder,
    and what one `docker create` writes on the image as it grows, layer by layer (0 files:
    the base image; then after each layer of `files_per_layer`; plus images of `growth`
    files in one layer, if given)."""
    from dockerlayers import DockerClient

    check_inputs(files_per_layer, containers)
    growth = tuple(growth or ())
    results = []
    for name in drivers:
        with (
            tempfile.TemporaryDirectory(prefix="dockerlayers-cmp-", dir=_scratch_parent()) as tmp,
            DockerClient(
                root=os.path.join(tmp, "root"),
                driver=name,
                seed=seed,
                clock="virtual",
                mounts="user",
            ) as client,
        ):
            res = DriverResult(name, 0, 0)
            img = client.images.base()
            _measure_create(client, img, 0, res)
            total = 0
            for i, n in enumerate(files_per_layer):
                last = i == len(files_per_layer) - 1
                img = layered_image(
                    client, (n,), overwrite=0, delete=0, base=img, first_index=i,
                    tag="cmp:latest" if last else f"cmp:l{i}",
                )  # fmt: skip
                total += n
                if total not in res.create_cost:
                    _measure_create(client, img, total, res)
            for n in growth:
                if n in res.create_cost:
                    continue
                grown = layered_image(client, (n,), overwrite=0, delete=0, tag=f"grow:{n}")
                _measure_create(client, grown, n, res)
            # the disk picture: the image and `containers` containers, no measuring leftovers
            for ctr in client.containers.list(all=True):
                ctr.remove(force=True)
            for _ in range(containers):
                client.containers.create(img, ["sleep", "60"])
            res.disk_bytes, res.disk_files = _disk(client.daemon.driver.home)
            results.append(res)
    return DriverComparison(tuple(files_per_layer), containers, results)


def _scratch_parent() -> str | None:
    """Where the throwaway roots go: memory (/dev/shm) when there is one, since a
    comparison writes and deletes thousands of small files (~7x faster than a busy disk);
    else the usual temporary folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def check_inputs(files_per_layer: tuple[int, ...], containers: int) -> None:
    """ValueError with a reader's message unless the scenario makes sense."""
    if not files_per_layer:
        raise ValueError("files/layer: give at least one layer, e.g. 40,40,40")
    if any(n < 0 for n in files_per_layer):
        raise ValueError("files/layer: the number of files in a layer cannot be negative")
    if sum(files_per_layer) > 20_000:
        raise ValueError("files/layer: at most 20,000 files in all (this runs in memory)")
    if not 1 <= containers <= 20:
        raise ValueError("containers: from 1 to 20")


def parse_files_per_layer(text: str) -> tuple[int, ...]:
    """`"40, 40,40"` -> (40, 40, 40); ValueError with a reader's message otherwise."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise ValueError(f"files/layer: {text!r} is not a comma-separated list of numbers")
    try:
        out = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"files/layer: {text!r} is not a comma-separated list of whole numbers (e.g. 40,40)"
        ) from None
    check_inputs(out, 1)
    return out


def _measure_create(client: Any, image: Any, files: int, res: DriverResult) -> None:
    """Entries and bytes one `docker create` on `image` adds under the root."""
    before = take_snapshot(client)
    t = time.perf_counter()
    client.containers.create(image, ["sleep", "60"])
    res.create_seconds[files] = time.perf_counter() - t
    after = take_snapshot(client)
    made = [c for c in diff_snapshots(before, after) if c.mark == CREATED]
    res.create_cost[files] = (
        sum(c.state.files or 1 for c in made),
        sum(c.state.size for c in made if c.state.kind in ("f", "t")),
    )


#: per driver: colour, marker, line style (aufs and overlay2 write about the same, so their
#: lines lie on each other: different markers and dashes keep both visible)
STYLE = {
    "vfs": ("#e6550d", "o", "-"),
    "aufs": ("#31a354", "s", "--"),
    "overlay2": ("#3182bd", "^", ":"),
}


def plot_driver_comparison(cmp: DriverComparison) -> Any:
    """Disk used per driver, and kB one create writes as the image grows."""
    from dockerlayers.viz._figure import new_figure

    fig = new_figure(9.0, 3.6)
    ax1 = fig.add_axes((0.08, 0.16, 0.36, 0.68))
    ax2 = fig.add_axes((0.58, 0.16, 0.38, 0.68))
    names = [r.driver for r in cmp.results]
    ax1.bar(
        names,
        [r.disk_bytes / 1000 for r in cmp.results],
        color=[STYLE.get(n, ("#999999",))[0] for n in names],
    )
    for x, r in enumerate(cmp.results):
        ax1.text(
            x, r.disk_bytes / 1000, human_size(r.disk_bytes), ha="center", va="bottom", fontsize=8
        )
    files = sum(cmp.files_per_layer)
    ax1.set_title(f"disk used: image (+{files} files) + {cmp.containers} containers", fontsize=9)
    ax1.set_ylabel("kB (apparent size)", fontsize=8)
    ax1.set_ylim(0, max([r.disk_bytes for r in cmp.results] + [1]) / 1000 * 1.15)
    ax1.tick_params(labelsize=8)
    top = 0.0
    for r in cmp.results:
        color, marker, dash = STYLE.get(r.driver, ("#999999", "o", "-"))
        xs = sorted(r.create_cost)
        ys = [r.create_cost[x][1] / 1000 for x in xs]
        top = max([top, *ys])
        hollow = marker == "s"  # a bigger hollow square around overlay2's triangle
        ax2.plot(
            xs,
            ys,
            marker=marker,
            linestyle=dash,
            color=color,
            label=r.driver,
            markersize=8 if hollow else 5,
            markerfacecolor="none" if hollow else color,
        )
    ax2.set_title("written by one `docker create`", fontsize=9)
    ax2.set_xlabel("files the image adds to base", fontsize=8)
    ax2.set_ylabel("kB written", fontsize=8)
    ax2.set_xlim(left=0)
    ax2.set_ylim(0, top * 1.15 or 1)
    ax2.tick_params(labelsize=8)
    ax2.legend(fontsize=8)
    return fig
