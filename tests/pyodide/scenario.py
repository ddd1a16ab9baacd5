"""The core scenario, run the same way on CPython and under Pyodide: its IDs, sizes and diffs
as JSON on stdout (tests/pyodide/test_pyodide.py compares the two).

create/start/exec write (owners, modes, another user)/restart/rm/run, commit, save/load, on
each driver, seeded and on a virtual clock, so every ID is reproducible.
"""

from __future__ import annotations

import hashlib
import json
import sys


def scenario(driver: str) -> dict:
    from dockerlayers import DockerClient

    out: dict = {}
    with DockerClient(driver=driver, seed=0, clock="virtual", mounts="user") as client:
        image = client.images.base()
        out["base"] = [image.id, image.attrs["Size"], image.attrs["RootFS"]["Layers"]]
        loop = ["sh", "-c", "while true; do sleep 1; done"]
        c = client.containers.create(image, loop, name="hello")
        c.start()
        out["exec"] = list(c.exec_run(["sh", "-c", "echo hello > /greeting; ln -s /greeting /g"]))
        # owners other than root, modes of new files and folders: Emscripten's file system
        # ignores the umask and chown, the model applies and keeps both (issue 20, item 1)
        owners = "mkdir /srv && echo x > /srv/a && chown 1:2 /srv/a && chmod 640 /srv/a"
        owners += " && chown -h 3:4 /g && echo y > /srv/b && mkdir /srv/d"
        out["owners"] = list(c.exec_run(["sh", "-c", owners]))
        out["as_user"] = list(c.exec_run(["sh", "-c", "echo z > /tmp/u; id"], user="1000:1000"))
        out["diff"] = c.diff()
        c.restart()
        out["after_restart"] = list(c.exec_run("cat /greeting"))
        img = c.commit(repository="greet", tag="1")
        out["commit"] = [img.id, img.attrs["Size"], img.attrs["RootFS"]["Layers"]]
        c.remove(force=True)
        r = client.containers.run(image, ["sh", "-c", "echo ran > /ran"], name="once")
        out["run"] = r.decode() if isinstance(r, bytes) else r
        saved = client.images.save("greet:1")
        out["save_entries"] = _entries(saved)
        out["save"] = [len(saved), hashlib.sha256(saved).hexdigest()]
        client.images.remove("greet:1")
        loaded = client.images.load(saved)
        out["load"] = [i.id for i in loaded]
        out["containers"] = sorted(
            (x.name, x.id, x.status) for x in client.containers.list(all=True)
        )
    return out


def _entries(saved: bytes) -> list:
    """Each layer tar's entries in the saved image: name, type, mode, owner, mtime, size."""
    import io
    import tarfile

    rows = []
    with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
        for m in outer.getmembers():
            if m.name.endswith("layer.tar") and m.isfile():
                data = outer.extractfile(m).read()
                with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                    for e in layer.getmembers():
                        row = [e.name, e.type.decode(), e.mode, e.uid, e.gid, e.mtime, e.size]
                        rows.append([m.name.split("/")[0][:12], *row, e.linkname])
    return rows


def main(drivers: list[str]) -> str:
    return json.dumps({d: scenario(d) for d in drivers}, sort_keys=True, default=str)


if __name__ == "__main__":
    print(main(sys.argv[1:] or ["overlay2", "aufs", "vfs"]))
