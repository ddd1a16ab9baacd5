"""Test machinery shared by the test suites and tools/reliability.py: a filesystem fault
injector and the store's crash invariants. Nothing in the model imports it."""
