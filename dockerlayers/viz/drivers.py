"""The same scenario on vfs, aufs and overlay2: disk used, and what creating a container
costs as the image grows (entries and bytes written, from root snapshots; wall time too).
"""

from __future__ import annotations

import os
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
    files_per_layer: tuple[int, ...] = (100, 100, 100),
    containers: int = 3,
    growth: tuple[int, ...] = (50, 200, 800),
    drivers: tuple[str, ...] = DRIVERS,
    seed: int = 1,
) -> DriverComparison:
    """Build the same image and `containers` containers on each driver (temporary roots,
    user-space mounts) and measure: apparent bytes and files under the driver's folder,
    and for images of `growth` files, what one `docker create` writes."""
    from dockerlayers import DockerClient

    results = []
    for name in drivers:
        with DockerClient(driver=name, seed=seed, clock="virtual", mounts="user") as client:
            img = layered_image(client, files_per_layer, overwrite=0, delete=0, tag="cmp:latest")
            for _ in range(containers):
                client.containers.create(img, ["sleep", "60"])
            size, files = _disk(client.daemon.driver.home)
            res = DriverResult(name, size, files)
            for n in growth:
                grown = layered_image(client, (n,), overwrite=0, delete=0, tag=f"grow:{n}")
                before = take_snapshot(client)
                t = time.perf_counter()
                client.containers.create(grown, ["sleep", "60"])
                res.create_seconds[n] = time.perf_counter() - t
                after = take_snapshot(client)
                made = [c for c in diff_snapshots(before, after) if c.mark == CREATED]
                res.create_cost[n] = (
                    sum(c.state.files or 1 for c in made),
                    sum(c.state.size for c in made if c.state.kind in ("f", "t")),
                )
            results.append(res)
    return DriverComparison(tuple(files_per_layer), containers, results)


def plot_driver_comparison(cmp: DriverComparison) -> Any:
    """Disk used per driver, and bytes one create writes as the image grows."""
    from dockerlayers.viz._figure import new_figure

    fig = new_figure(9.0, 3.4)
    ax1 = fig.add_axes((0.08, 0.15, 0.38, 0.7))
    ax2 = fig.add_axes((0.58, 0.15, 0.38, 0.7))
    names = [r.driver for r in cmp.results]
    ax1.bar(
        names,
        [r.disk_bytes for r in cmp.results],
        color=["#fb6a4a", "#fdae6b", "#6baed6"][: len(names)],
    )
    for x, r in enumerate(cmp.results):
        ax1.text(x, r.disk_bytes, human_size(r.disk_bytes), ha="center", va="bottom", fontsize=8)
    ax1.set_title(f"disk used: image + {cmp.containers} containers", fontsize=9)
    ax1.tick_params(labelsize=8)
    for r in cmp.results:
        xs = sorted(r.create_cost)
        ax2.plot(xs, [r.create_cost[x][1] for x in xs], marker="o", label=r.driver)
    ax2.set_title("bytes written by one `docker create`", fontsize=9)
    ax2.set_xlabel("files in the image's top layer", fontsize=8)
    ax2.tick_params(labelsize=8)
    ax2.legend(fontsize=8)
    return fig
