import pytest

from dockerlayers.viz import ContainerLab, ImageExplorer, PanelRunner, layered_image


def lab(client, base):
    return PanelRunner(ContainerLab(client, image=base))


def test_create_start_restart_keeps_the_rw_layer(client, base, capsys):
    r = lab(client, base)
    r.set("name", "web").click("create")
    assert "web" in r.status and "Created" in r.status
    assert "save_mount" in r.trace and "mount-id" in r.trace
    cid = r.get("container")
    mount_id = client.daemon.rw_layer(cid).mount_id
    r.click("start")
    assert "Up" in r.status and "container start" in r.log
    r.set("exec", "sh -c 'echo data > /keep.txt'").click("run exec")
    assert "(exit code 0)" in r.get("exec_output")
    assert "/keep.txt" in r.panel.matrix.highlight
    r.click("restart")
    assert "container restart" in r.log
    assert client.daemon.rw_layer(cid).mount_id == mount_id
    assert r.panel.matrix.row("/keep.txt").visible_layer == r.panel.matrix.layer_index("RW")
    assert r.image().startswith(b"\x89PNG")
    assert capsys.readouterr() == ("", "")


def test_refused_actions_show_dockers_error_and_raise_nothing(client, base):
    r = lab(client, base)
    r.click("stop")
    assert "no container" in r.error
    r.click("create").click("pause")
    assert "Error response from daemon" in r.error and "is not running" in r.error
    r.click("start").click("rm")
    assert "You cannot remove a running container" in r.error
    assert "refused" in r.trace
    r.set("force", True).click("rm")
    assert r.error == "" and "(no containers)" in r.status
    assert "driver.remove(<mount-id>)" in r.trace


def test_rm_then_create_gets_a_new_empty_rw_layer(client, base):
    r = lab(client, base)
    r.set("command", "sh -c 'echo t > /table; sleep 100'").click("create").click("start")
    old = client.daemon.rw_layer(r.get("container")).mount_id
    r.set("force", True).click("rm").click("create")
    new = client.daemon.rw_layer(r.get("container")).mount_id
    assert new != old
    assert "/table" not in [row.path for row in r.panel.matrix.rows]


def test_several_containers_and_the_clock(client, base):
    r = lab(client, base)
    r.set("name", "one").click("create").click("start")
    r.set("name", "two").click("create").click("start")
    assert r.options("container") == ["one", "two"]
    r.set("container", "one").click("stop")
    assert "Exited (137)" in r.status and "two" in r.status
    r.set("seconds", 5).click("advance clock")
    assert "advance 5s" in r.trace and "2024-01-01T00:00:" in r.status


def test_commit_adds_an_image_and_a_layer(client, base):
    r = lab(client, base)
    r.click("create").click("start").set("exec", "touch /new").click("run exec")
    r.set("commit_as", "mine:1").click("commit")
    assert "layer_store.register" in r.trace and "repositories.json" in r.trace
    assert "mine:1" in r.options("image")


def test_image_explorer_layers_and_file_content(client, base):
    layered_image(client, (4, 4), overwrite=1, delete=1, tag="s:1")
    ex = ImageExplorer(client, image="s:1")
    r = PanelRunner(ex)
    assert len(r.options("layer")) == 3
    lines = ex.layer_lines(2)
    assert "D /data/l0/d000/f00001.txt" in lines and "M /data/l0/d000/f00000.txt (96B)" in lines
    r.set("path", "/data/l0/d000/f00000.txt").click("show file")
    assert "overwritten" in r.get("content")
    r.set("path", "/nope").click("show file")
    assert "not in this image" in r.error
    assert "efficiency" in r.text("analysis")


def test_image_explorer_recovers_a_deleted_secret(client, base, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM base\nRUN echo s3cret > /secret.txt\nRUN rm /secret.txt\n"
    )
    image, _ = client.images.build(path=str(tmp_path), tag="leaky")
    explorer = ImageExplorer(client, image)
    runner = PanelRunner(explorer)
    runner.set("path", "/secret.txt")
    runner.click("find every copy")
    text = explorer.controls["content"].value
    assert text.splitlines()[0].startswith("L1 file 7B: hidden by layer 2 (whiteout")
    assert text.splitlines()[-1] == "s3cret"
    runner.set("path", "/nowhere")
    runner.click("find every copy")
    assert "no layer of this image holds it" in runner.error


