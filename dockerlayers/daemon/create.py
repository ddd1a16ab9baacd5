"""`docker create`: a container with its RW layer on the image, not yet started.

The user's options come in a `CreateConfig` (docker-py's names); `create` merges them over
the image's config, `new_container` makes the Container, `set_rw_layer` asks the layer store
for its read-write layer (with the init layer below it), and the container's folder, its
volumes, hostconfig.json and config.v2.json follow. A failure on the way removes what was
made. `setup_container_dirs` writes the files a container gets at its first start.

moby: daemon/create.go (containerCreate, create, newContainer, setRWLayer,
mergeAndVerifyConfig), daemon/container_operations_unix.go
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shlex
import shutil
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockerlayers.container.container import Container, default_host_config
from dockerlayers.containerd.ids import shown_image_id
from dockerlayers.daemon.errors import (
    auto_remove_with_restart,
    invalid_working_dir,
    no_command,
)
from dockerlayers.daemon.initlayer import setup_init_layer
from dockerlayers.daemon.names import conflict, get_random_name, validate_name
from dockerlayers.daemon.restartmanager import (
    RestartManager,
    parse_restart_policy,
    validate_restart_policy,
)
from dockerlayers.daemon.runtime import ContainerRuntime
from dockerlayers.daemon.volumes import create_volumes, register_mount_points
from dockerlayers.errors import InvalidParameter
from dockerlayers.process.signals import parse_signal

if TYPE_CHECKING:
    from dockerlayers.daemon.daemon import Daemon

#: /etc/hosts of a container with no network (libnetwork's default lines).
HOSTS = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
)
#: What dockerd writes when the host's resolv.conf has no usable nameserver.
RESOLV_CONF = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"


@dataclass
class CreateConfig:
    """What `docker create` / docker-py's `containers.create` is asked for.

    Field names are docker-py's keyword arguments; the home of every run/create option.
    moby: api/types/container Config + HostConfig (the parts this model has)
    """

    image: str
    command: list[str] | str | None = None
    name: str | None = None
    entrypoint: list[str] | str | None = None
    environment: list[str] | dict[str, str] | None = None
    working_dir: str | None = None
    hostname: str | None = None
    user: str | None = None
    labels: dict[str, str] | None = None
    restart_policy: str | dict[str, Any] | None = None
    auto_remove: bool = False
    volumes: dict[str, dict[str, str]] | list[str] | None = None
    stop_signal: str | None = None
    stop_timeout: int | None = None
    tty: bool = False
    #: docker-py Mount dicts (`--mount`): Type volume|bind|tmpfs, Source, Target, ReadOnly
    mounts: list[dict[str, Any]] | None = None
    #: `--read-only`: the root filesystem refuses writes (EROFS); mounts stay writable
    read_only: bool = False
    #: `--tmpfs`: {path: options} or ["path[:options]"]
    tmpfs: dict[str, str] | list[str] | None = None
    #: the settings below are recorded in HostConfig as Docker records them; the model
    #: has no init process, network, cgroups or capabilities (docs/differences.md)
    init: bool | None = None
    #: {"80/tcp": 8080 | "8080" | ("127.0.0.1", 8080) | [..] | None}
    ports: dict[str, Any] | None = None
    mem_limit: int | str | None = None
    nano_cpus: int | None = None
    privileged: bool = False
    #: the rest of the API's HostConfig (docker-py's other options, Engine API names),
    #: recorded as given; the model does not act on them
    host_config: dict[str, Any] | None = None
    #: Config fields beyond the ones above (Domainname, MacAddress, Healthcheck,
    #: OpenStdin, StdinOnce, ExposedPorts, NetworkDisabled, ...), recorded as given
    config: dict[str, Any] | None = None
    #: `--platform` (os[/arch[/variant]]): the image must match it (moby 20.10 GetImage)
    platform: str | None = None


def create(daemon: Daemon, opts: CreateConfig) -> Container:
    """`docker create`.

    moby: daemon/create.go containerCreate / create
    """
    with daemon.locked():
        policy = parse_restart_policy(opts.restart_policy)
        validate_restart_policy(policy)
        if opts.auto_remove and policy["Name"] != "no":
            raise auto_remove_with_restart()
        from dockerlayers.daemon import hostconfig

        sent = {**(opts.host_config or {})}
        if opts.mem_limit:
            sent["Memory"] = _memory(opts.mem_limit)
        if opts.nano_cpus:
            sent["NanoCpus"] = int(opts.nano_cpus)
        hostconfig.verify(daemon, sent)
        img = daemon.image_service.get_image(opts.image)
        if opts.platform:
            check_platform(img, opts.image, opts.platform)
        config = merge_and_verify_config(img, opts)
        c = new_container(daemon, opts, config, img.id)
        c.host_config["RestartPolicy"] = policy
        c.host_config["AutoRemove"] = opts.auto_remove
        record_host_config(c.host_config, opts)
        hostconfig.adapt(daemon, c.host_config)
        inherited = hostconfig.volumes_from(daemon, c.host_config.get("VolumesFrom"))
        mount_points, binds = register_mount_points(opts.volumes, config, inherited)
        apply_host_options(c, opts, mount_points)
        c.mount_points = mount_points
        c.host_config["Binds"] = binds or None
        try:
            set_rw_layer(daemon, c, img)
            setup_working_directory(daemon, c)
            os.mkdir(c.root, 0o710)
            os.chmod(c.root, 0o710)
            os.mkdir(c.path_in_root("checkpoints"), 0o700)
            create_volumes(daemon.volumes, c)
            populate_volumes(daemon, c)
            c.write_host_config()
            c.to_disk()
        except BaseException:
            _cleanup_failed_create(daemon, c)
            raise
        daemon.containers[c.id] = c
        daemon.runtime[c.id] = ContainerRuntime(restart=RestartManager(policy))
        daemon.save_runtime(c.id)
        daemon.events.log("container", "create", c.id, daemon.attrs(c))
        daemon.write_state()
        return c


def _port_bindings(ports: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """docker-py's `ports` as HostConfig.PortBindings (nat.PortMap)."""
    out: dict[str, list[dict[str, str]]] = {}
    for port, binding in ports.items():
        key = str(port) if "/" in str(port) else f"{port}/tcp"
        items = binding if isinstance(binding, list) else [binding]
        for b in items:
            if b is None:
                host_ip, host_port = "", ""
            elif isinstance(b, tuple):
                host_ip, host_port = str(b[0]), str(b[1]) if len(b) > 1 and b[1] is not None else ""
            elif isinstance(b, dict):
                host_ip, host_port = b.get("HostIp", ""), str(b.get("HostPort", ""))
            else:
                host_ip, host_port = "", str(b)
            out.setdefault(key, []).append({"HostIp": host_ip, "HostPort": host_port})
    return dict(sorted(out.items()))


