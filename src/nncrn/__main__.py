"""``python -m nncrn`` runs the command-line interface."""

import sys

from nncrn.cli import main

sys.exit(main())
