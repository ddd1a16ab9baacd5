"""`pull`, `push`, `login`, `logout` against a registry, printing the daemon's progress
as the docker CLI's jsonmessage does: lines redrawn in place on a terminal, one line per
event otherwise (progress bars only on a terminal).

moby (cli): cli/command/image/pull.go, push.go, cli/command/registry/login.go, logout.go;
moby: pkg/jsonmessage/jsonmessage.go DisplayJSONMessagesStream
"""

from __future__ import annotations

from typing import IO, Any

from dockerlayers.cli.app import CLIError, Command, Env
from dockerlayers.cli.flags import Flag, Parsed
from dockerlayers.errors import DockerException


class JSONMessageDisplay:
    """moby: pkg/jsonmessage/jsonmessage.go DisplayJSONMessagesStream + Display"""

    def __init__(self, out: IO[str], tty: bool) -> None:
        self.out, self.tty = out, tty
        self.ids: dict[str, int] = {}
        self.wrote = False

    def __call__(self, jm: dict[str, Any]) -> None:
        if "aux" in jm:
            return
        self.wrote = True
        w = self.out.write
        detail = jm.get("progressDetail")
        has_progress = detail is not None
        bar = ""
        if has_progress and (detail.get("current", 0) > 0 or detail.get("total", 0) > 0):
            bar = jm.get("progress", "")
        id = jm.get("id", "")
        diff = 0
        if id and has_progress:
            if id not in self.ids:
                self.ids[id] = len(self.ids)
                if self.tty:
                    w("\n")
            diff = len(self.ids) - self.ids[id]
            if self.tty and diff:
                w(f"\x1b[{diff}A")
        else:
            self.ids = {}
        endl = ""
        if self.tty and has_progress:
            w("\x1b[2K\r")
            endl = "\r"
        elif has_progress and bar:
            return  # progress bars only on a terminal
        if id:
            w(f"{id}: ")
        status = jm.get("status", "")
        if has_progress and self.tty:
            w(f"{status} {bar}{endl}")
        else:
            w(f"{status}{endl}\n")
        if id and self.tty and diff:
            w(f"\x1b[{diff}B")
        self.out.flush()


def _isatty(f: Any) -> bool:
    return bool(getattr(f, "isatty", None) and f.isatty())


