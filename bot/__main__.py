"""`python -m bot`: the single entry point for people and scripts."""

import sys

from bot import hangup

hangup.install_early()  # first, before the slow imports: a SIGHUP now must not kill the bot

from bot.cli import main  # noqa: E402

sys.exit(main())
