"""busybox ash's `sh -c` subset: parser → bytecode compiler → resumable machine.

parser.py (syntax tree, ash's syntax errors), compiler.py (bytecode), expand.py (word
expansion), arith.py (`$((...))`); the machine: state.py (its persisted state, declared),
core.py (the primitives on it), ops.py (the instructions), builtins.py, programs.py
(applets, shells, scripts), vm.py (the run loop: scheduling, steps, frames ending).
"""
