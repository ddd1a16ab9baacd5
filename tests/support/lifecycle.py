"""The events automaton of a container's lifecycle (Docker 20.10, moby.md §5): which event
may follow which. The lifecycle state machine (tests/daemon) and the concurrency hammer
(tests/reliability) check that every container's event stream is a legal path through it.
"""

from __future__ import annotations

# events automaton: state -> action -> next state ("R" running, "P" paused, "C" created,
# "X" exited or waiting for a policy restart, "D" destroyed)
EVENTS = {
    "C": {"start": "R", "destroy": "D", "rename": "C", "commit": "C"},
    "R": {"pause": "P", "kill": "R", "die": "X", "restart": "R", "rename": "R", "commit": "R",
          "exec_create": "R", "exec_start": "R", "exec_die": "R"},
    "P": {"unpause": "R", "kill": "P", "die": "X", "rename": "P", "commit": "P"},
    "X": {"start": "R", "stop": "X", "destroy": "D", "rename": "X", "commit": "X"},
    "D": {},
}  # fmt: skip


def legal_event_path(actions: list[str]) -> bool:
    """Whether a container's event actions, oldest first, are a path through `EVENTS` from
    `create` (`exec_start: sh` counts as `exec_start`)."""
    state = None
    for a in actions:
        a = a.split(":")[0]
        if state is None:
            if a != "create":
                return False
            state = "C"
            continue
        nxt = EVENTS[state].get(a)
        if nxt is None:
            return False
        state = nxt
    return True
