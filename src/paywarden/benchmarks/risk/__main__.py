"""``python -m paywarden.benchmarks.risk [--quick]``."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
