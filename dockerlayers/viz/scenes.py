"""Ready-made scenes for notebooks and benchmarks: images with many files in many layers.

Layers are made the way `docker commit` makes them: a container's RW layer, written
through its filesystem (no process needed), committed, and the container removed.
"""

from __future__ import annotations

from typing import Any


def layered_image(
    client: Any,
    files_per_layer: tuple[int, ...] | list[int] = (400, 400, 400, 400, 400),
    *,
    file_size: int = 64,
    overwrite: int = 10,
    delete: int = 10,
    per_dir: int = 50,
    tag: str = "scene:latest",
    base: Any = None,
    first_index: int = 0,
) -> Any:
    """An image on `base` (default: the built-in base) with one layer per entry of
    `files_per_layer`: layer i adds that many files under /data/l<i>/, and from the second
    layer on also overwrites `overwrite` and deletes `delete` files of the layer below
    (wasted bytes, whiteouts). Returns the image (docker SDK model)."""
    image = base if base is not None else client.images.base()
    repo, _, t = tag.partition(":")
    for i, n in enumerate(files_per_layer, start=first_index):
        steps = [f"add {n} files under /data/l{i}"]
        if i > first_index:
            steps.append(f"overwrite {overwrite} and delete {delete} in /data/l{i - 1}")
        ctr = client.containers.create(image, ["sh", "-c", "# " + "; ".join(steps)])
        try:
            fs = ctr.rootfs
            top = f"/data/l{i}"
            fs.mkdir(top, 0o755, parents=True, exist_ok=True)
            for d in range((n + per_dir - 1) // per_dir):
                fs.mkdir(f"{top}/d{d:03d}", 0o755, parents=True, exist_ok=True)
            for j in range(n):
                body = (f"layer {i} file {j}\n".encode() * (file_size // 16 + 1))[:file_size]
                fs.write_bytes(f"{top}/d{j // per_dir:03d}/f{j:05d}.txt", body)
            if i > first_index:
                below = f"/data/l{i - 1}"
                prev_n = files_per_layer[i - 1 - first_index] if i > first_index else 0
                for j in range(min(overwrite, prev_n)):
                    fs.write_bytes(
                        f"{below}/d{j // per_dir:03d}/f{j:05d}.txt", b"overwritten\n" * 8
                    )
                for j in range(min(overwrite, prev_n), min(overwrite + delete, prev_n)):
                    fs.remove(f"{below}/d{j // per_dir:03d}/f{j:05d}.txt")
            last = i == first_index + len(files_per_layer) - 1
            image = ctr.commit(repo if last else None, (t or "latest") if last else None)
        finally:
            ctr.remove(force=True)
    return image
