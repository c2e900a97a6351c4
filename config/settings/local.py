"""Developer machine and `make run`: debug on, everything else from base (embedded unless env says otherwise)."""

import os

os.environ.setdefault("OVERSIGHT_DEBUG", "1")

from config.settings.base import *  # noqa: F403
