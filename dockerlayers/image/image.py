"""The image config: what `imagedb/content/sha256/<id>` holds, and new child images.

The image ID is the sha256 of the exact config bytes. `Image.marshal()` writes them as
moby does (Go's encoding/json, then the top-level keys sorted), so an image we create
here has the ID Docker would give the same config.

moby: image/image.go, api/types/container/config.go (Config)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from dockerlayers.digest import is_empty
from dockerlayers.image import jsonenc
from dockerlayers.image.rootfs import RootFS

#: What `docker_version` says in configs we write (the engine we model).
DOCKER_VERSION = "20.10.24"  # the Docker the model is (images it makes say so)
#: Go's zero time.Time, as `created` reads when it was never set.
ZERO_TIME = "0001-01-01T00:00:00Z"
DEFAULT_ARCH = "amd64"
DEFAULT_OS = "linux"


# (python attribute, JSON key, kind, omitempty) in Go struct order.
# kind: "s" string, "b" bool, "l" list (strslice / []string), "m" map, "o" object, "i" int
_CONFIG_FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("hostname", "Hostname", "s", False),
    ("domainname", "Domainname", "s", False),
    ("user", "User", "s", False),
    ("attach_stdin", "AttachStdin", "b", False),
    ("attach_stdout", "AttachStdout", "b", False),
    ("attach_stderr", "AttachStderr", "b", False),
    ("exposed_ports", "ExposedPorts", "m", True),
    ("tty", "Tty", "b", False),
    ("open_stdin", "OpenStdin", "b", False),
    ("stdin_once", "StdinOnce", "b", False),
    ("env", "Env", "l", False),
    ("cmd", "Cmd", "l", False),
    ("healthcheck", "Healthcheck", "o", True),
    ("args_escaped", "ArgsEscaped", "b", True),
    ("image", "Image", "s", False),
    ("volumes", "Volumes", "m", False),
    ("working_dir", "WorkingDir", "s", False),
    ("entrypoint", "Entrypoint", "l", False),
    ("network_disabled", "NetworkDisabled", "b", True),
    ("mac_address", "MacAddress", "s", True),
    ("on_build", "OnBuild", "l", False),
    ("labels", "Labels", "m", False),
    ("stop_signal", "StopSignal", "s", True),
    ("stop_timeout", "StopTimeout", "i", True),
    ("shell", "Shell", "l", True),
)


def _omitted(kind: str, value: Any) -> bool:
    """Go's omitempty: nil, false, "", empty slice or map (pointers only when nil)."""
    if value is None:
        return True
    if kind in ("b", "s", "l", "m"):
        return not value
    return False


#: V1Image's JSON keys in Go struct order (moby: image/image.go V1Image).
V1_KEYS = (
    "id",
    "parent",
    "comment",
    "created",
    "container",
    "container_config",
    "docker_version",
    "author",
    "config",
    "architecture",
    "variant",
    "os",
    "Size",
)


@dataclass
class ContainerConfig:
    """The portable part of a container's configuration, as kept in image configs
    (`config` and `container_config`). Lists and maps are None when unset, which Go
    writes as `null`; `exposed_ports` and `volumes` map a port/path to `{}`.

    moby: api/types/container/config.go Config
    """

    hostname: str = ""
    domainname: str = ""
    user: str = ""
    attach_stdin: bool = False
    attach_stdout: bool = False
    attach_stderr: bool = False
    exposed_ports: dict[str, dict] | None = None
    tty: bool = False
    open_stdin: bool = False
    stdin_once: bool = False
    env: list[str] | None = None
    cmd: list[str] | None = None
    healthcheck: dict[str, Any] | None = None
    args_escaped: bool = False
    image: str = ""
    volumes: dict[str, dict] | None = None
    working_dir: str = ""
    entrypoint: list[str] | None = None
    network_disabled: bool = False
    mac_address: str = ""
    on_build: list[str] | None = None
    labels: dict[str, str] | None = None
    stop_signal: str = ""
    stop_timeout: int | None = None
    shell: list[str] | None = None
    #: keys we do not model, kept when read (never written by `to_json`)
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def copy(self) -> ContainerConfig:
        return copy.deepcopy(self)

    def to_json(self) -> dict[str, Any]:
        """The object Go's encoding/json writes for this struct (field order, omitempty,
        nil as null, map keys sorted)."""
        out: dict[str, Any] = {}
        for attr, key, kind, omitempty in _CONFIG_FIELDS:
            value = getattr(self, attr)
            if omitempty and _omitted(kind, value):
                continue
            if kind == "m" and value is not None:
                value = jsonenc.sort_keys(dict(value))
            elif kind == "l" and value is not None:
                value = list(value)
            out[key] = value
        return out

    @classmethod
    def from_json(cls, value: Any) -> ContainerConfig:
        """Read a `config`/`container_config` object, checking each known field's type."""
        if value is None:
            return cls()
        if not isinstance(value, dict):
            raise ValueError("invalid image JSON, config is not an object")
        cfg = cls()
        known = set()
        for attr, key, kind, _ in _CONFIG_FIELDS:
            known.add(key)
            if key not in value or value[key] is None:
                continue
            v = value[key]
            ok = {
                "s": isinstance(v, str),
                "b": isinstance(v, bool),
                "i": isinstance(v, int) and not isinstance(v, bool),
                "o": isinstance(v, dict),
                "m": isinstance(v, dict),
                "l": isinstance(v, list) and all(isinstance(x, str) for x in v),
            }[kind]
            if kind == "l" and isinstance(v, str):  # strslice accepts a single string
                v, ok = [v], True
            if not ok:
                raise ValueError(f"invalid image JSON, config field {key} has the wrong type")
            setattr(cfg, attr, v)
        cfg.extra = {k: v for k, v in value.items() if k not in known}
        return cfg


