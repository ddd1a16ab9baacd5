"""07 The container lifecycle."""
# ruff: noqa: E501  (cell sources are notebook code: long lines read better there)

from _nb import code, md, moby

NAME = "07-container-lifecycle.ipynb"

CELLS = [
    md(
        """
        # 07 · The container lifecycle

        **The questions**: *why does `docker stop` take 10 seconds?*, *what is exit code
        137 (and 143)?*, *what does `docker pause` do?*, *what happens to my containers when
        the Docker daemon restarts?*

        **What you will see** (10 minutes), timed on the model's virtual clock:

        1. `stop` = SIGTERM, wait up to the timeout, then SIGKILL; a shell as PID 1 without a
           `trap` ignores SIGTERM, so stop waits the full 10 s and the exit code is 137 = 128 + 9;
        2. `stop -t 0`, `kill`, and a process that handles SIGTERM;
        3. `pause`: the process is frozen, some commands are refused;
        4. restart policies (`on-failure:3`, `always`);
        5. a daemon restart: running containers are stopped, policies decide who comes back,
           and every RW layer is still there.
        """
    ),
    code(
        """
        from dockerlayers import APIError, DockerClient

        client = DockerClient(seed=7, clock="virtual", mounts="user")
        image = client.images.base()
        loop = ["sh", "-c", "while true; do sleep 1; done"]
        client.clock  # virtual time starts at 2024-01-01; it moves when something waits, and 1 ms per daemon operation
        """
    ),
    md(
        """
        ## 1. Why `docker stop` takes 10 seconds

        `plain` runs a shell loop as PID 1. The kernel does not apply the default action of a
        signal to PID 1 of a PID namespace: without a handler, SIGTERM is simply ignored.
        """
    ),
    code(
        """
        plain = client.containers.run(image, loop, name="plain", detach=True)
        t0 = client.clock.now()
        plain.stop()
        plain.reload()
        plain.status, plain.attrs["State"]["ExitCode"], round(client.clock.now() - t0, 3)
        """
    ),
    md(
        """
        10 seconds of waiting (the extra milliseconds are the model's clock step, 1 ms per
        daemon operation). The events show it: `kill` with signal 15 (SIGTERM), 10 s of
        nothing, `kill` with signal 9 (SIGKILL), `die`, `stop` (seconds after the SIGTERM).
        137 = 128 + 9: the process was killed by signal 9.
        """
    ),
    code(
        """
        stopping = [e for e in client.daemon.events.list() if e["Action"] in ("kill", "die", "stop")]
        sigterm = stopping[0]["timeNano"]
        [((e["timeNano"] - sigterm) / 1e9, e["Action"], e["Actor"]["Attributes"].get("signal", "")) for e in stopping]
        """
    ),
    md(
        """
        ## 2. stop -t 0, kill, and a process that handles SIGTERM

        `stop(timeout=0)` skips the wait; `kill` sends SIGKILL at once. Both end with 137,
        in a few milliseconds of model time (each call, `reload()` included, is a daemon
        operation) instead of 10 s:
        """
    ),
    code(
        """
        plain.start()
        t0 = client.clock.now()
        plain.stop(timeout=0)
        plain.reload()
        after_stop = (plain.attrs["State"]["ExitCode"], round(client.clock.now() - t0, 3))
        plain.start()
        t0 = client.clock.now()
        plain.kill()
        plain.reload()
        after_stop, (plain.attrs["State"]["ExitCode"], round(client.clock.now() - t0, 3))
        """
    ),
    md(
        """
        `docker kill -s TERM` on `plain` changes nothing — PID 1 ignores it:
        """
    ),
    code(
        """
        plain.start()
        plain.kill(signal="SIGTERM")
        plain.reload()
        plain.status
        """
    ),
    md(
        """
        With a `trap`, the shell handles SIGTERM and exits at once, with the code it chooses
        (0 here):
        """
    ),
    code(
        """
        polite = client.containers.run(
            image, ["sh", "-c", "trap 'echo bye; exit 0' TERM; while true; do sleep 1; done"], name="polite", detach=True
        )
        t0 = client.clock.now()
        polite.stop()
        polite.reload()
        polite.attrs["State"]["ExitCode"], round(client.clock.now() - t0, 3), polite.logs()
        """
    ),
    md(
        """
        And 143? A process that is not PID 1 has the kernel's default action for SIGTERM: it
        dies of it, and its parent sees 128 + 15 = 143. PID 1 is the exception (the kernel
        applies no default action to it: that is why a handler-less PID 1 ignores
        `docker stop`). With `--init`, tini is PID 1: it passes SIGTERM to your program and
        exits as it did, so `docker stop` ends with 143 at once. (The JVM's handler exits 143
        on purpose.)
        """
    ),
    code(
        """
        client.containers.run(image, ["sh", "-c", "sleep 100 & kill -TERM $!; wait $!; echo $?"], remove=True)
        """
    ),
    md(
        """
        ## 3. pause

        `pause` freezes every process of the container (the cgroup freezer). The status is
        `paused` while `Running` stays `True`; exec and rm are refused, in Docker's words.
        """
    ),
    code(
        """
        plain.pause()
        plain.reload()
        plain.status, plain.attrs["State"]["Running"], plain.attrs["State"]["Paused"]
        """
    ),
    code(
        """
        try:
            plain.exec_run("ls")
        except APIError as e:
            print(e)
        """
    ),
    code(
        """
        try:
            plain.remove()
        except APIError as e:
            print(e)
        """
    ),
    code(
        """
        plain.unpause()
        plain.reload()
        plain.status
        """
    ),
    md(
        """
        Docker's state machine (moby's `container/state.go` and the daemon's transitions),
        with the path `plain` took so far, read from its events: run, stop, start, stop -t 0,
        start, kill, start, kill -s TERM (no change), pause, unpause.
        """
    ),
    code(
        """
        from IPython.display import Image

        from dockerlayers.viz import plot_lifecycle, to_png

        Image(to_png(plot_lifecycle(client, "plain")))
        """
    ),
    md(
        """
        ## 4. Restart policies

        `on-failure:3` restarts a container that exits with a non-zero code, at most 3 times,
        with a back-off that starts at 100 ms and doubles. `RestartCount` counts them.
        """
    ),
    code(
        """
        flaky = client.containers.run(
            image, ["sh", "-c", "echo trying; exit 3"], name="flaky", detach=True, restart_policy={"Name": "on-failure", "MaximumRetryCount": 3}
        )
        client.clock.advance(5)
        flaky.reload()
        flaky.status, flaky.attrs["State"]["ExitCode"], flaky.attrs["RestartCount"], flaky.logs().decode().split()
        """
    ),
    code(
        """
        from pathlib import Path

        log = Path(flaky.attrs["LogPath"])
        log.relative_to(client.daemon.root).parts[:2], log.read_text().splitlines()[0]
        """
    ),
    md(
        """
        Each restart reuses the same container and RW layer (notebook 03), and all four runs
        wrote into the same log — which is not in the RW layer: the json-file logger keeps it
        in `containers/<id>/<id>-json.log` beside `config.v2.json`, one JSON object per line
        (on your machine: `sudo tail -2 $(docker inspect -f '{{.LogPath}}' flaky)`). A manual
        `docker restart` resets the count to 0 — and since `flaky` fails again at once, the
        policy takes over and counts from 1 again.
        """
    ),
    code(
        """
        flaky.restart()
        flaky.reload()
        flaky.status, flaky.attrs["RestartCount"]
        """
    ),
    md(
        """
        `restarting` is what Docker shows while its restart manager waits: `flaky` failed
        again at once (exit code 3), the policy allows another try, so the daemon counted it
        (`RestartCount` 1) and waits out a back-off before starting it again: 100 ms, doubled
        after each failure in a row (capped at 1 minute, back to 100 ms once a run lasts
        10 s). The virtual clock has only moved by its 1 ms steps since, so it is still
        waiting. Let time run: the next three starts come 100, 200 and 400 ms after
        the one before, then the policy (at most 3) gives up.
        """
    ),
    code(
        """
        client.clock.advance(5)
        flaky.reload()
        starts = [e["timeNano"] for e in client.daemon.events.list() if e["id"] == flaky.id and e["Action"] == "start"]
        gaps_ms = [(b - a) // 1_000_000 for a, b in zip(starts[-4:], starts[-3:])]  # between the last four starts
        flaky.status, flaky.attrs["RestartCount"], gaps_ms
        """
    ),
    md(
        """
        ## 5. What a daemon restart does

        Without live-restore, stopping dockerd stops every running container (SIGTERM, its
        timeout, SIGKILL). When dockerd starts again, restart policies decide: `always` comes
        back even if you had stopped it by hand; `unless-stopped` comes back unless you
        stopped it; `no` stays down. Five containers, two of them stopped by hand first:
        """
    ),
    code(
        """
        for name, policy in [("always", "always"), ("unless", "unless-stopped"), ("never", "no")]:
            client.containers.run(image, loop, name=name, restart_policy={"Name": policy}, detach=True)
        for name, policy in [("always-stopped", "always"), ("unless-stopped", "unless-stopped")]:
            client.containers.run(image, loop, name=name, restart_policy={"Name": policy}, detach=True).stop(timeout=0)
        client.containers.get("never").exec_run(["sh", "-c", "echo still here > /data.txt"])
        sorted(c.name for c in client.containers.list())
        """
    ),
    code(
        """
        root = client.root
        client.daemon.close()  # dockerd stops
        client = DockerClient(root=root, seed=7, clock="virtual", mounts="user")  # dockerd starts
        sorted((c.name, c.status) for c in client.containers.list(all=True) if c.name not in ("plain", "polite", "flaky"))
        """
    ),
    md(
        """
        `never` was stopped by the shutdown (137) and stayed down, but its RW layer — and the
        file it wrote — is still there:
        """
    ),
    code(
        """
        never = client.containers.get("never")
        never.attrs["State"]["ExitCode"], never.diff()
        """
    ),
    md(
        """
        ## What to remember

        - `stop` = SIGTERM, wait (10 s by default), SIGKILL. PID 1 ignores signals it has no
          handler for: add a `trap` (or use `--init`), or stop takes the full timeout and
          exits 137 = 128 + 9. 143 = 128 + 15 means the process ended on SIGTERM.
        - `pause` freezes the processes; the container stays `Running` (status `paused`).
        - Restart policies restart the same container (same RW layer); `RestartCount` counts
          policy restarts, a manual restart resets it.
        - A daemon restart stops containers but keeps their RW layers; `always` and
          `unless-stopped` decide who comes back.

        ## Read next in moby

        """
        + moby(
            "daemon/stop.go",
            "daemon/kill.go",
            "daemon/pause.go",
            "daemon/monitor.go",
            "restartmanager/restartmanager.go",
            "daemon/daemon.go",
            "container/state.go",
        )
        + """

        Next: [08 · Look inside an image](08-look-inside-an-image.ipynb).
        """
    ),
    code(
        """
        import shutil

        client.close()
        shutil.rmtree(root)
        """
    ),
]
