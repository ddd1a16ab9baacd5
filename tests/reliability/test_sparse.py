"""Sparse files in layer tars (issue 21, item 5), as a 20.10.24 engine answers them
(recorded here with GNU tar 1.34's archives of one 10 MB file with two data fragments):

* PAX sparse (formats 0.0, 0.1, 1.0): imported; the layer holds the whole 10 MB file
  (`docker cp` gives the original bytes); the DiffID is the tar's own digest; `docker save`
  then fails, as moby's tar-split cannot reassemble a sparse entry ("could not verify layer
  data").
* Old GNU sparse (typeflag 'S'): refused, `unhandled tar header type 83`.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile

import pytest

from dockerlayers import DockerClient
from dockerlayers.errors import APIError

FORMATS = {
    "pax-1.0": ["--format=posix"],
    "pax-0.1": ["--format=posix", "--sparse-version=0.1"],
    "pax-0.0": ["--format=posix", "--sparse-version=0.0"],
    "gnu": ["--format=gnu"],
}


def _sparse_file(path) -> bytes:
    with open(path, "wb") as f:
        f.seek(3_000_000)
        f.write(b"middle" * 1000)
        f.seek(10_000_000 - 5)
        f.write(b"tail!")
    return path.read_bytes()


@pytest.fixture
def tar_of(tmp_path):
    if (
        shutil.which("tar") is None
        or b"GNU tar" not in subprocess.run(["tar", "--version"], capture_output=True).stdout
    ):
        pytest.skip("GNU tar is needed to write sparse archives")
    src = tmp_path / "src"
    src.mkdir()
    content = _sparse_file(src / "f")

    def make(fmt: str) -> bytes:
        out = tmp_path / f"{fmt}.tar"
        subprocess.run(
            ["tar", "--sparse", *FORMATS[fmt], "-C", str(src), "-cf", str(out), "f"], check=True
        )
        return out.read_bytes()

    return make, content


@pytest.fixture
def client(tmp_path):
    with DockerClient(root=str(tmp_path / "root"), seed=1, clock="virtual", mounts="user") as c:
        yield c


@pytest.mark.parametrize("fmt", ["pax-1.0", "pax-0.1", "pax-0.0"])
def test_pax_sparse_is_the_whole_file_and_save_fails_as_moby(client, tar_of, fmt):
    make, content = tar_of
    data = make(fmt)
    image = client.images.import_image(data, repository="sparse", tag=fmt)
    assert image.attrs["RootFS"]["Layers"] == ["sha256:" + hashlib.sha256(data).hexdigest()]
    assert image.attrs["Size"] == len(content)
    c = client.containers.create(image, ["x"])
    stream, stat = c.get_archive("/f")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as t:
        assert t.extractfile("f").read() == content
    with pytest.raises(APIError, match="could not verify layer data for: sha256:"):
        b"".join(image.save())


def test_old_gnu_sparse_is_refused(client, tar_of):
    make, _ = tar_of
    with pytest.raises(APIError, match=r"unhandled tar header type 83$"):
        client.images.import_image(make("gnu"), repository="sparse", tag="gnu")
    assert [i for i in client.images.list() if "sparse:gnu" in i.tags] == []
