"""busybox ash's `sh -c` subset: parser → bytecode compiler → resumable machine.

parser.py (syntax tree, ash's syntax errors), compiler.py (bytecode), expand.py (word
expansion), arith.py (`$((...))`), vm.py (frames, jobs, scheduling), builtins.py.
"""
