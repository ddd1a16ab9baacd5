"""COPY and ADD: resolve the sources (the context, or `--from` a stage or image), hash
them for the cache, write them into a fresh RW layer on the image and commit it (no
container). ADD of a local tar unpacks it (`extract_tar`).

moby: builder/dockerfile/copy.go, internals.go performCopy, dispatchers.go getImageMount,
builder/remotecontext/{lazycontext,tarsum}.go, pkg/symlink FollowSymlinkInScope
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dockerlayers.builder.internals import comment_config, export_image, parent_chain
from dockerlayers.builder.parser import Instruction, split_words
from dockerlayers.builder.state import DispatchRequest, StepError
from dockerlayers.errors import PULL_ERROR, APIError


@dataclass
class CopyInfo:
    """One source of a COPY/ADD: its path in the source, resolved path, and cache hash.

    moby: copy.go copyInfo
    """

    path: str  # as given (relative to the source root, cleaned)
    resolved: str  # absolute in-source path after following symlinks in scope
    hash: str


def perform_copy(d: DispatchRequest, ins: Instruction) -> None:
    """COPY/ADD into a fresh RW layer on the image, then commit it (no container).

    moby: builder/dockerfile/dispatchers.go dispatchCopy/dispatchAdd, copy.go,
    internals.go performCopy
    """
    state = d.state
    backend = d.builder.backend
    name = ins.cmd.upper()
    raw = ins.json_form if ins.json_form is not None else split_words(ins.args)
    env = state.expansion_env()
    words = [d.lex.process_word(w, env) for w in raw]
    srcs, dest = words[:-1], words[-1]
    chown = ins.flags.get("chown") or ""
    if chown:
        chown = d.lex.process_word(chown, env)
    from_ref = ins.flags.get("from")
    source: Source
    release = None
    if from_ref is not None:
        source, release = image_source(d, from_ref)
    else:
        assert d.builder.context_dir is not None
        source = Source(d.builder.context_dir, None, context=True)
    try:
        infos: list[CopyInfo] = []
        for src in srcs:
            if src.startswith(("http://", "https://")):
                if ins.cmd == "copy":
                    raise StepError(f"{name} failed: source can't be a URL for COPY")
                raise StepError(f"{name} failed: downloading {src}: the model has no network")
            try:
                infos.extend(copy_infos(source, src, allow_wildcards=True))
            except FileNotFoundError as e:
                raise StepError(f"{name} failed: {e.args[0]}") from None
        if not infos:
            raise StepError(f"{name} failed: no source files were specified")
        if len(infos) > 1 and not dest.endswith("/"):
            raise StepError(
                f"When using {name} with more than one source file, the destination must "
                "be a directory and end with a /"
            )
        chown_comment = f"--chown={chown}" if chown else ""
        comment = f"{name} {chown_comment}{source_hash(infos)} in {dest} "
        run_config = comment_config(state, comment, single=True)
        if d.builder.prober.probe(state, run_config):
            return
        rw = backend.create_rw_layer(parent_chain(state))
        try:
            fs = rw.mount()
            try:
                uid, gid = _parse_chown(chown, fs) if chown else (0, 0)
                dest_path = _normalize_dest(state.run_config.working_dir, dest)
                for info in infos:
                    copy_for_info(fs, source, info, dest_path, ins.cmd == "add", (uid, gid))
            finally:
                rw.unmount()
            export_image(d, rw, run_config)
        finally:
            backend.release_rw_layer(rw)
    finally:
        if release is not None:
            release()


def source_hash(infos: list[CopyInfo]) -> str:
    """moby: internals.go getSourceHashFromInfos (`multi:` for several sources)"""
    if len(infos) == 1:
        return infos[0].hash
    return "multi:" + hashlib.sha256(",".join(i.hash for i in infos).encode()).hexdigest()


def image_source(d: DispatchRequest, ref: str) -> tuple[Source, Callable[[], None]]:
    """`--from`: a finished stage (by name or index) or an image, and how to release it.

    moby: dispatchers.go getImageMount, stagesBuildResults.get
    """
    stages = d.builder.stages
    backend = d.builder.backend
    image_id: str | None
    if ref.lower() in stages.by_name:
        image_id = stages.by_name[ref.lower()]
    else:
        try:
            index = int(ref)
        except ValueError:
            index = None
        if index is not None:
            if index < 0 or index >= len(stages.by_index):
                raise StepError(f"invalid from flag value {ref}: index out of bounds")
            image_id = stages.by_index[index]
        else:
            try:
                image_id = backend.get_image(ref).id
            except APIError:
                raise StepError(f"invalid from flag value {ref}: {PULL_ERROR}") from None
    if not image_id:  # a scratch stage: nothing in it
        empty = tempfile.mkdtemp(prefix="docker-builder", dir=backend.temp_dir())
        return Source(empty, None, context=False), lambda: shutil.rmtree(empty, ignore_errors=True)
    img = backend.get_image(image_id)
    rw = backend.create_rw_layer(img.rootfs.chain_id() if img.rootfs else None)
    fs = rw.mount()

    def release() -> None:
        rw.unmount()
        backend.release_rw_layer(rw)

    return Source(None, fs, context=False), release


def copy_infos(source: Source, orig: str, allow_wildcards: bool) -> list[CopyInfo]:
    """moby: builder/dockerfile/copy.go calcCopyInfo, copyWithWildcards, walkSource"""
    if orig.startswith("/") and len(orig) > 1:
        orig = orig[1:]
    if orig.startswith("./"):
        orig = orig[2:]
    if allow_wildcards and any(ch in orig for ch in "*?["):
        out: list[CopyInfo] = []
        for rel in source.walk_all():
            if _go_path_match(orig, rel):
                out.extend(copy_infos(source, rel, False))
        return out
    clean = posixpath.normpath(orig or ".")
    if clean == ".." or clean.startswith("../"):
        raise FileNotFoundError(f"forbidden path outside the build context: {orig} ()")
    resolved = source.resolve("/" + clean if clean != "." else "/")
    st = source.stat(resolved) if resolved is not None else None
    if st is None:
        if source.context:
            raise FileNotFoundError(
                "file not found in build context or excluded by .dockerignore: "
                f"stat {orig}: file does not exist"
            )
        raise FileNotFoundError(f"stat {orig}: file does not exist")
    assert resolved is not None
    if not stat.S_ISDIR(st.st_mode):
        return [CopyInfo(clean, resolved, "file:" + source.file_hash(resolved))]
    hashes = []
    for p in source.walk_tree(resolved):
        if p == "/":
            continue
        hashes.append(source.file_hash(p))
    hashes.sort()
    return [
        CopyInfo(clean, resolved, "dir:" + hashlib.sha256(",".join(hashes).encode()).hexdigest())
    ]


def copy_for_info(
    fs: Any, source: Source, info: CopyInfo, dest: str, is_add: bool, owner: tuple[int, int]
) -> None:
    """moby: builder/dockerfile/copy.go performCopyForInfo"""
    dest_clean = posixpath.normpath(dest)
    st = source.stat(info.resolved)
    assert st is not None
    if stat.S_ISDIR(st.st_mode):
        copy_directory(fs, source, info.resolved, dest_clean, owner)
        return
    if is_add and source.context and _is_archive(source.host(info.resolved)):
        extract_tar(fs, source.host(info.resolved), dest_clean, owner)
        return
    target = dest_clean
    if dest.endswith("/") or (fs.lexists(dest_clean) and fs.isdir(dest_clean)):
        target = posixpath.join(dest_clean, posixpath.basename(info.path))
    _mkdir_all(fs, posixpath.dirname(target), owner)
    copy_file(fs, source, info.resolved, target, owner, follow=True)


def copy_file(
    fs: Any,
    source: Source,
    src: str,
    target: str,
    owner: tuple[int, int],
    follow: bool = False,
) -> None:
    """One file or symlink to `target` (mode, mtime, owner kept). moby: copy.go copyFile"""
    st = source.stat(src) if follow else source.lstat(src)
    assert st is not None
    if fs.lexists(target) and not (fs.isdir(target) and not fs.islink(target)):
        fs.remove(target)
    if stat.S_ISLNK(st.st_mode):
        fs.symlink(source.readlink(src), target)
        _chown(fs, target, owner)
        return
    if fs.isdir(target):
        raise StepError(f"cannot overwrite directory {target} with non-directory {src}")
    mode = stat.S_IMODE(st.st_mode)
    fs.write_bytes(target, source.read(src), mode)
    fs.chmod(target, mode)
    _chown(fs, target, owner)
    fs.utime(target, (int(st.st_mtime), int(st.st_mtime)))


def copy_directory(fs: Any, source: Source, src: str, dest: str, owner: tuple[int, int]) -> None:
    """The folder's *contents* into dest (moby: copyDirectory -> archiver.CopyWithTar)."""
    _mkdir_all(fs, dest, owner)
    dir_times = []
    for p in source.walk_tree(src):
        if p == src:
            continue
        rel = posixpath.relpath(p, src)
        target = posixpath.join(dest, rel)
        st = source.lstat(p)
        assert st is not None
        if stat.S_ISDIR(st.st_mode):
            if fs.lexists(target) and not fs.isdir(target):
                fs.remove(target)
            if not fs.lexists(target):
                fs.mkdir(target, stat.S_IMODE(st.st_mode))
            fs.chmod(target, stat.S_IMODE(st.st_mode))
            _chown(fs, target, owner)
            dir_times.append((target, int(st.st_mtime)))
        else:
            copy_file(fs, source, p, target, owner)
    for target, mtime in reversed(dir_times):
        fs.utime(target, (mtime, mtime))