def apply_host_options(c: Container, opts: CreateConfig, points: dict[str, Any]) -> None:
    """Mounts, tmpfs, read-only rootfs, and the settings the model records without acting
    on (init, ports, memory, CPUs, privileged), as Docker writes them in HostConfig.

    moby: daemon/create.go / daemon_unix.go adaptContainerSettings (MemorySwap = 2 x
    Memory), daemon/volumes.go registerMountPoints (the mounts), oci_linux.go (privileged)
    """
    from dockerlayers.daemon.mountspec import (
        normalize_mount,
        parse_tmpfs,
        tmpfs_mount_point,
        validate_mount,
    )
    from dockerlayers.daemon.volumes import mount_point, normpath

    hc = c.host_config
    mounts = [normalize_mount(m) for m in opts.mounts or []]
    for m in mounts:
        validate_mount(m)
        dst = normpath(m["Target"])
        if dst in points:
            raise InvalidParameter(f"Duplicate mount point: {dst}")
        rw = not m.get("ReadOnly")
        if m["Type"] == "bind":
            points[dst] = mount_point("bind", m["Source"], "", dst, rw)
        elif m["Type"] == "volume":
            points[dst] = mount_point("volume", "", m.get("Source", ""), dst, rw)
        else:
            points[dst] = tmpfs_mount_point(c.root, dst)
    tmpfs = parse_tmpfs(opts.tmpfs)
    for dst in tmpfs:
        if not dst.startswith("/"):
            raise InvalidParameter(f"invalid mount path: '{dst}' mount path must be absolute")
        if normpath(dst) in points:
            raise InvalidParameter(f"Duplicate mount point: {normpath(dst)}")
    if tmpfs:
        hc["Tmpfs"] = tmpfs
    if opts.read_only:
        hc["ReadonlyRootfs"] = True
    if opts.ports:
        hc["PortBindings"] = _port_bindings(opts.ports)
        exposed = {**(c.config.get("ExposedPorts") or {}), **{k: {} for k in hc["PortBindings"]}}
        c.config["ExposedPorts"] = dict(sorted(exposed.items()))
    if opts.mem_limit:
        memory = _memory(opts.mem_limit)
        hc["Memory"] = memory
        if not hc.get("MemorySwap"):
            hc["MemorySwap"] = memory * 2
    if opts.nano_cpus:
        hc["NanoCpus"] = int(opts.nano_cpus)
    if opts.privileged:
        hc["Privileged"] = True
        opts_ = [o for o in hc.get("SecurityOpt") or [] if o != "label=disable"]
        hc["SecurityOpt"] = [*opts_, "label=disable"]
        hc["MaskedPaths"] = None
        hc["ReadonlyPaths"] = None
    if mounts:
        hc["Mounts"] = mounts
    if opts.init is not None:
        hc["Init"] = bool(opts.init)


