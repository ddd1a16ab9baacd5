"""Image commands: images, history, rmi, tag, save, load, import, build.

docker/cli 20.10: cli/command/image/{list,history,remove,tag,save,load,import,build}.go
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from dockerlayers.cli.app import CLIError, Command, Env, StatusError
from dockerlayers.cli.commands.common import (
    not_found,
    parse_filters,
    split_repo_tag,
    validate_output_path,
)
from dockerlayers.cli.flags import Flag, Parsed
from dockerlayers.cli.formatter import (
    HISTORY_HEADER,
    IMAGE_HEADER,
    TABLE,
    HistoryContext,
    history_format,
    image_format,
    image_rows,
    render,
)
from dockerlayers.cli.templates import TemplateError
from dockerlayers.errors import BuildError, DockerException


def _write_bytes(env: Env, data: bytes) -> None:
    buf = getattr(env.out, "buffer", None)
    if buf is not None:
        env.out.flush()
        buf.write(data)
        buf.flush()
    else:
        env.out.write(data.decode("latin-1"))


def _read_input(env: Env, path: str) -> bytes:
    if path and path != "-":
        with open(path, "rb") as f:
            return f.read()
    src = env.stdin if env.stdin is not None else sys.stdin
    buf = getattr(src, "buffer", src)
    data = buf.read()
    return data.encode("latin-1") if isinstance(data, str) else data


def summary(s: Any) -> dict[str, Any]:
    """An image service ImageSummary as the API's /images/json entry."""
    if isinstance(s, dict):
        return s
    return {
        "Containers": s.containers,
        "Created": s.created,
        "Id": s.id,
        "Labels": s.labels,
        "ParentId": s.parent_id,
        "RepoDigests": s.repo_digests,
        "RepoTags": s.repo_tags,
        "SharedSize": s.shared_size,
        "Size": s.size,
        "VirtualSize": s.size,
    }


def image_inspect(client: Any, ref: str) -> dict[str, Any]:
    """`docker image inspect` (the daemon's image inspect)."""
    return client.daemon.image_inspect(ref)


def run_images(env: Env, p: Parsed) -> int:
    filters = parse_filters(p.filter)
    if p.args:
        filters.setdefault("reference", []).append(p.args[0])
    with env.client() as client:
        images = [summary(s) for s in client.daemon.images(all=p.all, filters=filters)]
        now = client.daemon.clock.now()
    fmt = image_format(p.format or TABLE, p.quiet, p.digests)
    rows = image_rows(images, not p.no_trunc, now, p.digests or "{{.Digest}}" in fmt)
    try:
        env.out.write(render(fmt, rows, IMAGE_HEADER))
    except TemplateError as e:
        raise CLIError(str(e)) from None
    return 0


def run_history(env: Env, p: Parsed) -> int:
    with env.client() as client:
        try:
            history = [_history_item(h) for h in client.daemon.image_service.history(p.args[0])]
        except DockerException as e:
            raise CLIError(not_found("image", p.args[0], e)) from None
        now = client.daemon.clock.now()
    fmt = history_format(p.format or TABLE, p.quiet, p.human)
    rows = [HistoryContext(h, not p.no_trunc, p.human, now) for h in history]
    try:
        env.out.write(render(fmt, rows, HISTORY_HEADER))
    except TemplateError as e:
        raise CLIError(str(e)) from None
    return 0


def _history_item(h: Any) -> dict[str, Any]:
    if isinstance(h, dict):
        return h
    return {
        "Id": h.id,
        "Created": h.created,
        "CreatedBy": h.created_by,
        "Tags": h.tags,
        "Size": h.size,
        "Comment": h.comment,
    }


def run_rmi(env: Env, p: Parsed) -> int:
    errs = []
    with env.client() as client:
        for ref in p.args:
            try:
                dels = client.daemon.remove_image(ref, force=p.force, prune=not p.no_prune)
            except DockerException as e:
                errs.append(not_found("image", ref, e))
                continue
            for d in dels or []:
                if d.get("Deleted"):
                    env.print(f"Deleted: {d['Deleted']}")
                else:
                    env.print(f"Untagged: {d.get('Untagged', '')}")
    if errs:
        raise CLIError("\n".join(errs))
    return 0


