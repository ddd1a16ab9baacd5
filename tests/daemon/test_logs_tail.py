"""`docker logs --tail N` reads the json-file log from its end (moby: pkg/tailfile), and
gives what a full read keeping the last N would: both streams counted together, `since`
and `until` applied, entries across read-block boundaries whole."""

from __future__ import annotations

import collections
import json
import random

import pytest

from dockerlayers.daemon import logs
from dockerlayers.process.clock import format_rfc3339nano


def _write_log(path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            text = "x" * rng.randrange(0, 300) + f" {i}\n"
            stream = rng.choice(["stdout", "stderr"])
            f.write(json.dumps({"log": text, "stream": stream, "time": format_rfc3339nano(i)}))
            f.write("\n")


@pytest.mark.parametrize("seed", range(6))
def test_tail_from_the_end_is_the_tail_of_a_full_read(tmp_path, seed):
    path = tmp_path / "c-json.log"
    _write_log(path, 2000, seed)
    rng = random.Random(seed)
    for _ in range(20):
        n = rng.choice([0, 1, 3, 50, 1999, 2000, 5000])
        out, err = rng.choice([(True, True), (True, False), (False, True)])
        since = rng.choice([None, 10.0, 1500.0, 1999.5])
        until = rng.choice([None, 1990.0, 500.0])
        with open(path) as f:
            full = logs._select(logs._entries(f), out, err, since, until)
            want = list(collections.deque(full, maxlen=n)) if n else []
        got = logs._tail_from_end(str(path), n, out, err, since, until)
        assert got == want, (n, out, err, since, until)


def test_small_blocks_split_lines_anywhere(tmp_path):
    path = tmp_path / "c-json.log"
    _write_log(path, 300, 99)
    with open(path, "rb") as f:
        backwards = list(logs._reversed_lines(f, block=7))
    assert backwards == path.read_text().splitlines()[::-1]
