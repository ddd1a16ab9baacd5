"""Image references: `busybox`, `busybox:1.36`, `localhost:5000/a/b@sha256:...`.

Parsing, normalising (`busybox` -> `docker.io/library/busybox`) and the familiar form the
CLI prints, with the reference library's grammar and error texts.

moby: vendor github.com/distribution/reference (reference.go, normalize.go, regexp.go)
"""

from __future__ import annotations

import re

from dockerlayers._record import FrozenRecord
from dockerlayers.image.errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?\Z")
_TAG_RE = re.compile(rf"^{_TAG}\Z")
_IDENTIFIER_RE = re.compile(r"^[a-f0-9]{64}\Z")
_SHA256_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}\Z")


class Reference(FrozenRecord):
    """A parsed reference. `name` is the full name (`docker.io/library/busybox`); `tag`
    and `digest` may be empty. A reference with only a digest (an image ID) has no name.

    moby: distribution/reference reference.go (reference, taggedReference, ...)
    """

    _fields = ("name", "tag", "digest")
    name: str
    tag: str
    digest: str

    def __init__(self, name: str = "", tag: str = "", digest: str = "") -> None:
        self._set(name=name, tag=tag, digest=digest)

    @property
    def domain(self) -> str:
        return self.name.split("/", 1)[0] if self.name else ""

    @property
    def path(self) -> str:
        return self.name.split("/", 1)[1] if "/" in self.name else self.name

    def is_name_only(self) -> bool:
        return bool(self.name) and not self.tag and not self.digest

    def with_tag(self, tag: str) -> Reference:
        """moby: reference.WithTag"""
        if not _TAG_RE.match(tag):
            raise InvalidReference("invalid tag format")
        return Reference(self.name, tag, self.digest)

    def tag_name_only(self) -> Reference:
        """Add `latest` to a bare name. moby: reference.TagNameOnly"""
        return Reference(self.name, DEFAULT_TAG) if self.is_name_only() else self

    def trim(self) -> Reference:
        """moby: reference.TrimNamed"""
        return Reference(self.name)

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out += ("@" if out else "") + self.digest
        return out


def parse(s: str) -> Reference:
    """Parse a full reference (no normalising).

    moby: distribution/reference reference.go Parse
    """
    m = _REFERENCE_RE.match(s)
    if m is None:
        if s == "":
            raise InvalidReference("repository name must have at least one component")
        if _REFERENCE_RE.match(s.lower()):
            raise InvalidReference("invalid reference format: repository name must be lowercase")
        raise InvalidReference("invalid reference format")
    name, tag, digest = m.group(1), m.group(2) or "", m.group(3) or ""
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(
            f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest and not _SHA256_DIGEST_RE.match(digest):
        raise InvalidReference(
            "unsupported digest algorithm" if ":" in digest else "invalid digest"
        )
    return Reference(name, tag, digest)


def _split_docker_domain(name: str) -> tuple[str, str]:
    """moby: distribution/reference normalize.go splitDockerDomain"""
    i = name.find("/")
    first = name[:i] if i >= 0 else ""
    if i == -1 or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, name[i + 1 :]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def parse_normalized_named(s: str) -> Reference:
    """Parse what a user types (`busybox`, `me/app:1`) into a full named reference.

    moby: distribution/reference normalize.go ParseNormalizedNamed
    """
    if _IDENTIFIER_RE.match(s):
        raise InvalidReference(
            f"invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = _split_docker_domain(s)
    remote = remainder.split(":", 1)[0] if ":" in remainder else remainder
    if "@" in remote:
        remote = remote.split("@", 1)[0]
    if remote.lower() != remote:
        raise InvalidReference("invalid reference format: repository name must be lowercase")
    ref = parse(f"{domain}/{remainder}")
    if not ref.name:
        raise InvalidReference(f"reference {ref} has no name")
    return ref


def parse_any_reference(s: str) -> Reference:
    """A 64-hex ID or `sha256:` digest becomes a digest-only reference; anything else is
    parsed as a normalized name.

    moby: distribution/reference normalize.go ParseAnyReference
    """
    if _IDENTIFIER_RE.match(s):
        return Reference(digest="sha256:" + s)
    if _SHA256_DIGEST_RE.match(s):
        return Reference(digest=s)
    return parse_normalized_named(s)


def familiar_name(ref: Reference) -> str:
    """`docker.io/library/busybox` -> `busybox`; `docker.io/me/app` -> `me/app`.

    moby: distribution/reference normalize.go FamiliarName
    """
    domain, path = ref.domain, ref.path
    if domain != DEFAULT_DOMAIN:
        return ref.name
    if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in path[len(OFFICIAL_REPO_PREFIX) :]:
        return path[len(OFFICIAL_REPO_PREFIX) :]
    return path


def familiar_string(ref: Reference) -> str:
    """The form the CLI prints: `busybox:latest`, `busybox@sha256:...`.

    moby: distribution/reference normalize.go FamiliarString
    """
    out = familiar_name(ref) if ref.name else ""
    if ref.tag:
        out += ":" + ref.tag
    if ref.digest:
        out += ("@" if out else "") + ref.digest
    return out


def is_image_id_prefix(image_id: str, possible_prefix: str) -> bool:
    """moby: daemon/images/image_delete.go isImageIDPrefix"""
    if image_id.startswith(possible_prefix):
        return True
    i = image_id.find(":")
    return i >= 0 and image_id[i + 1 :].startswith(possible_prefix)