def extract_tar(fs: Any, host: str, dest: str, owner: tuple[int, int]) -> None:
    """ADD of a local tar (plain, gzip, bzip2, xz): unpacked into dest as moby's chrooted
    untar does (`builder/untar.py`).

    moby: builder/dockerfile/copy.go performCopyForInfo (archiver.UntarPath)
    """
    from dockerlayers.builder.untar import untar

    untar(fs, host, dest, owner, _chown, _mkdir_all)


def _is_archive(path: str) -> bool:
    """Whether ADD would unpack this file (moby: pkg/archive IsArchivePath)."""
    try:
        return os.path.isfile(path) and tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError):
        return False


# -- sources -----------------------------------------------------------------------------------
class Source:
    """Where COPY reads from: the unpacked context (a host folder) or an image's root
    filesystem (a RootFS). Paths are absolute inside the source (`/a/b`).

    moby: builder/remotecontext/lazycontext.go (hashes), pkg/symlink FollowSymlinkInScope
    """

    def __init__(self, root: str | None, fs: Any, context: bool) -> None:
        self.root = root
        self.fs = fs
        self.context = context

    def host(self, path: str) -> str:
        assert self.root is not None
        return os.path.join(self.root, path.lstrip("/"))

    def lstat(self, path: str) -> os.stat_result | None:
        try:
            return os.lstat(self.host(path)) if self.fs is None else self.fs.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def stat(self, path: str) -> os.stat_result | None:
        resolved = self.resolve(path)
        return self.lstat(resolved) if resolved is not None else None

    def readlink(self, path: str) -> str:
        return os.readlink(self.host(path)) if self.fs is None else self.fs.readlink(path)

    def read(self, path: str) -> bytes:
        if self.fs is not None:
            return self.fs.read_bytes(path)
        with open(self.host(path), "rb") as f:
            return f.read()

    def listdir(self, path: str) -> list[str]:
        try:
            names = os.listdir(self.host(path)) if self.fs is None else self.fs.listdir(path)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(names)

    def resolve(self, path: str) -> str | None:
        """Follow symlinks, never leaving the source's root; None if it does not exist."""
        parts = [p for p in path.split("/") if p]
        done: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            cur = "/" + "/".join([*done, part])
            st = self.lstat(cur)
            if st is None:
                return None
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > 255:
                    return None
                target = self.readlink(cur)
                if target.startswith("/"):
                    done = []
                parts = [p for p in target.split("/") if p] + parts
                continue
            done.append(part)
        return "/" + "/".join(done)

    def walk_tree(self, top: str) -> list[str]:
        """`top` and everything under it, lexical order, symlinks not followed."""
        out = [top]
        st = self.lstat(top)
        if st is None or not stat.S_ISDIR(st.st_mode):
            return out
        for name in self.listdir(top):
            out.extend(self.walk_tree(posixpath.join(top, name)))
        return out

    def walk_all(self) -> list[str]:
        """Every path of the source, relative (for wildcard matching)."""
        return [p.lstrip("/") for p in self.walk_tree("/") if p != "/"]

    def file_hash(self, path: str) -> str:
        """The tarsum-style hash of one path: its tar header fields, then its content.

        moby: builder/remotecontext/tarsum.go + lazycontext.go prepareHash (NewFileHash,
        tarsum.WriteV1Header)
        """
        st = self.lstat(path)
        assert st is not None
        rel = path.lstrip("/")
        h = hashlib.sha256()
        if stat.S_ISDIR(st.st_mode):
            typeflag, mode_bits, size, name = "5", 0o040000, 0, rel + "/"
        elif stat.S_ISLNK(st.st_mode):
            typeflag, mode_bits, size, name = "2", 0o120000, 0, rel
        else:
            typeflag, mode_bits, size, name = "0", 0o100000, st.st_size, rel
        link = self.readlink(path) if typeflag == "2" else ""
        # the context's hashes come from the tar the CLI sent (owner 0:0, no names); an
        # image's from its files, with the names dockerd's os/user finds for the owner
        uid, gid = (0, 0) if self.context else (st.st_uid, st.st_gid)
        uname, gname = ("", "") if self.context else (_user_name(uid), _group_name(gid))
        mode = stat.S_IMODE(st.st_mode) | mode_bits
        for key, value in (
            ("name", name),
            ("mode", str(mode)),
            ("uid", str(uid)),
            ("gid", str(gid)),
            ("size", str(size)),
            ("typeflag", typeflag),
            ("linkname", link),
            ("uname", uname),
            ("gname", gname),
            ("devmajor", "0"),
            ("devminor", "0"),
        ):
            h.update((key + value).encode("utf-8", "surrogateescape"))
        if typeflag == "0" and size:
            h.update(self.read(path))
        return h.hexdigest()


