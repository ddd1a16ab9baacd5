"""A hypothesis state machine over the lifecycle (create/start/stop/kill/pause/unpause/
restart/rm/advance the clock): every result is checked against a small model of Docker
20.10's state machine (moby.md §5), and every container's event stream must be a legal path
through the events automaton."""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from dockerlayers import DockerClient
from dockerlayers.errors import APIError
from tests.support.lifecycle import legal_event_path

COMMANDS = {
    "sleep": ["sh", "-c", "sleep 1000"],  # PID 1, no trap: ignores SIGTERM
    "trap": ["sh", "-c", "trap 'exit 0' TERM; sleep 1000"],
    "short": ["sh", "-c", "sleep 5; exit 1"],  # exits by itself, with a failure
}
POLICIES = ["no", "always", "unless-stopped", "on-failure:2"]
RUNNING_LIKE = ("running", "paused", "restarting")


class Model:
    def __init__(self, cmd: str, policy: str) -> None:
        self.cmd = cmd
        self.policy = policy.split(":")[0]
        self.max_retries = int(policy.split(":")[1]) if ":" in policy else 0
        self.status = "created"
        self.exit_code = 0
        # a kill or stop cancels the restart manager until the next manual start (with no
        # StopSignal configured, any signal does: moby 20.10 killWithSignal -> ExitOnNext)
        self.canceled = False


