"""``python -m paywarden.benchmarks.payments [--quick]``."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
