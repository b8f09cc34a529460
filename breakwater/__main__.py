"""``python -m breakwater``: the ``breakwater`` command."""

from __future__ import annotations

import sys

from breakwater.entry import main

sys.exit(main())