class LifecycleMachine(RuleBasedStateMachine):
    containers = Bundle("containers")

    def __init__(self) -> None:
        super().__init__()
        self.root = tempfile.mkdtemp(prefix="dl-machine-")
        self.client = DockerClient(root=self.root, seed=7, clock="virtual", mounts="user")
        # this machine's model lets time pass only in its time rules (stop's wait, advance):
        # no operation step, or a restart backoff would elapse during a run of plain calls
        self.client.daemon.operation_step = 0
        self.base = self.client.images.base().id
        self.model: dict[str, Model] = {}
        self.removed: set[str] = set()

    def teardown(self) -> None:
        try:
            self.client.close()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers -------------------------------------------------------------------------------
    @property
    def d(self):
        return self.client.daemon

    def status(self, cid: str) -> str:
        return self.d.inspect(cid)["State"]["Status"]

    def sync(self, cid: str) -> None:
        m = self.model[cid]
        st_ = self.d.inspect(cid)["State"]
        m.status, m.exit_code = st_["Status"], st_["ExitCode"]

    def others_after_time(self, before: dict[str, str], t0: float, acted: str) -> None:
        """A rule that let time pass (stop's or restart's wait) lets every other container
        run too: check each moved only along legal paths, then follow it."""
        if self.client.clock.now() == t0:
            return
        for cid, m in self.model.items():
            if cid != acted and cid in before:
                self.check_time_step(cid, m, before[cid])

    def check_time_step(self, cid: str, m: Model, was: str) -> None:
        now = self.status(cid)
        if was in ("created", "exited", "paused") or m.cmd != "short" and was == "running":
            assert now == was, (m.cmd, m.policy, was, now)
        elif m.policy == "no" or m.canceled:
            assert now in ("running", "exited")
        elif m.policy in ("always", "unless-stopped"):
            assert now in ("running", "restarting")
        else:
            assert now in ("running", "restarting", "exited")
        info = self.d.inspect(cid)
        if m.policy == "no":
            assert info["RestartCount"] == 0
        if m.policy == "on-failure":
            assert info["RestartCount"] <= m.max_retries
        self.sync(cid)

    def expect_error(self, fn, text: str) -> None:
        try:
            fn()
        except APIError as e:
            assert str(e) == text, (str(e), text)
        else:
            raise AssertionError(f"expected error {text!r}")

    # -- rules ---------------------------------------------------------------------------------
    @rule(
        target=containers, cmd=st.sampled_from(sorted(COMMANDS)), policy=st.sampled_from(POLICIES)
    )
    def create(self, cmd, policy):
        c = self.d.create(self.base, COMMANDS[cmd], restart_policy=policy)
        self.model[c.id] = Model(cmd, policy)
        assert self.status(c.id) == "created"
        return c.id

    @rule(cid=containers)
    def start(self, cid):
        m = self.model[cid]
        if m.status == "paused":
            self.expect_error(
                lambda: self.d.start(cid), "cannot start a paused container, try unpause instead"
            )
            return
        before = m.status
        self.d.start(cid)
        if before in ("running", "restarting"):
            assert self.status(cid) == before  # 304: a no-op
        else:
            assert self.status(cid) == "running"
            assert self.d.inspect(cid)["RestartCount"] == 0
            m.canceled = False
        self.sync(cid)

    @rule(cid=containers, timeout=st.sampled_from([0, 1, 10]))
    def stop(self, cid, timeout):
        m = self.model[cid]
        before = m.status
        t0 = self.client.clock.now()
        others = {k: v.status for k, v in self.model.items()}
        self.d.stop(cid, timeout=timeout)
        elapsed = round(self.client.clock.now() - t0, 6)
        if before in RUNNING_LIKE:
            m.canceled = True
        self.others_after_time(others, t0, cid)
        if before not in RUNNING_LIKE:
            assert self.status(cid) == before  # 304: already stopped
            return
        assert self.status(cid) == "exited"
        code = self.d.inspect(cid)["State"]["ExitCode"]
        if before == "restarting":
            assert code == m.exit_code
        elif m.cmd == "sleep":
            assert (code, elapsed) == (137, timeout)
        elif m.cmd == "trap":
            assert (code, elapsed) == (0, 0)
        else:
            assert code in (1, 137) and elapsed <= timeout
        self.sync(cid)

    @rule(cid=containers, sig=st.sampled_from(["SIGKILL", "SIGTERM"]))
    def kill(self, cid, sig):
        m = self.model[cid]
        if m.status not in RUNNING_LIKE:
            self.expect_error(
                lambda: self.d.kill(cid, sig),
                f"Cannot kill container: {cid}: Container {cid} is not running",
            )
            return
        before = m.status
        self.d.kill(cid, sig)
        m.canceled = True
        now = self.status(cid)
        if before == "restarting" or sig == "SIGKILL":
            assert now == "exited"
            if before != "restarting":
                assert self.d.inspect(cid)["State"]["ExitCode"] == 137
        elif m.cmd == "trap":
            assert now == "exited"
            assert self.d.inspect(cid)["State"]["ExitCode"] == 0
        elif m.cmd == "short" and before == "paused":
            # resumed: a sleep that ran out while frozen ends now (and nothing restarts it)
            assert now in ("running", "exited")
        else:
            assert now == "running"  # PID 1 ignores SIGTERM (a paused one is resumed)
        self.sync(cid)

    @rule(cid=containers)
    def pause(self, cid):
        m = self.model[cid]
        if m.status not in RUNNING_LIKE:
            self.expect_error(lambda: self.d.pause(cid), f"Container {cid} is not running")
        elif m.status == "paused":
            self.expect_error(lambda: self.d.pause(cid), f"Container {cid} is already paused")
        elif m.status == "restarting":
            self.expect_error(
                lambda: self.d.pause(cid),
                f"Container {cid} is restarting, wait until the container is running",
            )
        else:
            self.d.pause(cid)
            assert self.status(cid) == "paused"
            self.sync(cid)

    @rule(cid=containers)
    def unpause(self, cid):
        m = self.model[cid]
        if m.status != "paused":
            self.expect_error(lambda: self.d.unpause(cid), f"Container {cid} is not paused")
            return
        self.d.unpause(cid)
        assert self.status(cid) in ("running", "restarting", "exited")  # time may be due
        self.sync(cid)

    @rule(cid=containers)
    def restart(self, cid):
        t0 = self.client.clock.now()
        others = {k: v.status for k, v in self.model.items()}
        self.d.restart(cid, timeout=1)
        self.model[cid].canceled = False
        self.others_after_time(others, t0, cid)
        assert self.status(cid) == "running"
        assert self.d.inspect(cid)["RestartCount"] == 0
        self.sync(cid)

    @rule(cid=consumes(containers), force=st.booleans())
    def remove(self, cid, force):
        m = self.model[cid]
        if m.status in RUNNING_LIKE and not force:
            procedure = "Stop the container before attempting removal or force remove"
            if m.status == "paused":
                procedure = (
                    "Unpause and then stop the container before attempting removal or force remove"
                )
            self.expect_error(
                lambda: self.d.remove(cid),
                f"You cannot remove a {m.status} container {cid}. {procedure}",
            )
            return
        self.d.remove(cid, force=force)
        assert cid not in self.d.containers
        del self.model[cid]
        self.removed.add(cid)

    @rule(seconds=st.sampled_from([0.05, 0.1, 1, 4.9, 5, 10, 61]))
    def advance(self, seconds):
        before = {cid: m.status for cid, m in self.model.items()}
        self.client.clock.advance(seconds)
        for cid, m in self.model.items():
            self.check_time_step(cid, m, before[cid])

    # -- invariants ----------------------------------------------------------------------------
    @invariant()
    def statuses_agree_with_the_model(self):
        for cid, m in self.model.items():
            st_ = self.d.inspect(cid)["State"]
            assert st_["Status"] == m.status
            running_like = st_["Status"] in RUNNING_LIKE
            assert st_["Running"] == running_like
            assert st_["Paused"] == (st_["Status"] == "paused")
            assert st_["Restarting"] == (st_["Status"] == "restarting")
            assert (st_["Pid"] != 0) == (st_["Status"] in ("running", "paused"))

    @invariant()
    def event_streams_are_legal_paths(self):
        per: dict[str, list[str]] = {}
        for e in self.d.events.list(filters={"type": ["container"]}):
            per.setdefault(e["Actor"]["ID"], []).append(e["Action"])
        for cid, acts in per.items():
            assert legal_event_path(acts), (cid[:12], acts)
            if cid in self.removed:
                assert acts[-1] == "destroy"

    @invariant()
    def ps_lists_running_like_containers(self):
        running = {r["Id"] for r in self.d.list()}
        assert running == {cid for cid, m in self.model.items() if m.status in RUNNING_LIKE}


LifecycleMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLifecycle = LifecycleMachine.TestCase


def test_the_events_automaton_itself():
    assert legal_event_path(["create", "start", "kill", "die", "stop", "destroy"])
    assert legal_event_path(["create", "start", "pause", "kill", "unpause", "die", "destroy"])
    assert not legal_event_path(["start"])
    assert not legal_event_path(["create", "die"])
    assert not legal_event_path(["create", "start", "destroy"])
