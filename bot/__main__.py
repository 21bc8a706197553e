"""`python -m bot`: the single entry point for people and scripts."""

import sys

from bot.cli import main

sys.exit(main())
