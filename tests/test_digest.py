"""DiffID, ChainID and the empty layer (moby.md 1.1)."""

from __future__ import annotations

import hashlib

import pytest

from dockerlayers.digest import (
    DIGEST_SHA256_EMPTY_TAR,
    EMPTY_TAR,
    Digest,
    chain_id,
    create_chain_id_from_parent,
    from_bytes,
    is_digest,
    is_empty,
)

E = DIGEST_SHA256_EMPTY_TAR


def test_empty_tar_digest():
    assert EMPTY_TAR == b"\0" * 1024
    assert E == "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
    assert from_bytes(EMPTY_TAR) == E
    assert "sha256:" + hashlib.sha256(b"\0" * 1024).hexdigest() == E
    assert is_empty(E)
    assert not is_empty(from_bytes(b""))


def test_python_tarfile_default_is_not_docker_empty():
    """moby.md 1.1 note: a default Python tar pads to 10240 bytes."""
    import io
    import tarfile

    buf = io.BytesIO()
    tarfile.open(fileobj=buf, mode="w").close()
    assert len(buf.getvalue()) == 10240
    assert from_bytes(buf.getvalue()) != E


def test_chain_id_vectors():
    assert chain_id([E]) == E
    assert chain_id([E, E]) == (
        "sha256:170b376f64fb30995c140276be3d71dfb256b308d86183ca3b22aa93a79ad548"
    )
    assert chain_id([E, E, E]) == (
        "sha256:7800f80a93336d416612f372faa5f69eb67b353ce6ae9535fa0848f8784c74b1"
    )
    assert chain_id([]) is None


def test_chain_id_formula():
    a, b, c = (from_bytes(x) for x in (b"a", b"b", b"c"))
    ab = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    abc = "sha256:" + hashlib.sha256(f"{ab} {c}".encode()).hexdigest()
    assert chain_id([a, b, c]) == abc
    assert create_chain_id_from_parent(None, a) == a
    assert create_chain_id_from_parent(ab, c) == abc


def test_digest_checks_format():
    d = Digest(E)
    assert d.hex == E[7:]
    assert d.short == "5f70bf18a086"
    for bad in ("sha256:abc", E.upper(), E[7:], "sha512:" + "a" * 64, ""):
        assert not is_digest(bad)
        with pytest.raises(ValueError):
            Digest(bad)
    with pytest.raises(ValueError):
        chain_id(["not a digest"])
