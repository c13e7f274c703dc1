"""``python -m searchcore ...``: see ``searchcore.cli``."""

from __future__ import annotations

import sys

from searchcore.cli import main

if __name__ == "__main__":
    sys.exit(main())
