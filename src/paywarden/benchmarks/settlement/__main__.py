"""``python -m paywarden.benchmarks.settlement [--quick]``."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
