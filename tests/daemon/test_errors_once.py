"""Docker's texts for container operations are written once, in dockerlayers/daemon/errors.py,
and each of them is what the API gives back."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

import dockerlayers.daemon.errors as errors
from dockerlayers.errors import APIError, Conflict

DAEMON = pathlib.Path(errors.__file__).parent

#: Patterns of the texts (matched against the string constants of the daemon's modules,
#: docstrings left out; an f-string's constant parts are matched one by one).
TEXTS = [
    "is not running$",
    "is not paused",
    "is already paused",
    "is restarting, wait until the container is running",
    "unpause the container before exec",
    "container is marked for removal and cannot be started",
    "is already in progress",
    "failed to remove root filesystem",
    "Cannot kill container",
    "Cannot restart container",
    "which is Dead",
    "which is being removed",
    "Error when allocating new name",
    "No command specified",
    "OCI runtime create failed",
    "OCI runtime exec failed",
]


def string_constants(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


@pytest.mark.parametrize("text", TEXTS)
def test_each_text_is_written_once_in_errors_py(text):
    where = {}
    for p in sorted(DAEMON.glob("*.py")):
        n = sum(1 for c in string_constants(p) if re.search(text, c))
        if n:
            where[p.name] = n
    assert where == {"errors.py": 1}


def test_the_kinds_are_dockers():
    assert isinstance(errors.not_running("abc"), Conflict)
    assert errors.not_paused("abc").status_code == 500
    assert str(errors.not_running("abc")) == "Container abc is not running"
    wrapped = errors.cannot_kill("web", errors.not_running("abc"))
    assert isinstance(wrapped, Conflict)
    assert str(wrapped) == "Cannot kill container: web: Container abc is not running"
    assert type(errors.cannot_restart("web", Conflict("x"))) is APIError


def test_a_refused_pause_says_so(client):
    c = client.containers.create(client.images.base(), ["true"])
    with pytest.raises(Conflict, match=f"^Container {c.id} is not running$"):
        c.pause()
