from dockerlayers.viz import (
    analyze_image,
    compare_drivers,
    disk_tree,
    layer_stack,
    layered_image,
    lifecycle,
    plot_disk_tree,
    plot_driver_comparison,
    plot_image_analysis,
    plot_layer_stack,
    plot_lifecycle,
    take_snapshot,
)


def test_disk_tree_marks_what_create_made(client, base):
    before = take_snapshot(client)
    c = client.containers.create(base, ["sleep", "9"], name="web")
    tree = disk_tree(client, before)
    rw = client.daemon.rw_layer(c.id)
    created = tree.marked("+")
    assert f"image/overlay2/layerdb/mounts/{c.id}/mount-id" in created
    assert f"overlay2/{rw.mount_id}" in created and f"containers/{c.id}" in created
    assert tree.line(f"overlay2/{rw.mount_id}").note.startswith("RW layer of web")
    assert (
        tree.line(f"image/overlay2/layerdb/mounts/{c.id}/mount-id").note == rw.mount_id[:12] + "…"
    )
    assert client.root not in tree.to_text()
    c.remove()
    gone = disk_tree(client, take_snapshot(client))
    assert not gone.marked()
    assert plot_disk_tree(tree).texts


def test_layer_stack_shares_image_layers(client, base):
    a = client.containers.create(base, ["sleep", "9"], name="a1")
    client.containers.create(base, ["sleep", "9"], name="a2")
    st = layer_stack(client)
    (shared,) = st.shared_layers()
    assert sorted(shared.used_by) == ["a1", "a2"]
    one = next(c for c in st.containers if c.name == "a1")
    assert one.rw.driver_id == client.daemon.rw_layer(a.id).mount_id
    assert one.init.folder.endswith("-init/diff")
    assert plot_layer_stack(st).axes


def test_lifecycle_path_from_events(client, base):
    c = client.containers.create(base, ["sleep", "100"], name="w1")
    c.start()
    c.pause()
    c.unpause()
    c.restart(timeout=0)
    lc = lifecycle(client, "w1")
    assert lc.current == "running"
    assert [a for _, _, a in lc.path][:3] == ["start", "pause", "unpause"]
    assert lc.path[-1] == ("exited", "running", "restart")
    c.remove(force=True)
    assert lifecycle(client, c.id).current == "removed"
    assert plot_lifecycle(lc).axes


def test_image_analysis_counts_waste_once_with_reasons(client, base):
    layered_image(client, (20, 20), file_size=64, overwrite=3, delete=2, tag="s:1")
    an = analyze_image(client, "s:1")
    assert an.base == "base:latest" and an.layers[0].from_base and not an.layers[1].from_base
    top = an.layers[-1]
    assert (top.added, top.modified, top.removed) == (20, 3, 2)
    assert len(an.wasted) == 5 and an.wasted_bytes == 5 * 64
    assert {w.reason for w in an.wasted} == {"overwritten in L2", "deleted in L2"}
    assert abs(an.efficiency - (an.total_bytes - 320) / an.total_bytes) < 1e-9
    assert plot_image_analysis(an).axes


def test_driver_comparison_vfs_copies(tmp_path):
    cmp = compare_drivers((5, 15), containers=2, growth=(30,), drivers=("vfs", "overlay2"))
    vfs, ovl = cmp.result("vfs"), cmp.result("overlay2")
    assert vfs.disk_bytes > ovl.disk_bytes
    # the create cost follows the image given, layer by layer (0: base), plus `growth`
    assert sorted(vfs.create_cost) == sorted(ovl.create_cost) == [0, 5, 20, 30]
    # vfs copies the image into the new init layer; overlay2 writes the same few files
    assert vfs.create_cost[20][1] - vfs.create_cost[5][1] > 15 * 64
    assert abs(ovl.create_cost[20][1] - ovl.create_cost[5][1]) < 64
    fig = plot_driver_comparison(cmp)
    right = fig.axes[1]
    assert right.get_ylabel() == "kB written" and right.get_ylim()[0] == 0
    assert fig.axes[0].get_ylabel().startswith("kB")
    styles = {(ln.get_marker(), ln.get_linestyle()) for ln in right.get_lines()}
    assert len(styles) == 2


def test_driver_comparison_disk_follows_containers():
    one = compare_drivers((10,), containers=1, drivers=("vfs",)).result("vfs")
    three = compare_drivers((10,), containers=3, drivers=("vfs",)).result("vfs")
    assert three.disk_files > one.disk_files


def test_lifecycle_picture_numbers_steps_from_the_first(client, base):
    """A long path shows its last ten steps with their real numbers, after an ellipsis."""
    c = client.containers.create(base, ["sleep", "100"], name="w2")
    c.start()
    for _ in range(6):
        c.pause()
        c.unpause()
    lc = lifecycle(client, "w2")
    assert len(lc.path) == 13
    texts = [t.get_text() for t in plot_lifecycle(lc).texts]
    assert texts[-1].startswith("…  4.pause  5.unpause") and texts[-1].endswith("13.unpause")


def test_lifecycle_edges_carry_the_commands(client, base):
    c = client.containers.create(base, ["sleep", "100"], name="lab")
    c.start()
    texts = " | ".join(t.get_text() for t in plot_lifecycle(lifecycle(client, "lab")).axes[0].texts)
    for command in ("create", "start", "pause", "unpause", "stop / kill / die", "rm", "rm -f",
                    "restart", "destroy"):  # fmt: skip
        assert command in texts, command


def test_image_analysis_names_a_tiny_wasted_layer(client, base, tmp_path):
    secret = "x" * 34  # + newline: 35 bytes
    (tmp_path / "Dockerfile").write_text(
        f"FROM base\nRUN echo {secret} > /secret.txt\nRUN rm /secret.txt\n"
    )
    client.images.build(path=str(tmp_path), tag="leaky")
    texts = [
        t.get_text() for t in plot_image_analysis(analyze_image(client, "leaky")).axes[0].texts
    ]
    assert "35B (all wasted)" in " ".join(texts)


def test_stack_picture_keeps_room_for_its_title(client, base):
    from dockerlayers.viz import layer_stack, plot_layer_stack

    client.containers.create(base, ["sleep", "1"], name="web")
    fig = plot_layer_stack(layer_stack(client))
    w, h = fig.get_size_inches()
    ax_top = fig.axes[0].get_position().y1 * h
    assert w >= 5.5 and h - ax_top >= 0.5