@dataclass
class History:
    """One build step. `empty_layer` steps made no layer; every other step matches, in
    order, the next entry of `rootfs.diff_ids`.

    moby: image/image.go History
    """

    created: str = ZERO_TIME
    author: str = ""
    created_by: str = ""
    comment: str = ""
    empty_layer: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"created": self.created}
        if self.author:
            out["author"] = self.author
        if self.created_by:
            out["created_by"] = self.created_by
        if self.comment:
            out["comment"] = self.comment
        if self.empty_layer:
            out["empty_layer"] = True
        return out

    @classmethod
    def from_json(cls, value: Any) -> History:
        if not isinstance(value, dict):
            raise ValueError("invalid image JSON, history entry is not an object")
        h = cls()
        for attr, kind in (
            ("created", str),
            ("author", str),
            ("created_by", str),
            ("comment", str),
            ("empty_layer", bool),
        ):
            v = value.get(attr)
            if v is None:
                continue
            if not isinstance(v, kind):
                raise ValueError(f"invalid image JSON, history field {attr} has the wrong type")
            setattr(h, attr, v)
        return h


def new_history(
    created: str, author: str = "", comment: str = "", created_by: str = "", empty: bool = False
) -> History:
    """moby: image/image.go NewHistory (our caller passes the time: the daemon's clock)"""
    return History(created, author, created_by, comment, empty)


@dataclass
class Image:
    """An image config: the V1 fields, the root filesystem and the history.

    `id` is the content-addressable ID (`sha256:` of `raw_json`) once the image is
    stored or parsed; `v1_id` is the legacy `id` key that old configs may carry.
    `parent` is the locally known parent image ID (metadata, not config, in the store).

    moby: image/image.go Image, V1Image
    """

    created: str = ZERO_TIME
    comment: str = ""
    container: str = ""
    container_config: ContainerConfig = field(default_factory=ContainerConfig)
    docker_version: str = ""
    author: str = ""
    config: ContainerConfig | None = None
    architecture: str = ""
    variant: str = ""
    os: str = ""
    size: int = 0
    parent: str = ""
    rootfs: RootFS | None = None
    history: list[History] = field(default_factory=list)
    os_version: str = ""
    os_features: list[str] | None = None
    v1_id: str = ""
    raw_json: bytes = field(default=b"", repr=False, compare=False)
    id: str = field(default="", compare=False)

    # -- serialisation --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """Go struct order (V1Image fields, then Image's), before the top-level sort."""
        out: dict[str, Any] = {}
        if self.v1_id:
            out["id"] = self.v1_id
        if self.comment:
            out["comment"] = self.comment
        out["created"] = self.created
        if self.container:
            out["container"] = self.container
        out["container_config"] = self.container_config.to_json()
        if self.docker_version:
            out["docker_version"] = self.docker_version
        if self.author:
            out["author"] = self.author
        if self.config is not None:
            out["config"] = self.config.to_json()
        if self.architecture:
            out["architecture"] = self.architecture
        if self.variant:
            out["variant"] = self.variant
        if self.os:
            out["os"] = self.os
        if self.size:
            out["Size"] = self.size
        if self.parent:
            out["parent"] = self.parent
        if self.rootfs is not None:
            out["rootfs"] = self.rootfs.to_json()
        if self.history:
            out["history"] = [h.to_json() for h in self.history]
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        return out

    def marshal(self) -> bytes:
        """The config bytes as moby writes them: top-level keys sorted.

        moby: image/image.go MarshalJSON
        """
        return jsonenc.marshal(jsonenc.sort_keys(self.to_json()))

    def v1_image_json(self) -> dict[str, Any]:
        """Only the V1Image part (what legacy `docker save` writes per layer).

        moby: image/image.go V1Image
        """
        full = self.to_json()
        out = {k: full[k] for k in V1_KEYS if k in full}
        out.pop("parent", None)  # Image.Parent shadows V1Image.Parent
        return out

    # -- accessors --------------------------------------------------------------------------
    def run_config(self) -> ContainerConfig:
        """moby: image/image.go RunConfig (never None here)"""
        return self.config if self.config is not None else ContainerConfig()

    def base_img_arch(self) -> str:
        """moby: image/image.go BaseImgArch"""
        return self.architecture or DEFAULT_ARCH

    def operating_system(self) -> str:
        """moby: image/image.go OperatingSystem"""
        return self.os or DEFAULT_OS

    @property
    def short_id(self) -> str:
        return self.id[7:19]


