from dockerlayers.viz import run_traced
from dockerlayers.viz.snapshot import take_snapshot
from dockerlayers.viz.trace import Classifier


def test_create_trace_goes_through_set_rw_layer_and_save_mount(client, base):
    c, trace = run_traced(
        client,
        "create",
        "docker create",
        lambda: client.containers.create(base, ["sleep", "9"], name="web"),
    )
    fns = trace.functions()
    order = [
        "daemon.create",
        "daemon.set_rw_layer",
        "layer_store.create_rw_layer",
        "init_mount",
        "save_mount",
    ]
    idx = [next(i for i, f in enumerate(fns) if f.startswith(o)) for o in order]
    assert idx == sorted(idx)
    saved = [p for _, p in trace.step("save_mount").files]
    assert {p.rsplit("/", 1)[-1] for p in saved} >= {"mount-id", "init-id", "parent"}
    init = [p for _, p in trace.step("setup_init_layer").files]
    assert any(p.endswith("-init/diff/.dockerenv") for p in init)
    rw = client.daemon.rw_layer(c.id)
    assert "/.dockerenv" in trace.container_paths[rw.init_id]
    assert "event: container create" in trace.to_text()
    assert client.root not in trace.to_text()


def test_refused_action_reports_dockers_error_and_no_steps(client, base):
    c = client.containers.create(base, ["sleep", "9"])
    _, trace = run_traced(client, "pause", "docker pause", c.pause)
    assert trace.error.endswith("is not running")
    assert trace.functions()[0].endswith("refused")


def test_start_stop_rm_evidence(client, base):
    c = client.containers.create(base, ["sh", "-c", "echo hi > /f; sleep 100"])
    _, start = run_traced(client, "start", "start", c.start)
    assert any(p.endswith("/merged/") for _, p in start.step("rw_layer.mount").files)
    assert any(p.endswith("/diff/f") for _, p in start.step("containerd/runc").files)
    _, stop = run_traced(client, "stop", "stop", c.stop)
    text = stop.to_text()
    assert "signal=15" in text and "signal=9" in text and "exitCode=137" in text
    _, rm = run_traced(client, "rm", "rm", c.remove)
    assert any(
        p.endswith("/diff/f") and m == "-" for m, p in rm.step("driver.remove(<mount-id>)").files
    )


def test_classifier_knows_whose_folder(client, base):
    c = client.containers.create(base, ["sleep", "9"])
    snap = take_snapshot(client)
    rw = client.daemon.rw_layer(c.id)
    k = Classifier("overlay2", snap)
    assert k.classify(f"overlay2/{rw.mount_id}/diff/x").layer == "rw"
    assert k.classify(f"overlay2/{rw.init_id}/diff/etc/hosts").container_path == "/etc/hosts"
    assert k.classify(f"image/overlay2/layerdb/mounts/{c.id}/mount-id").name == "mounts-meta"