def run_tag(env: Env, p: Parsed) -> int:
    # the client checks both names before it asks the daemon
    # docker/cli: client/image_tag.go ImageTag
    from dockerlayers.gostrings import go_quote
    from dockerlayers.image.errors import InvalidReference
    from dockerlayers.image.refname import (
        familiar_name,
        parse_any_reference,
        parse_normalized_named,
    )

    source, target = p.args
    for name, parse in ((source, parse_any_reference), (target, parse_normalized_named)):
        try:
            ref = parse(name)
        except InvalidReference as e:
            raise CLIError(
                f"Error parsing reference: {go_quote(name)} is not a valid repository/tag: {e}"
            ) from None
    if ref.digest:
        raise CLIError("refusing to create a tag with a digest reference")
    # docker/cli client ImageTag: TagNameOnly, then repo=FamiliarName, tag=Tag
    ref = ref.tag_name_only()
    with env.client() as client:
        client.daemon.image_service.tag(source, familiar_name(ref), ref.tag)
    return 0


#: `save --layout` choices: Docker 20.10's archive (default), Docker 25+'s, plain OCI.
SAVE_LAYOUTS = ("docker", "docker-25", "oci")


def run_save(env: Env, p: Parsed) -> int:
    if not p.output and env.out.isatty():
        raise CLIError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    if p.output:
        why = validate_output_path(p.output)
        if why:
            raise CLIError("failed to save image: " + why)
    layout = p.layout or "docker"
    if layout not in SAVE_LAYOUTS:
        raise CLIError(
            f'invalid argument "{layout}" for "--layout" flag: one of {", ".join(SAVE_LAYOUTS)}'
        )
    with env.client() as client:
        data = client.daemon.save(list(p.args), format=layout)
    if p.output:
        with open(p.output, "wb") as f:
            f.write(data)
    else:
        _write_bytes(env, data)
    return 0


def run_load(env: Env, p: Parsed) -> int:
    if not p.input and (env.stdin is None or (hasattr(env.stdin, "isatty") and env.stdin.isatty())):
        raise CLIError("requested load from stdin, but stdin is empty")
    try:
        data = _read_input(env, p.input)
    except OSError as e:
        raise CLIError(f"open {p.input}: {(e.strerror or str(e)).lower()}") from None
    with env.client() as client:
        loaded = client.daemon.load(data)
        lines = getattr(client.daemon, "last_load_output", None)
        for item in lines if lines is not None else loaded or []:
            _print_loaded(env, client, item)
    return 0


def _print_loaded(env: Env, client: Any, item: Any) -> None:
    """The daemon's load stream: `Loaded image: name:tag` or `Loaded image ID: sha256:…`."""
    if isinstance(item, dict):
        text = item.get("stream") or item.get("status") or ""
        if text:
            env.out.write(text if text.endswith("\n") else text + "\n")
        return
    text = str(item)
    if text.startswith("Loaded image"):
        env.print(text)
        return
    try:
        tags = client.daemon.image_service.repo_tags(text)
    except DockerException:
        tags = []
    if tags:
        for t in tags:
            env.print(f"Loaded image: {t}")
    else:
        env.print(f"Loaded image ID: {text}")


def run_import(env: Env, p: Parsed) -> int:
    source = p.args[0]
    if source != "-" and "://" in source:
        raise CLIError(
            "Error response from daemon: importing from a URL is not supported by this model"
        )
    try:
        data = _read_input(env, source)
    except IsADirectoryError:
        # the docker CLI streams the file to the daemon: reading it fails mid-request
        raise CLIError(f"error during connect: read {source}: is a directory") from None
    except OSError as e:
        # os.Open's *PathError: `open /x: no such file or directory`
        raise CLIError(f"open {source}: {(e.strerror or str(e)).lower()}") from None
    repo, tag = split_repo_tag(p.args[1]) if len(p.args) > 1 else (None, None)
    with env.client() as client:
        image_id = client.daemon.import_image(
            data, repo, tag, changes=list(p.change) or None, message=p.message or None
        )
    env.print(image_id)
    return 0


def run_image_inspect(env: Env, p: Parsed) -> int:
    """`image inspect`: images only (`Error: No such image: x`)."""
    from dockerlayers.cli.commands.system import _inspect_items, _Missing

    with env.client() as client:

        def get(ref: str) -> Any:
            try:
                return image_inspect(client, ref)
            except DockerException as e:
                raise _Missing(not_found("image", ref, e)) from None

        return _inspect_items(env, p.args, get, p.format)


def _build_from_stdin(env: Env, p: Parsed) -> int:
    """`build -`: the Dockerfile comes on stdin and there is no context."""
    import tempfile

    data = _read_input(env, "-")
    with tempfile.TemporaryDirectory(prefix="dockerlayers-build-") as ctx:
        with open(os.path.join(ctx, "Dockerfile"), "wb") as f:
            f.write(data)
        return run_build(env, p, context=ctx)


