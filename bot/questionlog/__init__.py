"""The question log: what readers asked and how they rated the answers, for the curator.

Knows nothing of Telegram. ``store`` talks to the database (SQLAlchemy Core: SQLite or
PostgreSQL), ``schema`` owns the tables and their migrations, ``privacy`` the keyed hashes that
stand in for readers, ``writer`` the background thread that keeps the database off the event loop.
"""

from bot.questionlog.privacy import Pseudonymizer
from bot.questionlog.store import Store, database_url
from bot.questionlog.writer import QuestionLog

__all__ = ["Pseudonymizer", "QuestionLog", "Store", "database_url"]
