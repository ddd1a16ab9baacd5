"""Helpers and corpora that several suites share (imported as `tests.support.<module>`); a
helper that one suite alone uses stays in that suite's package (e.g. tests/layer/layertest.py).
"""