def _build_with_added_dockerfile(env: Env, p: Parsed, path: str, data: bytes) -> int:
    """A Dockerfile from stdin or from outside the context: the context is sent with it
    added as `.dockerfile.<random>` (0600), whose name is appended to `.dockerignore`, so
    the daemon takes it out of the context again (remotecontext removeDockerfile).

    docker/cli: cli/command/image/build/context.go AddDockerfileToBuildContext
    """
    import secrets
    import shutil
    import tempfile

    name = ".dockerfile." + secrets.token_hex(10)
    with tempfile.TemporaryDirectory(prefix="dockerlayers-build-") as tmp:
        ctx = os.path.join(tmp, "context")
        shutil.copytree(path, ctx, symlinks=True)
        target = os.path.join(ctx, name)
        with open(target, "wb") as f:
            f.write(data)
        os.chmod(target, 0o600)
        ignore = os.path.join(ctx, ".dockerignore")
        existed = os.path.lexists(ignore)
        with open(ignore, "ab") as f:
            # a .dockerignore the CLI makes names itself too, so the daemon drops both
            f.write((b"" if existed else b".dockerignore") + f"\n{name}\n".encode())
        if not existed:
            os.chmod(ignore, 0o600)
        p.file = name
        return run_build(env, p, context=None, _resolved=(ctx, name))