# -- helpers -----------------------------------------------------------------------------------
def _normalize_dest(working_dir: str, requested: str) -> str:
    """moby: copy.go normalizeDest (relative to WORKDIR, trailing slash kept)"""
    if requested.startswith("/"):
        return requested
    dest = posixpath.normpath(posixpath.join("/", working_dir or "/", requested))
    return dest + "/" if requested.endswith("/") and dest != "/" else dest


def _go_path_match(pattern: str, name: str) -> bool:
    """Go's filepath.Match: `*` and `?` stop at `/`, `[...]` classes (`^`/`!` negate)."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            j = pattern.find("]", i + 2)
            if j == -1:
                return False
            body = pattern[i + 1 : j]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.fullmatch("".join(out), name) is not None


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return "root" if uid == 0 else ""


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return "root" if gid == 0 else ""


def _parse_chown(spec: str, fs: Any) -> tuple[int, int]:
    """`--chown=user[:group]` as (uid, gid): numbers as they are, names from the image's
    /etc/passwd and /etc/group (a lone user is also the group's name).

    moby: builder/dockerfile/internals_linux.go parseChownFlag, lookupUser, lookupGroup
    """
    from dockerlayers.process.users import GROUP_PATH, PASSWD_PATH, parse_group, parse_passwd

    prefix = "unable to convert uid/gid chown string to host mapping: "
    parts = spec.split(":")
    if len(parts) > 2:
        raise StepError(prefix + "invalid chown string format: " + spec)
    user, group = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])

    def read(path: str) -> str:
        try:
            return fs.read_bytes(path).decode("utf-8", "surrogateescape")
        except OSError as e:
            raise StepError(f"{prefix}open {path}: {(e.strerror or '').lower()}") from None

    def number(s: str) -> int | None:
        t = s[1:] if s[:1] in "+-" else s
        return int(s) if t.isdigit() else None

    uid = number(user)
    if uid is None:
        found = [u.uid for u in parse_passwd(read(PASSWD_PATH)) if u.name == user]
        if not found:
            raise StepError(f"{prefix}can't find uid for user {user}: no such user: {user}")
        uid = found[0]
    gid = number(group)
    if gid is None:
        found = [g.gid for g in parse_group(read(GROUP_PATH)) if g.name == group]
        if not found:
            raise StepError(f"{prefix}can't find gid for group {group}: no such group: {group}")
        gid = found[0]
    return uid, gid


def _chown(fs: Any, path: str, owner: tuple[int, int]) -> None:
    """Chown where the filesystem can (a rootless model may not)."""
    try:
        fs.chown(path, *owner)
    except (OSError, NotImplementedError):
        pass


def _mkdir_all(fs: Any, path: str, owner: tuple[int, int]) -> None:
    """MkdirAllAndChownNew: missing folders made 0755, owned like the copied files."""
    missing = []
    p = posixpath.normpath(path)
    while p not in ("/", "") and not fs.lexists(p):
        missing.append(p)
        p = posixpath.dirname(p)
    for d in reversed(missing):
        fs.mkdir(d, 0o755)
        _chown(fs, d, owner)