def _run_stream(env: Env, quiet: bool, func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a daemon pull/push with progress on stdout; an error before any output is a
    daemon error (`Error response from daemon: ...`), after it just its message."""
    display = JSONMessageDisplay(env.out, _isatty(env.out))
    progress = (lambda m: None) if quiet else display
    try:
        return func(*args, progress=progress, **kwargs)
    except DockerException as e:
        if display.wrote:
            raise CLIError(str(e)) from None
        raise


def _is_base(name: str, tag: str) -> bool:
    from dockerlayers.baseimage import BASE_REPOSITORY, BASE_TAG

    return name.removeprefix("docker.io/").removeprefix("library/") == BASE_REPOSITORY and (
        tag == BASE_TAG
    )


def run_pull(env: Env, p: Parsed) -> int:
    """moby (cli): cli/command/image/pull.go runPull"""
    from dockerlayers.distribution import service
    from dockerlayers.image.refname import parse_normalized_named

    ref = p.args[0]
    try:
        named = parse_normalized_named(ref)
    except DockerException as e:
        raise CLIError(str(e)) from None
    if p.all_tags and (named.tag or named.digest):
        raise CLIError("tag can't be used with --all-tags/-a")
    if not p.all_tags and named.is_name_only():
        if not p.quiet:
            env.out.write("Using default tag: latest\n")
        named = named.tag_name_only()
    if not p.all_tags and _is_base(named.name, named.tag):
        return _pull_base(env, p)
    with env.client() as client:
        svc = client.daemon.image_service
        _run_stream(env, p.quiet, service.pull, svc, str(named), p.platform or None, p.all_tags)
    env.out.write((named.name if p.all_tags else str(named)) + "\n")
    return 0


def _pull_base(env: Env, p: Parsed) -> int:
    """The built-in `base` image: made locally, no network (as the `pull` before it)."""
    from dockerlayers.baseimage import BASE_REFERENCE, BASE_REPOSITORY, BASE_TAG

    with env.client() as client:
        try:
            client.daemon.image_inspect(BASE_REFERENCE)
            fresh = False
        except DockerException:
            fresh = True
        # the digest Docker prints (Docker 29's containerd store: the manifest's)
        image_id = client.daemon.image_service.image_id(client.daemon.base_image())
    if not p.quiet:
        env.out.write(f"{BASE_TAG}: Pulling from library/{BASE_REPOSITORY}\n")
        env.out.write(f"Digest: {image_id}\n")
        word = "Downloaded newer image" if fresh else "Image is up to date"
        env.out.write(f"Status: {word} for {BASE_REFERENCE}\n")
    env.out.write(f"docker.io/library/{BASE_REFERENCE}\n")
    return 0


def run_push(env: Env, p: Parsed) -> int:
    """moby (cli): cli/command/image/push.go RunPush"""
    from dockerlayers.distribution import service
    from dockerlayers.image.refname import parse_normalized_named

    named = parse_normalized_named(p.args[0])
    with env.client() as client:
        svc = client.daemon.image_service
        if p.all_tags:
            refs = [r for r in svc.reference_store.references_by_name(named) if r.ref.tag]
            tags = [str(r.ref) for r in refs]
        else:
            if named.is_name_only():
                env.out.write("Using default tag: latest\n")
            tags = [str(named.tag_name_only())]
        for t in tags:
            _run_stream(env, p.quiet, service.push, svc, t)
    return 0


def run_login(env: Env, p: Parsed) -> int:
    """moby (cli): cli/command/registry/login.go runLogin"""
    from dockerlayers.distribution import service

    server = p.args[0] if p.args else None
    user = p.username
    password = p.password
    if p.password_stdin:
        if password:
            raise CLIError("--password and --password-stdin are mutually exclusive")
        if not user:
            raise CLIError("Must provide --username with --password-stdin")
        password = (env.stdin.read() if env.stdin is not None else "").rstrip("\r\n")
    if password and not p.password_stdin:
        env.err.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
    if not user:
        env.out.write("Username: ")
        env.out.flush()
        user = (env.stdin.readline() if env.stdin is not None else "").strip()
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    if not user:
        raise CLIError("Error: Non-null Username Required")
    if not password:
        raise CLIError("Error: Non-null Password Required")
    try:
        done = service.login(server, user, password)
        from dockerlayers.distribution.registry import config_dir

        path = config_dir() + "/config.json"
        env.err.write(
            f"WARNING! Your password will be stored unencrypted in {path}.\n"
            "Configure a credential helper to remove this warning. See\n"
            "https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n\n"
        )
        env.out.write(done + "\n")
    except DockerException as e:
        raise CLIError(f"Error response from daemon: {e}") from None
    return 0


def run_logout(env: Env, p: Parsed) -> int:
    """moby (cli): cli/command/registry/logout.go runLogout"""
    from dockerlayers.distribution import service

    env.out.write(service.logout(p.args[0] if p.args else None) + "\n")
    return 0


def registry_commands() -> list[Command]:
    """The top-level `pull`, `push`, `login`, `logout`."""
    return [
        Command(
            "pull [OPTIONS] NAME[:TAG|@DIGEST]",
            "Pull an image or a repository from a registry",
            run_pull,
            [
                Flag("all-tags", "a", help="Download all tagged images in the repository"),
                Flag("disable-content-trust", default=True, help="Skip image verification"),
                Flag(
                    "platform",
                    kind="string",
                    help="Set platform if server is multi-platform capable",
                ),
                Flag("quiet", "q", help="Suppress verbose output"),
            ],
            (1, 1),
        ),
        Command(
            "push [OPTIONS] NAME[:TAG]",
            "Push an image or a repository to a registry",
            run_push,
            [
                Flag("all-tags", "a", help="Push all tagged images in the repository"),
                Flag("disable-content-trust", default=True, help="Skip image signing"),
                Flag("quiet", "q", help="Suppress verbose output"),
            ],
            (1, 1),
        ),
        Command(
            "login [OPTIONS] [SERVER]",
            "Log in to a Docker registry",
            run_login,
            [
                Flag("password", "p", kind="string", help="Password"),
                Flag("password-stdin", help="Take the password from stdin"),
                Flag("username", "u", kind="string", help="Username"),
            ],
            (0, 1),
        ),
        Command(
            "logout [SERVER]",
            "Log out from a Docker registry",
            run_logout,
            [],
            (0, 1),
        ),
    ]