def new_from_json(src: bytes) -> Image:
    """Parse config bytes; they must hold a `rootfs` key. The bytes are kept as `raw_json`
    and the ID is their sha256.

    moby: image/image.go NewFromJSON
    """
    from dockerlayers.digest import from_bytes

    doc = jsonenc.unmarshal(src, "image JSON")
    if not isinstance(doc, dict):
        raise ValueError("invalid image JSON, not an object")
    if doc.get("rootfs") is None:
        raise ValueError("invalid image JSON, no RootFS key")

    def text(key: str) -> str:
        v = doc.get(key)
        if v is None:
            return ""
        if not isinstance(v, str):
            raise ValueError(f"invalid image JSON, {key} is not a string")
        return v

    history = doc.get("history") or []
    if not isinstance(history, list):
        raise ValueError("invalid image JSON, history is not a list")
    size = doc.get("Size") or 0
    if not isinstance(size, int):
        raise ValueError("invalid image JSON, Size is not a number")
    features = doc.get("os.features")
    if features is not None and not (
        isinstance(features, list) and all(isinstance(x, str) for x in features)
    ):
        raise ValueError("invalid image JSON, os.features is not a list of strings")
    img = Image(
        created=text("created") or ZERO_TIME,
        comment=text("comment"),
        container=text("container"),
        container_config=ContainerConfig.from_json(doc.get("container_config")),
        docker_version=text("docker_version"),
        author=text("author"),
        config=ContainerConfig.from_json(doc["config"]) if doc.get("config") is not None else None,
        architecture=text("architecture"),
        variant=text("variant"),
        os=text("os"),
        size=size,
        parent=text("parent"),
        rootfs=RootFS.from_json(doc["rootfs"]),
        history=[History.from_json(h) for h in history],
        os_version=text("os.version"),
        os_features=features,
        v1_id=text("id"),
        raw_json=bytes(src),
    )
    if img.created != ZERO_TIME:
        jsonenc.parse_rfc3339(img.created)  # a malformed time is a malformed config
    img.id = from_bytes(src)
    return img


def new_child_image(
    parent: Image | None,
    *,
    diff_id: str,
    created: str,
    container_config: ContainerConfig,
    config: ContainerConfig,
    container_id: str = "",
    author: str = "",
    comment: str = "",
    os: str = DEFAULT_OS,
    docker_version: str = DOCKER_VERSION,
) -> Image:
    """The config of an image made from `parent` plus one step (what commit makes).

    `parent` is None for `FROM scratch`. `diff_id` is the DiffID of the committed layer;
    the empty-tar DiffID adds no layer and marks the history entry `empty_layer`.
    `created` is an RFC3339Nano time from the daemon's clock (`jsonenc.format_rfc3339_nano`);
    the history entry's `created_by` is `container_config.cmd` joined by spaces.
    Store the result with `ImageStore.create(image.marshal())`, then `set_parent`, as
    moby's commit does (20.10 writes no `builtLocally`).

    moby: image/image.go NewChildImage
    """
    base = parent if parent is not None else Image()
    empty = is_empty(diff_id)
    rootfs = base.rootfs.clone() if base.rootfs is not None else RootFS()
    if not empty:
        rootfs.append(diff_id)
    step = new_history(
        created,
        author=author,
        comment=comment,
        created_by=" ".join(container_config.cmd or []),
        empty=empty,
    )
    return Image(
        docker_version=docker_version,
        config=config,
        architecture=base.base_img_arch(),
        variant=base.variant,
        os=os,
        container=container_id,
        container_config=container_config,
        author=author,
        created=created,
        rootfs=rootfs,
        history=[*copy.deepcopy(base.history), step],
        os_features=base.os_features,
        os_version=base.os_version,
    )
