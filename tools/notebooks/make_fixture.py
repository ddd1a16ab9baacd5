"""Build the `docker save` tarball notebook 08 loads: notebooks/data/leaky-app.tar.

    python tools/notebooks/make_fixture.py          # (re)write the tarball
    python tools/notebooks/make_fixture.py --check  # exit 1 if the committed one differs

The image is built with the library from notebooks/data/leaky-app/Dockerfile: a secret
written in one step and deleted in a later one, and a cache file likewise (both still in
the image's lower layers). Seeded IDs and the virtual clock make the bytes reproducible.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from dockerlayers import DockerClient  # noqa: E402

CONTEXT = REPO / "notebooks" / "data" / "leaky-app"
TARBALL = REPO / "notebooks" / "data" / "leaky-app.tar"


def build() -> bytes:
    """The image saved as Docker 20.10 saves it (`<id>/layer.tar`, `manifest.json`, ...)."""
    with DockerClient(seed=8, clock="virtual", mounts="user") as client:
        client.images.base()
        client.images.build(path=str(CONTEXT), tag="leaky-app:1.0")
        buf = io.BytesIO()
        client.daemon.image_service.save(["leaky-app:1.0"], buf, "docker")
        return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--check", action="store_true", help="compare with the committed tarball")
    args = ap.parse_args(argv)
    data = build()
    if args.check:
        same = TARBALL.exists() and TARBALL.read_bytes() == data
        print(f"{TARBALL.relative_to(REPO)}: {'up to date' if same else 'differs'}")
        return 0 if same else 1
    TARBALL.write_bytes(data)
    print(f"{TARBALL.relative_to(REPO)}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