def test_show_file_of_a_deleted_file_says_what_hides_it(client, base, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM base\nRUN echo s3cret > /secret.txt\nRUN rm /secret.txt\n"
    )
    image, _ = client.images.build(path=str(tmp_path), tag="leaky")
    r = PanelRunner(ImageExplorer(client, image))
    r.set("layer", r.options("layer")[-1])
    r.set("path", "/secret.txt").click("show file")
    text = r.get("content")
    assert "not in the image's merged view" in text
    assert "L1 file 7B: hidden by layer 2 (whiteout" in text
    assert r.error == ""


def test_show_file_on_a_directory_lists_it(client, base):
    layered_image(client, (4, 4), overwrite=0, delete=0, tag="s:1")
    ex = ImageExplorer(client, image="s:1")
    r = PanelRunner(ex)
    for path in ("/data", "/data/l0/", "/"):
        r.set("path", path).click("show file")
        text = r.get("content")
        assert "is a directory" in text, text
        assert "IsADirectoryError" not in text + r.error
        assert ex.daemon.root not in text + r.error
    r.set("path", "/data").click("show file")
    assert "l0/" in r.get("content").splitlines()[1:]


def test_driver_compare_rejects_bad_input_and_clears_old_results():
    from dockerlayers.viz import DriverCompare

    panel = DriverCompare(files_per_layer=(5,), containers=1)
    r = PanelRunner(panel)
    seen = []
    panel.controls["busy"].observe(lambda ch: seen.append(ch["new"]), "value")
    r.click("compare")
    assert "1 containers on an image of 5 files in 1 layers" in r.text("result")
    assert r.image("figure")[:4] == b"\x89PNG" and r.error == ""
    assert any("building" in v for v in seen) and r.get("busy") == ""
    assert not r.button("compare").disabled
    for bad, says in (("abc", "not a comma-separated list"), ("5,-3", "cannot be negative")):
        r.set("files", bad).click("compare")
        assert says in r.error
        assert r.text("result") == "" and r.image("figure") == b"" and panel.comparison is None
    r.set("files", "5, 10").click("compare")
    assert "an image of 15 files in 2 layers" in r.text("result") and r.error == ""


def _png_size(png: bytes) -> tuple[int, int]:
    import struct

    return struct.unpack(">II", png[16:24])


def test_lab_map_marks_only_the_rw_layer_and_names_whiteouts(client, base):
    from matplotlib.colors import to_rgba

    from dockerlayers.viz.filemap import MODIFIED, WHITEOUT, plot_file_layer_map

    r = PanelRunner(ContainerLab(client, image=base, map_rows=8))
    r.click("create").click("start")
    r.set("exec", "sh -c 'echo changed > /hello.txt; rm /etc/os-release'").click("run exec")
    m = r.panel.matrix
    rw = m.layer_index("RW")
    etc = m.row("/etc")
    assert etc.collapsed and etc.cells[rw].kind == MODIFIED != WHITEOUT
    assert etc.changed  # a row the exec changed, in the RW layer only
    fig = plot_file_layer_map(m, legend=False)
    red = to_rgba("#d62728")
    boxes = [
        col
        for col in fig.axes[0].collections
        if len(col.get_edgecolor()) and tuple(col.get_edgecolor()[0]) == red
    ]
    xs = {int(x) for col in boxes for x, _ in col.get_offsets()}
    assert xs == {rw}
    line = [ln for ln in r.trace.splitlines() if "os-release" in ln][-1]
    assert "whiteout: a" in line and ("0/0 char device" in line or ".wh." in line)


def test_lab_create_without_any_image_gets_base(tmp_path):
    from dockerlayers import DockerClient

    with DockerClient(root=str(tmp_path / "r"), seed=1, clock="virtual", mounts="user") as c:
        r = PanelRunner(ContainerLab(c))
        assert r.options("image") == []
        r.click("create")
        assert r.error == "" and "Created" in r.status
        assert "base:latest" in r.options("image")
        assert "docker create --name <generated> base" in r.trace


def test_lab_exec_output_goes_with_its_container_and_events_show_newest_first(client, base):
    r = lab(client, base)
    r.click("create").click("start")
    r.set("exec", "echo hi").click("run exec")
    assert "hi" in r.get("exec_output")
    r.click("stop")
    r.click("run exec")  # refused: no output of the earlier exec stays under the error
    assert "is not running" in r.error and r.get("exec_output") == ""
    r.set("force", True).click("rm")
    assert r.get("exec_output") == ""
    assert "container destroy" in r.log.splitlines()[0]


