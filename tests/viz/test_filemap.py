from dockerlayers.viz import file_layer_matrix, plot_file_layer_map, to_png
from dockerlayers.viz._content import DIR, FILE, WHITEOUT, Entry
from dockerlayers.viz.filemap import ADDED, MODIFIED, OPAQUE, build_matrix, merge_layers


def test_merge_marks_added_modified_whiteout_opaque_and_the_visible_copy():
    lower = {
        "/a": Entry(FILE, 3),
        "/d": Entry(DIR),
        "/d/x": Entry(FILE, 1),
        "/gone": Entry(FILE, 5),
    }
    upper = {
        "/a": Entry(FILE, 4),
        "/gone": Entry(WHITEOUT),
        "/d": Entry(DIR, opaque=True),
        "/d/y": Entry(FILE, 2),
    }
    cells, visible, _ = merge_layers([lower, upper])
    assert cells["/a"][0].kind == ADDED and cells["/a"][1].kind == MODIFIED
    assert visible["/a"] == 1 and cells["/a"][1].visible and not cells["/a"][0].visible
    assert cells["/gone"][1].kind == "whiteout" and "/gone" not in visible
    assert cells["/d"][1].kind == OPAQUE
    assert "/d/x" not in visible  # hidden by the opaque folder
    assert visible["/d/y"] == 1


def test_collapse_by_depth_and_prefix_counts_paths():
    layer = {f"/usr/lib/f{i}": Entry(FILE, 10) for i in range(30)}
    layer.update(
        {"/usr": Entry(DIR), "/usr/lib": Entry(DIR), "/etc": Entry(DIR), "/etc/x": Entry(FILE, 1)}
    )
    m = build_matrix([], [layer], depth=1)
    usr = m.row("/usr")
    assert usr.collapsed and usr.paths == 32 and usr.size == 300
    m2 = build_matrix([], [layer], prefix="/usr/lib", max_rows=None)
    assert m2.rows[0].path == "/usr/lib" and len(m2.rows) == 31
    assert all(r.path.startswith("/usr/lib/") for r in m2.rows[1:])
    auto = build_matrix([], [layer], max_rows=10)
    assert len(auto.rows) <= 10 and auto.depth is not None


def test_container_map_agrees_with_the_union_view(client, base):
    c = client.containers.run(
        base,
        ["sh", "-c", "echo hi > /f; echo x >> /etc/passwd; rm /bin/cat; sleep 100"],
        detach=True,
    )
    m = file_layer_matrix(client, c.id, max_rows=None, highlight={"/f"})
    assert [i.kind for i in m.layers] == ["image", "init", "rw"]
    rw = m.layer_index("RW")
    assert m.row("/f").kind_in(rw) == ADDED and m.row("/f").changed
    assert m.row("/etc/passwd").kind_in(rw) == MODIFIED
    assert m.row("/bin/cat").kind_in(rw) == "whiteout" and m.row("/bin/cat").visible_layer is None
    assert m.row("/.dockerenv").visible_layer == m.layer_index("init")
    fs = client.daemon.mount(c.id)
    union = getattr(fs, "base", fs)
    top = len(m.layers) - 1
    for r in m.rows:
        if r.visible_layer is not None:
            assert union.layer_of(r.path) == top - r.visible_layer, r.path
    text = m.to_text()
    assert "! /f" in text


def test_plot_returns_a_figure(client, base):
    m = file_layer_matrix(client, image=base.id)
    fig = plot_file_layer_map(m)
    assert fig.axes and to_png(fig).startswith(b"\x89PNG")
    assert plot_file_layer_map(client, image=base.id).axes
