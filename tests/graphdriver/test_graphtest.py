"""moby's driver-agnostic graph driver suite, for every driver (and the kernel's overlayfs).

moby: daemon/graphdriver/graphtest/graphtest_unix.go, testutil.go
"""

from __future__ import annotations

import os
import random
import stat

import pytest

from dockerlayers.stringid import IDGenerator
from tests.graphdriver.fstest import changes_as_tuples

ids = IDGenerator()


def random_content(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def add_file(driver, layer: str, name: str, content: bytes) -> None:
    fs = driver.get(layer)
    try:
        fs.write_bytes("/" + name, content, 0o755)
    finally:
        driver.put(layer)


def check_file(driver, layer: str, name: str, content: bytes) -> None:
    fs = driver.get(layer)
    try:
        assert fs.read_bytes("/" + name) == content
    finally:
        driver.put(layer)


def add_many_files(driver, layer: str, count: int, seed: int) -> None:
    fs = driver.get(layer)
    try:
        for i in range(0, count, 100):
            d = f"/directory-{i}"
            fs.mkdir(d, 0o755, parents=True, exist_ok=True)
            for j in range(min(100, count - i)):
                fs.write_bytes(f"{d}/file-{j}", random_content(64, seed + i + j), 0o755)
    finally:
        driver.put(layer)


def check_many_files(driver, layer: str, count: int, seed: int) -> None:
    fs = driver.get(layer)
    try:
        for i in range(0, count, 100):
            for j in range(min(100, count - i)):
                assert fs.read_bytes(f"/directory-{i}/file-{j}") == random_content(64, seed + i + j)
    finally:
        driver.put(layer)


def change_many_files(driver, layer: str, count: int, seed: int) -> list[tuple[str, str]]:
    """Every 3rd file modified / added / removed; returns the expected changes."""
    fs = driver.get(layer)
    expected = []
    try:
        for i in range(0, count, 100):
            root = f"/directory-{i}"
            fs.mkdir(root, 0o755, parents=True, exist_ok=True)
            for j in range(min(100, count - i)):
                if j == 0:
                    expected.append(("C", root))
                if j % 3 == 0:
                    path = f"{root}/file-{i + j}"
                    fs.write_bytes(path, random_content(64, seed + i + j), 0o755)
                    expected.append(("C", path))
                elif j % 3 == 1:
                    path = f"{root}/file-{seed}-{i + j}"
                    fs.write_bytes(path, random_content(64, seed + i + j), 0o755)
                    expected.append(("A", path))
                else:
                    path = f"{root}/file-{i + j}"
                    fs.remove(path)
                    expected.append(("D", path))
    finally:
        driver.put(layer)
    return sorted(expected, key=lambda c: c[1])


def create_base(driver, name: str) -> None:
    driver.create_read_write(name, None)
    fs = driver.get(name)
    try:
        fs.mkdir("/a subdir", 0o705 | stat.S_ISVTX)
        fs.chmod("/a subdir", 0o705 | stat.S_ISVTX)
        fs.chown("/a subdir", 1, 2)
        fs.write_bytes("/a file", b"Some data", 0o222 | stat.S_ISUID)
    finally:
        driver.put(name)


def verify_file(st: os.stat_result, kind, mode: int, uid: int, gid: int) -> None:
    assert stat.S_IFMT(st.st_mode) == kind
    assert stat.S_IMODE(st.st_mode) == mode, oct(stat.S_IMODE(st.st_mode))
    assert (st.st_uid, st.st_gid) == (uid, gid)


def verify_base(driver, name: str) -> None:
    fs = driver.get(name)
    try:
        verify_file(fs.stat("/a subdir"), stat.S_IFDIR, 0o705 | stat.S_ISVTX, 1, 2)
        verify_file(fs.stat("/a file"), stat.S_IFREG, 0o222 | stat.S_ISUID, 0, 0)
        assert fs.listdir("/") == ["a file", "a subdir"]
    finally:
        driver.put(name)


def test_create_empty(driver):
    driver.create("empty", None)
    assert driver.exists("empty")
    fs = driver.get("empty")
    verify_file(fs.stat("/"), stat.S_IFDIR, 0o755, 0, 0)
    assert fs.listdir("/") == []
    driver.put("empty")
    driver.remove("empty")
    assert not driver.exists("empty")


def test_create_base(driver):
    create_base(driver, "Base")
    verify_base(driver, "Base")
    driver.remove("Base")
    assert not driver.exists("Base")


def test_create_snap(driver):
    create_base(driver, "Base")
    driver.create("Snap", "Base")
    verify_base(driver, "Snap")
    driver.remove("Snap")
    driver.remove("Base")


def add_layer_files(driver, layer: str, parent: str, i: int) -> None:
    fs = driver.get(layer)
    try:
        fs.write_bytes("/top-id", layer.encode(), 0o755)
        fs.mkdir(f"/layer-{i}", 0o755)
        fs.write_bytes(f"/layer-{i}/parent-id", parent.encode(), 0o755)
    finally:
        driver.put(layer)


@pytest.mark.parametrize("count", [128])
def test_deep_layer_read(driver, count):
    """A base file reads through `count` stacked layers (overlay2: TestOverlay128LayerRead)."""
    base = ids.generate_random_id()
    driver.create(base, None)
    add_file(driver, base, "testfile.txt", b"test content")
    parent = base
    for i in range(1, count + 1):
        layer = ids.generate_random_id()
        driver.create(layer, parent)
        add_layer_files(driver, layer, parent, i)
        parent = layer
    top = parent
    fs = driver.get(top)
    try:
        assert fs.read_bytes("/top-id") == top.encode()
        for i in range(count, 0, -1):
            assert fs.exists(f"/layer-{i}/parent-id")
        assert fs.read_bytes("/testfile.txt") == b"test content"
    finally:
        driver.put(top)
    if driver.name == "overlay2":
        with open(os.path.join(driver.home, top, "lower")) as f:
            lower = f.read()
        assert len(lower.split(":")) == count
        assert len(lower) == 28 * count + count - 1


@pytest.mark.parametrize("file_count", [10, 250])
def test_diff_apply(driver, file_count):
    base, upper, diff = (ids.generate_random_id() for _ in range(3))
    delete_file, delete_content = "file-remove.txt", b"This file should get removed in upper!"
    delete_dir = "var/lib"
    driver.create(base, None)
    add_many_files(driver, base, file_count, 3)
    add_file(driver, base, delete_file, delete_content)
    fs = driver.get(base)
    fs.mkdir("/" + delete_dir, 0o755, parents=True)
    driver.put(base)

    driver.create(upper, base)
    add_many_files(driver, upper, file_count, 6)
    fs = driver.get(upper)
    fs.remove("/" + delete_file)
    fs.rmtree("/" + delete_dir)
    driver.put(upper)
    diff_size = driver.diff_size(upper, None)
    assert diff_size == 64 * file_count

    driver.create(diff, base)
    check_many_files(driver, diff, file_count, 3)
    check_file(driver, diff, delete_file, delete_content)

    with driver.diff(upper, base) as arch:
        data = arch.read()
    import io

    applied = driver.apply_diff(diff, base, io.BytesIO(data))
    assert applied == diff_size
    check_many_files(driver, diff, file_count, 6)
    fs = driver.get(diff)
    try:
        assert not fs.lexists("/" + delete_file)
        assert not fs.lexists("/" + delete_dir)
        assert fs.isdir("/var")
    finally:
        driver.put(diff)


def test_changes(driver):
    """moby skips this for overlay2 ("naive change algorithm"); ours must equal it."""
    base, upper = ids.generate_random_id(), ids.generate_random_id()
    driver.create(base, None)
    add_many_files(driver, base, 20, 3)
    driver.create(upper, base)
    expected = change_many_files(driver, upper, 20, 6)
    got = changes_as_tuples(driver.changes(upper, base))
    assert got == expected
