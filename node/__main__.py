"""`python -m node` is the `orechain` command."""

import sys

from node.cli import main

sys.exit(main())
