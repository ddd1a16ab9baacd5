"""`python -m dockerlayers ...`: the command line (see dockerlayers.cli)."""

import sys

from dockerlayers.cli import main

if __name__ == "__main__":
    sys.exit(main())