def test_lab_map_hidden_when_empty_and_shown_at_its_drawn_size(client, base):
    from dockerlayers.viz import _figure
    from dockerlayers.viz.lab import MAP_SCALE

    panel = ContainerLab(client, image=base)
    assert _figure._WARM  # matplotlib warmed when the panel is built
    r = PanelRunner(panel)
    img = panel.controls["map"]
    assert img.layout.display == "none" and r.image() == b""
    r.click("create")
    w, h = _png_size(r.image())
    assert img.layout.display != "none"
    assert (int(img.width) * MAP_SCALE, int(img.height) * MAP_SCALE) == (w, h)
    assert img.layout.width == f"{img.width}px" and int(img.height) < 800  # fits a laptop


def test_lab_refused_rm_writes_nothing(client, base):
    r = lab(client, base)
    r.click("create").click("start").click("rm")
    assert "You cannot remove a running container" in r.error
    assert "config.v2.json" not in r.trace


def test_panels_hide_empty_pictures(tmp_path):
    from dockerlayers import DockerClient
    from dockerlayers.viz import DriverCompare

    assert DriverCompare().controls["figure"].layout.display == "none"
    with DockerClient(root=str(tmp_path / "r"), seed=1, clock="virtual", mounts="user") as c:
        ex = ImageExplorer(c)
        assert ex.controls["figure"].layout.display == "none"
        ex.controls["image"].options = [("base", c.images.base().id)]
        ex.controls["image"].value = c.images.base().id
        assert ex.controls["figure"].layout.display != "none"
        assert bytes(ex.controls["figure"].value).startswith(b"\x89PNG")


def test_show_file_never_reads_a_host_file_through_a_symlink(client, base, tmp_path):
    """An image's symlink to an absolute path names a path in the image, not on the host:
    the explorer shows the link, and a path through a linked folder is not read."""
    secret = tmp_path / "host-secret"
    secret.mkdir()
    (secret / "key").write_text("HOST SECRET")
    ct = client.containers.run(
        base, ["sh", "-c", f"ln -s {secret} /d && ln -s {secret}/key /k"], detach=True
    )
    ct.wait()
    image = ct.commit("links", "1")
    r = PanelRunner(ImageExplorer(client, image))
    for path in ("/k", "/d/key"):
        r.set("path", path).click("show file")
        assert "HOST SECRET" not in r.get("content") + r.error


def test_container_lab_without_matplotlib_shows_the_map_as_text(client, base, monkeypatch):
    """In a JupyterLite site built offline (no matplotlib) the panel works, its map as text."""
    import dockerlayers.viz.lab as lab_module

    monkeypatch.setattr(lab_module, "has_matplotlib", lambda: False)
    monkeypatch.setattr(lab_module, "warm", lambda: pytest.fail("matplotlib was loaded"))
    r = lab(client, base)
    r.set("name", "web").click("create").click("start")
    r.set("exec", "sh -c 'echo data > /keep.txt'").click("run exec")
    key = r.panel.controls["key"].value
    assert "as text" in key and "PATH" in key and "/keep.txt" in key
    assert r.panel.controls["map"].value == b""
    r.set("force", True).click("rm")
    assert "PATH" not in r.panel.controls["key"].value


def test_explorers_without_matplotlib_show_their_text(client, monkeypatch):
    """ImageExplorer (notebook 08) and DriverCompare (06) work where matplotlib is missing:
    the analysis and the comparison as text, no picture."""
    import dockerlayers.viz.explorer as explorer_module
    from dockerlayers.viz import DriverCompare

    monkeypatch.setattr(explorer_module, "has_matplotlib", lambda: False)
    layered_image(client, (4, 4), overwrite=1, delete=1, tag="s:1")
    ex = ImageExplorer(client, image="s:1")
    assert ex.controls["analysis"].value and ex.controls["figure"].value == b""
    assert ex.controls["figure"].layout.display == "none"
    panel = DriverCompare(files_per_layer=(5,), containers=1)
    PanelRunner(panel).click("compare")
    assert "5 files" in panel.controls["result"].value
    assert panel.controls["figure"].value == b""
