"""dockerlayers/filters.py: moby's filters.Args, prune label rules and Go's path.Match."""

from __future__ import annotations

import pytest

from dockerlayers.filters import (
    Args,
    BadPattern,
    InvalidFilter,
    familiar_match,
    match_labels,
    path_match,
    until_from_prune_filters,
)


def test_args_from_docker_py_dicts():
    args = Args.of({"label": "a=b", "dangling": True, "name": ["x", "y"], "skip": None})
    assert args.to_dict() == {"dangling": ["true"], "label": ["a=b"], "name": ["x", "y"]}
    assert Args.of({"dangling": False}).get("dangling") == ["false"]
    assert Args.of({"label": {"a": True, "b": False}}).get("label") == ["a"]  # the API's form
    assert len(Args.of(None)) == 0


def test_validate_refuses_unknown_keys_with_dockers_text():
    with pytest.raises(InvalidFilter) as e:
        Args.of({"label": "x", "bogus": "1"}).validate(["label"])
    assert str(e.value) == "Invalid filter 'bogus'" and e.value.status_code == 400
    assert str(InvalidFilter("dangling", ["maybe"])) == "Invalid filter 'dangling=[maybe]'"
    assert str(InvalidFilter("status", "bogus")) == "Invalid filter 'status=bogus'"


def test_matching_kinds():
    args = Args([("name", "f_.o"), ("id", "abc"), ("event", "exec_start")])
    assert args.match("name", "/f_go") and not args.match("name", "keep")  # a regexp
    assert args.match("id", "123abc456")  # unanchored
    bad = Args([("name", "(")])
    assert bad.match("name", "(") and not bad.match("name", "x(")  # a bad regexp: exact only
    assert args.exact_match("missing", "anything")  # no such key: everything passes
    assert args.fuzzy_match("event", "exec_start: sh -c x")
    assert not args.exact_match("event", "exec_start: sh -c x")


def test_labels_and_label_not():
    """The data-loss case of issue 16: `prune --filter label!=keep` must spare `keep`."""
    keep = Args([("label!", "keep")])
    assert not match_labels(keep, {"keep": "1"})
    assert match_labels(keep, {"other": "1"}) and match_labels(keep, {})
    assert not match_labels(Args([("label!", "keep=1")]), {"keep": "1"})
    assert match_labels(Args([("label!", "keep=1")]), {"keep": "2"})
    both = Args([("label", "a"), ("label", "b=2")])
    assert both.match_kv_list("label", {"a": "", "b": "2"})
    assert not both.match_kv_list("label", {"a": ""})
    assert not Args([("label", "a")]).match_kv_list("label", {})


def test_until():
    assert until_from_prune_filters(Args(), 100.0) is None
    assert until_from_prune_filters(Args([("until", "10s")]), 100.0) == 90.0
    assert until_from_prune_filters(Args([("until", "50")]), 100.0) == 50.0
    with pytest.raises(Exception, match="more than one until filter specified"):
        until_from_prune_filters(Args([("until", "1h"), ("until", "2h")]), 0.0)
    with pytest.raises(Exception, match='failed to parse value as time or duration: "x"'):
        until_from_prune_filters(Args([("until", "x")]), 0.0)


@pytest.mark.parametrize(
    ("pattern", "name", "ok"),
    [
        ("*base*", "base", True),
        ("*base*", "lib/base", False),  # `*` never crosses a `/`
        ("*/*", "lib/base:2", True),
        ("b?se", "base", True),
        ("b[a-c]se", "base", True),
        ("b[^a]se", "base", False),
        ("b[^x]se", "base", True),
        ("b\\ase", "base", True),
        ("base", "base:1", False),
    ],
)
def test_path_match_like_go(pattern, name, ok):
    assert path_match(pattern, name) is ok


@pytest.mark.parametrize("pattern", ["[", "a[", "[]", "a\\", "[a-"])
def test_bad_patterns(pattern):
    with pytest.raises(BadPattern, match="syntax error in pattern"):
        path_match(pattern, "x")


def test_familiar_match_tries_the_name_too():
    assert familiar_match("base", "base:1", "base")
    assert familiar_match("base:1", "base:1", "base")
    assert not familiar_match("base:2", "base:1", "base")
