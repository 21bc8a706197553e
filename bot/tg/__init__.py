"""The Telegram layer: turns updates into engine calls and replies into Telegram messages."""