def _memory(value: int | str) -> int:
    from dockerlayers.image.units import parse_ram_bytes

    return parse_ram_bytes(value) if isinstance(value, str) else int(value)


def check_platform(img: Any, ref: str, wanted: str) -> None:
    """An image of another platform is not found (the CLI then pulls).

    moby 20.10: daemon/images/image.go GetImage (platforms.Only(p).Match)
    """
    from dockerlayers.errors import ImageNotFound

    parts = wanted.split("/")
    arch = img.base_img_arch()
    actual = f"{img.operating_system()}/{arch}" + (f"/{img.variant}" if img.variant else "")
    want_os = parts[0]
    want_arch = parts[1] if len(parts) > 1 else arch
    if want_arch in ("x86_64", "x86-64"):
        want_arch = "amd64"
    elif want_arch == "aarch64":
        want_arch = "arm64"
    if (
        want_os == img.operating_system()
        and want_arch == arch
        and (len(parts) < 3 or parts[2] == (img.variant or parts[2]))
    ):
        return
    raise ImageNotFound(
        f"image with reference {ref} was found but does not match the specified platform: "
        f"wanted {'/'.join(parts[:2]) if len(parts) > 1 else want_os + '/' + want_arch}, "
        f"actual: {actual}"
    )


def new_container(
    daemon: Daemon, opts: CreateConfig, config: dict[str, Any], image_id: str
) -> Container:
    """A new Container: its ID and name, the default hostname, path and args split from
    entrypoint + cmd, its folder under `<root>/containers`.

    moby: daemon/create.go newContainer (daemon/container.go)
    """
    stored_name = validate_name(opts.name) if opts.name else generate_name(daemon)
    holder = daemon.name_holder(stored_name)
    if holder is not None:
        raise conflict(stored_name, holder.id)
    cid = new_id(daemon)
    if not config.get("Hostname"):
        config["Hostname"] = cid[:12]
    argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    c = Container(
        id=cid,
        name=stored_name,
        created=daemon.clock.now(),
        path=argv[0],
        args=argv[1:],
        config=config,
        image=image_id,
        driver=daemon.driver.name,
        root=os.path.join(daemon.repository, cid),
        host_config=default_host_config(),
        mount_points={},
    )
    shown = shown_image_id(daemon, image_id)
    if shown != image_id:  # moby 29: daemon/create.go (ctr.ImageID = img.ID())
        c.image_on_disk = shown
    return c


def setup_working_directory(daemon: Daemon, c: Container) -> None:
    """The working dir exists from create on (it shows in `docker diff` of a container
    never started).

    moby: daemon/create_unix.go createContainerOSSpecificSettings (Mount,
    container.SetupWorkingDirectory, Unmount)
    """
    wd = c.config.get("WorkingDir")
    if not wd:
        return
    rw = daemon.rw_layers[c.id]
    fs = rw.mount()
    try:
        if not fs.exists(wd):
            fs.mkdir(wd, 0o755, parents=True, exist_ok=True)
    finally:
        rw.unmount()


