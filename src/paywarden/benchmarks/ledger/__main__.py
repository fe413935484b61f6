"""``python -m paywarden.benchmarks.ledger [--quick]``."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
