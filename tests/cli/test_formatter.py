"""The pure parts: Go's tabwriter, the template subset, docker's value formats and tables."""

from __future__ import annotations

import pytest

from dockerlayers.cli.formatter import (
    CONTAINER_HEADER,
    IMAGE_HEADER,
    TABLE,
    ContainerContext,
    container_format,
    ellipsis,
    go_quote,
    human_size,
    image_format,
    image_rows,
    render,
    truncate_id,
)
from dockerlayers.cli.tabwriter import tabwrite
from dockerlayers.cli.templates import TemplateError, go_float, parse

NOW = 1704067200 + 125


def test_tabwriter_pads_columns_to_widest_plus_three_min_ten():
    text = "CONTAINER ID\tIMAGE\tNAMES\nabc\tbase\tweb\n"
    assert tabwrite(text) == "CONTAINER ID   IMAGE     NAMES\nabc            base      web\n"


def test_tabwriter_last_cell_is_not_padded_but_empty_inner_cells_are():
    assert tabwrite("a\t\tc\nxx\t\tyy\n") == "a                   c\nxx                  yy\n"


def test_tabwriter_single_cell_line_ends_the_column_block():
    assert tabwrite("a\tb\nsingle\nlonger-cell\tb\n") == "a         b\nsingle\nlonger-cell   b\n"


@pytest.mark.parametrize(
    "size, text",
    [
        (0, "0B"),
        (999, "999B"),
        (999.5, "1e+03B"),
        (1234, "1.23kB"),
        (501, "501B"),
        (21_500_000, "21.5MB"),
    ],
)
def test_human_size_is_go_units_with_precision_3(size, text):
    assert human_size(size, 3) == text


def test_human_size_default_precision_4():
    assert human_size(1234567) == "1.235MB"


def test_ellipsis_and_quote_like_docker_ps_command():
    assert ellipsis("sh -c 'while true; do sleep 1; done'", 20) == "sh -c 'while true; …"
    assert ellipsis("echo hi", 20) == "echo hi"
    assert go_quote('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert go_quote("…") == '"…"'


def test_truncate_id():
    assert truncate_id("sha256:" + "ab" * 32) == "abababababab"
    assert truncate_id("<missing>") == "<missing>"


def test_go_float_formats():
    assert go_float(1234.0) == "1234"
    assert go_float(1234567.0) == "1.234567e+06"
    assert go_float(0.5) == "0.5"


DATA = {
    "Name": "/web",
    "State": {"Running": True, "Pid": 1000, "Health": None},
    "Config": {"Cmd": ["sh", "-c", "echo hi"], "Entrypoint": None, "Labels": {"b": "2", "a": "1"}},
}


@pytest.mark.parametrize(
    "tmpl, text",
    [
        ("{{.Name}}", "/web"),
        ("{{.State.Running}} {{.State.Pid}}", "true 1000"),
        ("{{.Config.Cmd}}", "[sh -c echo hi]"),
        ("{{.Config.Entrypoint}} {{.State.Health}}", "[] <nil>"),
        ("{{json .Config.Entrypoint}}", "null"),
        ("{{json .Config.Labels}}", '{"b":"2","a":"1"}'),
        ('{{index .Config.Labels "a"}}', "1"),
        ("{{.Config.Labels}}", "map[a:1 b:2]"),
        ("{{.Missing}}", "<no value>"),
        ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}", "a=1 b=2 "),
        ("{{range .Config.Cmd}}<{{.}}>{{end}}", "<sh><-c><echo hi>"),
        ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
        ('{{if eq .Name "/x"}}x{{else if .State.Running}}r{{else}}n{{end}}', "r"),
        ('{{join .Config.Cmd ","}}', "sh,-c,echo hi"),
        ("{{.Config.Cmd | json}}", '["sh","-c","echo hi"]'),
        ("{{upper .Name}} {{lower .Name}}", "/WEB /web"),
        ("{{with .State}}{{.Pid}}{{end}}", "1000"),
        ("a {{- .Name -}} b", "a/webb"),
        ("{{pad .Name 1 2}}|", " /web  |"),
        ("{{truncate .Name 2}}", "/w"),
    ],
)
def test_template_subset(tmpl, text):
    assert parse(tmpl).execute(DATA) == text


def test_template_errors():
    with pytest.raises(TemplateError, match='function "nope" not defined'):
        parse("{{nope .}}").execute(DATA)
    with pytest.raises(TemplateError, match="unexpected EOF"):
        parse("{{if .Name}}x")


def _container(**kw):
    c = {
        "Id": "3f0c" + "a" * 60,
        "Names": ["/web"],
        "Image": "base",
        "ImageID": "sha256:" + "b" * 64,
        "Command": "sh -c 'while true; do sleep 1; done'",
        "Created": 1704067200,
        "State": "running",
        "Status": "Up 2 minutes",
        "Labels": {},
        "Mounts": [],
        "SizeRw": 12,
        "SizeRootFs": 513,
    }
    c.update(kw)
    return c


def test_ps_table_layout_matches_docker():
    rows = [ContainerContext(_container(), True, NOW)]
    assert render(container_format(TABLE, False, True), rows, CONTAINER_HEADER) == (
        "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES     SIZE\n"  # noqa: E501
        '3f0caaaaaaaa   base      "sh -c \'while true; …"   2 minutes ago   Up 2 minutes             web       '  # noqa: E501
        "12B (virtual 513B)\n"
    )


def test_ps_empty_table_is_the_header_alone():
    assert render(container_format(TABLE, False, False), [], CONTAINER_HEADER) == (
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    )


def test_ps_quiet_and_custom_formats():
    rows = [ContainerContext(_container(), True, NOW)]
    assert render(container_format(TABLE, True, False), rows) == "3f0caaaaaaaa\n"
    assert (
        render(container_format("{{.Names}}: {{.Status}}", True, False), rows)
        == "web: Up 2 minutes\n"
    )
    assert (
        render("table {{.Names}}\t{{.State}}", rows, CONTAINER_HEADER)
        == "NAMES     STATE\nweb       running\n"
    )


def test_ps_json_marshals_every_field_sorted():
    out = render("{{json .}}", [ContainerContext(_container(), True, NOW)])
    assert out.startswith(
        '{"Command":"\\"sh -c \'while true; …\\"","CreatedAt":"2024-01-01 00:00:00 +0000 UTC",'
    )
    assert '"RunningFor":"2 minutes ago","Size":"12B (virtual 513B)","State":"running"' in out


def test_images_table_and_dangling_rows():
    images = [
        {
            "Id": "sha256:" + "c" * 64,
            "RepoTags": ["demo:latest", "demo:v1"],
            "RepoDigests": [],
            "Created": 1704067200,
            "Size": 504,
        },
        {
            "Id": "sha256:" + "d" * 64,
            "RepoTags": ["<none>:<none>"],
            "RepoDigests": ["<none>@<none>"],
            "Created": 1704067200,
            "Size": 501,
        },
    ]
    rows = image_rows(images, True, NOW, False)
    assert render(image_format(TABLE, False, False), rows, IMAGE_HEADER) == (
        "REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\n"
        "demo         latest    cccccccccccc   2 minutes ago   504B\n"
        "demo         v1        cccccccccccc   2 minutes ago   504B\n"
        "<none>       <none>    dddddddddddd   2 minutes ago   501B\n"
    )