def set_rw_layer(daemon: Daemon, c: Container, img: Any = None) -> None:
    """The container's RW layer (and init layer) on the image's top layer.

    moby 17.x: daemon/create.go setRWLayer -> layerStore.CreateRWLayer
    """
    if img is None:
        img = daemon.image_service.get_image(c.image)
    chain = img.rootfs.chain_id() if img.rootfs is not None else None
    daemon.rw_layers[c.id] = daemon.layer_store.create_rw_layer(c.id, chain, setup_init_layer)


def _cleanup_failed_create(daemon: Daemon, c: Container) -> None:
    rw = daemon.rw_layers.pop(c.id, None)
    if rw is not None:
        daemon.layer_store.release_rw_layer(rw)
    shutil.rmtree(c.root, ignore_errors=True)


def merge_and_verify_config(img: Any, opts: CreateConfig) -> dict[str, Any]:
    """The user's config merged over the image's.

    moby: daemon/create.go mergeAndVerifyConfig, daemon/commit.go merge
    """
    icfg = img.config.to_json() if img.config is not None else {}
    cmd = as_list(opts.command)
    ep = as_list(opts.entrypoint)
    env = env_list(opts.environment)
    if ep is not None and ep == [""]:
        ep = []
    working_dir = opts.working_dir
    config: dict[str, Any] = {
        "Hostname": opts.hostname or "",
        "Domainname": "",
        "User": opts.user if opts.user is not None else (icfg.get("User") or ""),
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
        "Tty": opts.tty,
        "OpenStdin": False,
        "StdinOnce": False,
        "Env": merge_env(icfg.get("Env") or [], env),
        "Cmd": cmd if cmd is not None else (None if ep is not None else icfg.get("Cmd")),
        "Image": opts.image,
        "Volumes": icfg.get("Volumes"),
        "WorkingDir": working_dir if working_dir is not None else (icfg.get("WorkingDir") or ""),
        "Entrypoint": ep if ep is not None else icfg.get("Entrypoint"),
        "OnBuild": icfg.get("OnBuild"),
        "Labels": {**(icfg.get("Labels") or {}), **(opts.labels or {})},
    }
    config.update({k: v for k, v in (opts.config or {}).items() if v is not None})
    if opts.stop_signal:
        try:  # moby: daemon/container.go verifyContainerSettings (signal.ParseSignal)
            parse_signal(opts.stop_signal)
        except ValueError as e:
            raise InvalidParameter(str(e)) from None
    if opts.stop_signal or icfg.get("StopSignal"):
        config["StopSignal"] = opts.stop_signal or icfg.get("StopSignal")
    if opts.stop_timeout is not None:
        config["StopTimeout"] = opts.stop_timeout
    if not config["Cmd"] and not config["Entrypoint"]:
        raise no_command()
    if config["WorkingDir"] and not config["WorkingDir"].startswith("/"):
        raise invalid_working_dir(config["WorkingDir"])
    return config


def record_host_config(hc: dict[str, Any], opts: CreateConfig) -> None:
    """The API's other HostConfig fields (the SDK's options the model does not act on),
    recorded as given; `apply_host_options` then writes the ones it models.

    moby: api/types/container/host_config.go (field names)
    """
    hc.update(opts.host_config or {})


def generate_name(daemon: Daemon) -> str:
    """moby: daemon/names.go generateNewName"""
    for i in range(6):
        name = "/" + get_random_name(daemon.names_rng, i)
        if daemon.name_holder(name) is None:
            return name
    return "/" + new_id(daemon)[:12]


def new_id(daemon: Daemon) -> str:
    """A random 64-hex ID no container has (moby: daemon/names.go generateIDAndName)."""
    while True:
        cid = daemon.ids.generate_random_id()
        if cid not in daemon.containers:
            return cid


