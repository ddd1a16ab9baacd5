"""The format version of a process's persisted state (state.py declares the state).

Kept apart so that reading a saved process's version (the daemon's restore does, for every
running container) does not load the state's declarations.
"""

#: The state's format; `Process.from_state` refuses any other.
STATE_VERSION = 1
