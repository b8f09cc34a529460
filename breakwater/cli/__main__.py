"""``python -m breakwater.cli``: the ``breakwater`` command."""

from __future__ import annotations

import sys

from breakwater.cli.app import main

sys.exit(main())