def setup_container_dirs(c: Container) -> None:
    """At every start: hostname, hosts, resolv.conf (+.hash) written anew, the log file and
    mounts/ made if missing.

    The three files are bind-mounted over the container's /etc, so they are never in the RW
    layer or `docker diff`; each start rebuilds them (libnetwork makes a new sandbox), so an
    edit to /etc/hosts inside a container is gone after `docker restart`.
    moby: daemon/container_operations_unix.go setupContainerDirs, daemon/container.go
    (hostname), libnetwork sandbox_dns_unix.go buildHostsFile (etchosts.Build) and setupDNS
    """
    hostname = (c.config.get("Hostname") or c.short_id) + "\n"
    _write(c.hostname_path, hostname, 0o644)
    _write(c.hosts_path, HOSTS, 0o644)
    _write(c.resolv_conf_path, RESOLV_CONF, 0o644)
    digest_line = "sha256:" + hashlib.sha256(RESOLV_CONF.encode()).hexdigest()
    _write(c.resolv_conf_path + ".hash", digest_line, 0o644)
    os.makedirs(c.path_in_root("mounts"), mode=0o710, exist_ok=True)  # moby: 0710, root-owned
    if not os.path.exists(c.log_path):
        open(c.log_path, "a").close()
        os.chmod(c.log_path, 0o640)


def _write(path: str, text: str, mode: int) -> None:
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def as_list(value: list[str] | str | None) -> list[str] | None:
    """A command as a list (a string is split as a shell would)."""
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return list(value)


def env_list(env: list[str] | dict[str, str] | None) -> list[str]:
    """docker-py's environment (a list of KEY=VALUE or a dict) as a list."""
    if env is None:
        return []
    if isinstance(env, dict):
        return [f"{k}={v}" for k, v in env.items()]
    return list(env)


def merge_env(image_env: list[str], user_env: list[str]) -> list[str]:
    """User values replace image values of the same key; order as Docker keeps it."""
    keys = {e.split("=", 1)[0] for e in user_env}
    return [e for e in image_env if e.split("=", 1)[0] not in keys] + list(user_env)


def populate_volumes(daemon: Daemon, c: Container) -> None:
    """Copy what the image has at a volume's destination into the volume, when the volume
    is empty (a new one): its first user sees the image's files there. Only at create.

    moby: daemon/create_unix.go populateVolumes, container/container_unix.go
    CopyImagePathContent, copyExistingContents
    """
    targets = [mp for mp in c.mount_points.values() if mp["Type"] == "volume"]
    if not targets:
        return
    rw = daemon.rw_layers[c.id]
    fs = rw.mount()
    try:
        for mp in targets:
            src = mp["Destination"]
            try:
                st = fs.stat(src)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if not stat.S_ISDIR(st.st_mode) or os.listdir(mp["Source"]):
                continue
            copy_out(fs, src, mp["Source"])
    finally:
        rw.unmount()


def copy_out(fs: Any, top: str, dest: str) -> None:
    """Copy folder `top` of a container filesystem into the host folder `dest` (which
    exists): files, folders, symlinks, with their modes and times (fs.CopyDir)."""
    dir_times: list[tuple[str, float]] = []
    for folder, dirs, files in fs.walk(top):
        rel = folder[len(top) :].lstrip("/")
        out = os.path.join(dest, rel) if rel else dest
        st = fs.lstat(folder)
        os.chmod(out, stat.S_IMODE(st.st_mode))
        dir_times.append((out, st.st_mtime))
        for name in dirs:
            path = posixpath.join(folder, name)
            if stat.S_ISLNK(fs.lstat(path).st_mode):
                files.append(name)  # a symlink to a folder is copied as a symlink
                continue
            os.mkdir(os.path.join(out, name), 0o700)
        dirs[:] = [d for d in dirs if not stat.S_ISLNK(fs.lstat(posixpath.join(folder, d)).st_mode)]
        for name in files:
            path = posixpath.join(folder, name)
            target = os.path.join(out, name)
            lst = fs.lstat(path)
            if stat.S_ISLNK(lst.st_mode):
                os.symlink(fs.readlink(path), target)
                continue
            if not stat.S_ISREG(lst.st_mode):
                continue  # devices, FIFOs: the model makes none
            with fs.open(path, "rb") as src, open(target, "wb") as out_file:
                shutil.copyfileobj(src, out_file, 1 << 20)
            os.chmod(target, stat.S_IMODE(lst.st_mode))
            os.utime(target, (lst.st_mtime, lst.st_mtime))
    for out, mtime in reversed(dir_times):
        os.utime(out, (mtime, mtime))