def run_build(
    env: Env, p: Parsed, context: str | None = None, _resolved: tuple[str, str] | None = None
) -> int:
    if _resolved is not None:
        return _run_build(env, p, *_resolved)
    path = context or p.args[0]
    if path == "-":
        return _build_from_stdin(env, p)
    if not os.path.isdir(path):
        raise CLIError(f'unable to prepare context: path "{path}" not found')
    dockerfile = (p.file if context is None else None) or "Dockerfile"
    if context is None and p.file:
        # docker/cli build/context.go GetContextFromLocalDir: `-f` is relative to the
        # current directory, not the context; one outside the context (or `-f -`, read
        # from stdin) goes in with a random name (AddDockerfileToBuildContext)
        if p.file == "-":
            return _build_with_added_dockerfile(env, p, path, _read_input(env, "-"))
        full = os.path.abspath(p.file)
        rel = os.path.relpath(full, os.path.abspath(path))
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            try:
                with open(full, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise CLIError(
                    f"unable to prepare context: unable to evaluate symlinks in Dockerfile "
                    f"path: lstat {full}: {e.strerror.lower() if e.strerror else e}"
                ) from None
            return _build_with_added_dockerfile(env, p, path, data)
        dockerfile = rel
    return _run_build(env, p, path, dockerfile)


def _run_build(env: Env, p: Parsed, path: str, dockerfile: str) -> int:
    with env.client() as client:
        try:
            buildargs = {}
            for item in p.build_arg:
                key, eq, value = item.partition("=")
                buildargs[key] = value if eq else os.environ.get(key, "")
            image_id, log = client.daemon.build(
                path,
                tag=list(p.tag) or None,
                dockerfile=dockerfile,
                nocache=p.no_cache,
                buildargs=buildargs,
                target=p.target or None,
                rm=p.rm,
                forcerm=p.force_rm,
            )
        except BuildError as e:
            lines = list(e.build_log or [])
            if lines and lines[-1] == e.msg:
                lines.pop()  # the error itself goes to stderr
            if not p.quiet:
                _print_build_log(env, lines)
            msg = e.msg
            if not any(str(line).startswith("Step ") for line in lines) and not msg.startswith(
                "error checking context"
            ):
                # failed before the build started: the daemon answered the request itself
                msg = f"Error response from daemon: {msg}"
            m = re.search(r"returned a non-zero code: (\d+)$", e.msg)
            raise StatusError(int(m.group(1)) if m and int(m.group(1)) else 1, msg) from None
    if p.quiet:
        env.print(image_id)
    else:
        _print_build_log(env, log)
    return 0


def _print_build_log(env: Env, log: Any) -> None:
    """The legacy builder's stream: one line per entry."""
    for entry in log or []:
        text = (entry.get("stream") or "") if isinstance(entry, dict) else str(entry)
        if text.startswith("Sending build context to Docker daemon"):
            # the CLI's progress line: redrawn with "\r", closed with "\r\r\n"
            env.out.write(text + "\r\r\n")
            continue
        env.out.write(text if text.endswith("\n") else text + "\n")
    env.out.flush()


def _images_flags() -> list[Flag]:
    return [
        Flag("all", "a", help="Show all images (default hides intermediate images)"),
        Flag("digests", help="Show digests"),
        Flag(
            "filter",
            "f",
            "list",
            type_name="filter",
            help="Filter output based on conditions provided",
        ),
        Flag("format", kind="string", help="Pretty-print images using a Go template"),
        Flag("no-trunc", help="Don't truncate output"),
        Flag("quiet", "q", help="Only show image IDs"),
    ]


def image_commands() -> list[Command]:
    return [
        Command(
            "images [OPTIONS] [REPOSITORY[:TAG]]",
            "List images",
            run_images,
            _images_flags(),
            (0, 1),
        ),
        Command(
            "history [OPTIONS] IMAGE",
            "Show the history of an image",
            run_history,
            [
                Flag("format", kind="string", help="Pretty-print images using a Go template"),
                Flag(
                    "human",
                    "H",
                    default=True,
                    help="Print sizes and dates in human readable format",
                ),
                Flag("no-trunc", help="Don't truncate output"),
                Flag("quiet", "q", help="Only show image IDs"),
            ],
            (1, 1),
        ),
        Command(
            "rmi [OPTIONS] IMAGE [IMAGE...]",
            "Remove one or more images",
            run_rmi,
            [
                Flag("force", "f", help="Force removal of the image"),
                Flag("no-prune", help="Do not delete untagged parents"),
            ],
            (1, None),
        ),
        Command(
            "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
            "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
            run_tag,
            [],
            (2, 2),
        ),
        Command(
            "save [OPTIONS] IMAGE [IMAGE...]",
            "Save one or more images to a tar archive (streamed to STDOUT by default)",
            run_save,
            [
                Flag("output", "o", "string", help="Write to a file, instead of STDOUT"),
                Flag(
                    "layout",
                    kind="string",
                    help="Archive layout (dockerlayers only): docker (the default: 20.10's,"
                    " or Docker 29's on the containerd store), docker-25 (Docker 25+'s OCI"
                    " layout), oci",
                ),
            ],
            (1, None),
        ),
        Command(
            "load [OPTIONS]",
            "Load an image from a tar archive or STDIN",
            run_load,
            [
                Flag("input", "i", "string", help="Read from tar archive file, instead of STDIN"),
                Flag("quiet", "q", help="Suppress the load output"),
            ],
            (0, 0),
        ),
        Command(
            "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
            "Import the contents from a tarball to create a filesystem image",
            run_import,
            [
                Flag(
                    "change", "c", "list", help="Apply Dockerfile instruction to the created image"
                ),
                Flag("message", "m", "string", help="Set commit message for imported image"),
            ],
            (1, 2),
        ),
        Command(
            "build [OPTIONS] PATH | URL | -",
            "Build an image from a Dockerfile",
            run_build,
            [
                Flag(
                    "file",
                    "f",
                    "string",
                    help="Name of the Dockerfile (Default is 'PATH/Dockerfile')",
                ),
                Flag("tag", "t", "list", help="Name and optionally a tag in the 'name:tag' format"),
                Flag("quiet", "q", help="Suppress the build output and print image ID on success"),
                Flag("no-cache", help="Do not use cache when building the image"),
                Flag("build-arg", "", "list", help="Set build-time variables"),
                Flag("target", "", "string", help="Set the target build stage to build."),
                Flag(
                    "rm",
                    "",
                    "bool",
                    default=True,
                    help="Remove intermediate containers after a successful build",
                ),
                Flag("force-rm", help="Always remove intermediate containers"),
            ],
            (1, 1),
        ),
    ]


def image_management() -> Command:
    group = Command("image", "Manage images")
    names = {
        "images": ("ls [OPTIONS] [REPOSITORY[:TAG]]", ("images", "list")),
        "rmi": ("rm [OPTIONS] IMAGE [IMAGE...]", ("rmi", "remove")),
    }
    from dockerlayers.cli.commands.prune import image_prune_command

    for cmd in image_commands():
        if cmd.name in names:
            use, aliases = names[cmd.name]
            cmd = Command(use, cmd.short, cmd.run, cmd.flags, cmd.args, aliases=aliases)
        group.add(cmd)
    group.add(image_prune_command())
    from dockerlayers.cli.commands.registry import registry_commands

    for cmd in registry_commands():
        if cmd.name in ("pull", "push"):
            group.add(cmd)
    group.add(
        Command(
            "inspect [OPTIONS] IMAGE [IMAGE...]",
            "Display detailed information on one or more images",
            run_image_inspect,
            [Flag("format", "f", "string", help="Format the output using the given Go template")],
            (1, None),
        )
    )
    return group


__all__ = ["image_commands", "image_inspect", "image_management", "summary"]
