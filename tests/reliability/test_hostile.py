"""The hostile-input corpus (tests/reliability/corpus.py) through the public client."""

from __future__ import annotations

import pytest

from tests.reliability.corpus import CASES, Env, run_case

GROUPS = sorted({c.group for c in CASES.values()})


@pytest.fixture(scope="module")
def envs(tmp_path_factory):
    made: dict[str, Env] = {}

    def get(driver: str) -> Env:
        if driver not in made:
            made[driver] = Env(str(tmp_path_factory.mktemp(f"hostile-{driver}")), driver)
        return made[driver]

    yield get
    for e in made.values():
        e.close()


def test_corpus_size(capsys):
    with capsys.disabled():
        counts = ", ".join(f"{g} {sum(c.group == g for c in CASES.values())}" for g in GROUPS)
        print(f"\nhostile corpus: {len(CASES)} cases ({counts})")
    assert sum(c.expect is not None for c in CASES.values()) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_cleanly(envs, name):
    assert run_case(envs(CASES[name].driver), name) == []
