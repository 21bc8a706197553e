# Two commands do all the set-up: `make run` and `make test` (each creates .venv when needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench catalogues

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

test: $(STAMP)
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m bot check
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

# The bot's sentences (README, "Languages"): collect them from the code into bot/locale/bot.pot,
# merge new ones into every bot.po (translate them there), then compile the bot.mo files the bot reads.
BABEL_KEYWORDS := -k N_plural:1,2 -k h_
catalogues: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file --sort-by-file \
		--no-wrap --omit-header -o bot/locale/bot.pot bot
	$(BIN)/pybabel update -i bot/locale/bot.pot -d bot/locale -D bot --no-wrap --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d bot/locale -D bot --statistics
