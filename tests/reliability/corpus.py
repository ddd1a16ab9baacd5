"""The hostile-input corpus: every crafted input the suites know, run through the public
client, each expected to be refused with a clear error, to write nothing outside the root and
to leave the store exactly as it was (a hash of the tree before and after).

Collected from the corpora the suites share (tests/support: `hostile_tars` layer tars,
`hostile_images` docker-archive and OCI inputs, `dockerfiles` Dockerfiles), and extended
here (the same tars through `docker import` and `ADD`, exec commands and volume specs that
try to leave the rootfs, symlinks out of a build context, names that climb).

`CASES` maps a name (`<group>:<case>`) to a `Case`; `run_case(env, case)` checks one.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dockerlayers import DockerClient
from tests.support.dockerfiles import BUILD_ERRORS, STAGE_ERRORS
from tests.support.hostile_images import HOSTILE as IMAGE_HOSTILE
from tests.support.hostile_tars import HOSTILE as ARCHIVE_HOSTILE
from tests.support.images import build_image, layer_tar, pack, rich_image
from tests.support.tars import build_tar, d, f, sym

SECRET = b"the host's secret\n"

#: files of the daemon's own bookkeeping, not the store (the ID generator's state, the
#: event log, the pid file, spooled temp files)
NOT_STORE = {"dockerlayers.json", "dockerlayers.pid", "events.log", "tmp"}


@dataclass(frozen=True)
class Case:
    group: str
    run: Callable[[Env], Any]  # must raise (unless `expect` is None: contained)
    expect: type[BaseException] | tuple[type[BaseException], ...] | None
    words: str = ""  # a substring of the message
    driver: str = "overlay2"


class Env:
    """A client with: a lower layer full of symlinks that point out (the archive suite's
    `lower`), `rich:1` (the image suite's), `base:1`, a running container; an `outside`
    folder beside the root that must never change."""

    def __init__(self, tmp: str, driver: str = "overlay2") -> None:
        self.tmp = tmp
        self.outside = os.path.join(tmp, "outside")
        os.makedirs(os.path.join(self.outside, "dir"), exist_ok=True)
        with open(os.path.join(self.outside, "secret"), "wb") as fh:
            fh.write(SECRET)
        self.root = os.path.join(tmp, "root")
        self.client = DockerClient(
            root=self.root, driver=driver, seed=3, clock="virtual", mounts="user"
        )
        base = self.client.images.base()
        svc = self.client.daemon.image_service
        svc.tag(base.id, "base:1")
        lower = build_tar(
            d("etc/"),
            f("etc/hosts", b"127.0.0.1 localhost\n"),
            f("etc/passwd", b"root:x:0:0\n"),
            d("var/"),
            d("var/lib/"),
            d("var/lib/data/"),
            f("var/lib/data/keep", b"keep"),
            sym("var/etc-link", "../etc"),
            sym("etc/mtab", "/proc/mounts"),
            sym("var/up", "../../outside"),
            sym("abs-out", self.outside),
        )
        self.lower = self.client.daemon.layer_store.register(lower).chain_id
        # `rich:1` is another image with other layers: an archive's layers must be loaded
        # from the archive (moby skips the blobs of layers it has already)
        build_image(svc, [layer_tar({"k": b"k"})], tag="rich:1")
        self.running = self.client.containers.run(base, "sleep 100000", detach=True)
        self.n = 0

    def context(self, files: dict[str, bytes | tuple[str, str]]) -> str:
        """A build context outside the root; ("symlink", target) makes a symlink."""
        self.n += 1
        path = os.path.join(self.tmp, "work", f"ctx{self.n}")
        os.makedirs(path)
        for name, content in files.items():
            full = os.path.join(path, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            if isinstance(content, tuple):
                os.symlink(content[1], full)
            else:
                with open(full, "wb") as fh:
                    fh.write(content)
        return path

    def build(self, dockerfile: str, files: dict[str, Any] | None = None) -> Any:
        ctx = self.context({"Dockerfile": dockerfile.encode(), **(files or {})})
        return self.client.images.build(path=ctx, tag="hostile:1")

    def store_hash(self) -> str:
        return tree_hash(self.root, skip=NOT_STORE)

    def outside_hash(self) -> str:
        listing = sorted(n for n in os.listdir(self.tmp) if n != "work")
        return tree_hash(self.outside) + "|" + ",".join(listing)

    def close(self) -> None:
        self.client.close()


def tree_hash(root: str, skip: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    h = hashlib.sha256()
    for top, dirs, files in os.walk(root):
        if top == root:
            dirs[:] = [x for x in dirs if x not in skip]
            files = [x for x in files if x not in skip]
        dirs.sort()
        for name in sorted(dirs + files):
            full = os.path.join(top, name)
            st = os.lstat(full)
            h.update(f"{os.path.relpath(full, root)}\0{st.st_mode:o}\0{st.st_size}\0".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(full).encode())
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _member(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = 0o644
    return info, data


def _cases() -> dict[str, Case]:
    from dockerlayers.errors import APIError, BuildError, DockerException
    from dockerlayers.image import LoadError

    cases: dict[str, Case] = {}
    # 1. layer tars (tests/archive), registered on the symlink-laden lower layer; vfs
    # applies a layer onto a copy of its parent, so the lower's symlinks are in the way as
    # in the archive suite (overlay2 applies into an empty folder)
    for name, (data, err, words) in ARCHIVE_HOSTILE.items():
        cases[f"layer:{name}"] = Case(
            "layer",
            lambda env, data=data: env.client.daemon.layer_store.register(data, env.lower),
            err,
            words,
            driver="vfs",
        )
    # the same refusals through `docker import` (no lower: the self-contained ones)
    for name in (
        "dotdot",
        "absolute",
        "tar-symlink-absolute-write-through",
        "hardlink-absolute",
        "truncated-data",
        "whiteout-dotdot-root",
    ):
        data, err, words = ARCHIVE_HOSTILE[name]
        cases[f"import:{name}"] = Case(
            "import",
            lambda env, data=data: env.client.images.import_image(data, "imported", "1"),
            (err, APIError, DockerException),
            "",
        )
    # 2. docker-archive and OCI inputs (tests/image), through `docker load`
    for name, make in IMAGE_HOSTILE.items():

        def load(env: Env, make: Any = make) -> Any:
            svc = env.client.daemon.image_service
            keep = svc.get_image("rich:1").id
            src = rich_image(svc, tag="src:1")
            svc.tag(src, "rich:1")
            try:
                archive = make(svc, _TmpPath(env), src)
            finally:
                svc.tag(keep, "rich:1")
                svc.remove("src:1")
            data = archive if isinstance(archive, bytes) else pack(archive)
            env.before = env.store_hash()  # the archive is made: now the store must hold
            return env.client.images.load(data)

        cases[f"load:{name}"] = Case("load", load, (LoadError, APIError, DockerException))
    # 3. Dockerfiles (tests/builder) that fail before any container is made
    for i, (dockerfile, message) in enumerate(BUILD_ERRORS + STAGE_ERRORS):
        if "RUN" in dockerfile and "non-zero" in message:
            continue  # a failing RUN leaves its container, as Docker does: not "unchanged"
        cases[f"build:{i:02d}-{dockerfile.splitlines()[-1][:30] if dockerfile else 'empty'}"] = (
            Case(
                "build",
                lambda env, df=dockerfile: env.build(df, {"a": b"a", "b": b"b"}),
                BuildError,
                message,
            )
        )
    for name, df in (
        ("copy-dotdot-deep", "FROM base:1\nCOPY ../../../etc/passwd /x\n"),
        ("copy-absolute-outside", "FROM base:1\nCOPY /../../etc/passwd /x\n"),
    ):
        cases[f"build:{name}"] = Case("build", lambda env, df=df: env.build(df), BuildError)
    # ADD of a local tar is unpacked as in a chroot (moby: chrootarchive): absolute names
    # and symlinks resolve inside the image; the build succeeds, nothing leaves the root
    evil_tar = _tar([_member("../../evil"), _member("ok")])
    abs_tar = _tar([_member("/etc/evil")])
    link_tar = build_tar(sym("lnk", "/tmp"), f("lnk/evil", b"x"))
    # ADD unpacks chrooted into the destination (moby: pkg/chrootarchive), so "../../evil"
    # lands as /x/evil: accepted, contained (recorded on 20.10.24)
    for name, files, df in (
        ("add-dotdot-tar", {"t.tar": evil_tar}, "FROM base:1\nADD t.tar /x/\n"),
        ("add-absolute-tar", {"t.tar": abs_tar}, "FROM base:1\nADD t.tar /\n"),
        ("add-symlink-write-through-tar", {"t.tar": link_tar}, "FROM base:1\nADD t.tar /\n"),
    ):
        cases[f"contained:{name}"] = Case(
            "contained", lambda env, df=df, files=files: env.build(df, files), None
        )

    def copy_symlink_out(env: Env) -> Any:
        return env.build(
            "FROM base:1\nCOPY s /s\n", {"s": ("symlink", os.path.join(env.outside, "secret"))}
        )

    def copy_symlink_dir_out(env: Env) -> Any:
        return env.build("FROM base:1\nCOPY d/secret /s\n", {"d": ("symlink", env.outside)})

    cases["build:copy-through-symlink-to-outside-file"] = Case(
        "build", copy_symlink_out, BuildError, "file does not exist"
    )
    cases["build:copy-through-symlinked-dir-outside"] = Case(
        "build", copy_symlink_dir_out, BuildError, "file does not exist"
    )

    # 4. exec commands that try to leave the rootfs (the running container)
    def exec_case(cmd: Callable[[Env], str], words: str) -> Case:
        def run(env: Env) -> Any:
            code, out = env.client.containers.get(env.running.id).exec_run(["sh", "-c", cmd(env)])
            if SECRET.strip() in out:
                raise AssertionError("the host's secret was read from inside the container")
            if code != 0:
                raise APIError(f"exit {code}: {out.decode(errors='replace').strip()}", 500)
            return out

        return Case("exec", run, APIError, words)

    outside = lambda env: env.outside  # noqa: E731
    cases["exec:read-dotdot"] = exec_case(
        lambda env: "cat " + "../" * 12 + outside(env).lstrip("/") + "/secret", "No such file"
    )
    cases["exec:read-absolute-host-path"] = exec_case(
        lambda env: f"cat {outside(env)}/secret", "No such file"
    )
    cases["exec:write-absolute-host-path"] = exec_case(
        lambda env: f"echo x > {outside(env)}/evil", "nonexistent directory"
    )
    cases["exec:write-dotdot-host-path"] = exec_case(
        lambda env: "echo x > " + "../" * 12 + outside(env).lstrip("/") + "/evil",
        "nonexistent directory",
    )
    cases["exec:cd-up-and-read"] = exec_case(
        lambda env: f"cd /../../../..; cat .{outside(env)}/secret", "No such file"
    )
    cases["exec:proc-root-escape"] = exec_case(
        lambda env: f"cat /proc/1/root{outside(env)}/secret", "No such file"
    )

    # 5. volume specs and names that try to leave
    def create(volumes: Any) -> Callable[[Env], Any]:
        return lambda env: env.client.containers.create("base:1", "true", volumes=volumes)

    for name, spec in (
        ("bind-relative-destination", {"/tmp": {"bind": "../../etc", "mode": "rw"}}),
        ("bind-destination-root", {"/tmp": {"bind": "/", "mode": "rw"}}),
        ("bind-destination-dotdot-root", {"/tmp": {"bind": "/data/../..", "mode": "rw"}}),
        ("named-volume-dotdot", {"../../evil": {"bind": "/data", "mode": "rw"}}),
        ("named-volume-slash", {"a/../../evil": {"bind": "/data", "mode": "rw"}}),
        ("bind-relative-source", {"../outside": {"bind": "/data", "mode": "rw"}}),
    ):
        cases[f"volume:{name}"] = Case("volume", create(spec), (APIError, DockerException))
    cases["volume:create-dotdot-name"] = Case(
        "volume", lambda env: env.client.volumes.create("../../evil"), (APIError, DockerException)
    )
    cases["volume:create-slash-name"] = Case(
        "volume", lambda env: env.client.volumes.create("a/b"), (APIError, DockerException)
    )
    return cases


class _TmpPath:
    """What the image suite's makers take as `tmp_path` (a pathlib-like folder)."""

    def __init__(self, env: Env) -> None:
        env.n += 1
        self.path = os.path.join(env.tmp, "work", f"img{env.n}")
        os.makedirs(self.path)

    def __truediv__(self, other: str) -> str:
        return os.path.join(self.path, other)

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path


CASES = _cases()


def run_case(env: Env, name: str) -> list[str]:
    """Run one case; returns the problems (empty: refused cleanly, nothing changed)."""
    case = CASES[name]
    env.before = env.store_hash()
    outside_before = env.outside_hash()
    problems: list[str] = []
    if case.expect is None:  # accepted, but contained
        case.run(env)
        env.before = env.store_hash()
        expect: Any = ()
    else:
        expect = case.expect
    try:
        if case.expect is not None:
            case.run(env)
            problems.append("accepted (no error)")
    except expect as e:
        text = str(e)
        if not text.strip():
            problems.append(f"{type(e).__name__} without a message")
        if case.words and case.words not in text:
            problems.append(f"message {text[:200]!r} lacks {case.words!r}")
    except Exception as e:
        problems.append(f"wrong error {type(e).__name__}: {str(e)[:200]}")
    if env.store_hash() != env.before:
        problems.append("the store changed")
    if env.outside_hash() != outside_before:
        problems.append("something was written outside the root")
    for evil in ("/tmp/evil", "/etc/evil", os.path.join(env.tmp, "evil")):
        if os.path.lexists(evil):
            problems.append(f"{evil} was written")
    return problems
