"""Manifests: Docker v2 schema 2, OCI image manifests, manifest lists and OCI indexes.

moby: distribution/manifestlist, vendor/github.com/docker/distribution/manifest/
"""

from __future__ import annotations

import json
import platform as _platform
from typing import Any

SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ACCEPT = ", ".join([SCHEMA2, MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX])
LISTS = (MANIFEST_LIST, OCI_INDEX)


def default_platform() -> tuple[str, str, str]:
    """(os, architecture, variant) of this host, as Go names them (linux/amd64 default)."""
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(
        _platform.machine(), "amd64"
    )
    return "linux", arch, ""


def parse_platform(spec: str | None) -> tuple[str, str, str]:
    """`os/arch[/variant]` (`linux/amd64`). moby: containerd/platforms Parse"""
    if not spec:
        return default_platform()
    parts = spec.split("/")
    return parts[0], parts[1] if len(parts) > 1 else "amd64", parts[2] if len(parts) > 2 else ""


def media_type(raw: bytes, content_type: str) -> str:
    """The manifest's mediaType field, else the response's Content-Type."""
    try:
        mt = json.loads(raw).get("mediaType")
    except ValueError:
        mt = None
    if mt:
        return mt
    ct = content_type.split(";")[0].strip()
    if ct in (SCHEMA2, MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX):
        return ct
    return OCI_MANIFEST


def select(index: dict[str, Any], plat: tuple[str, str, str]) -> dict[str, Any] | None:
    """The index entry for `plat`. moby: distribution/pull_v2.go filterManifests"""
    os_, arch, variant = plat
    for m in index.get("manifests", []):
        p = m.get("platform", {})
        same = p.get("os") == os_ and p.get("architecture") == arch
        if same and (not variant or p.get("variant", "") == variant):
            return m
    return None
