# sms-board: `make run` starts the board with demo data; `make test` runs every test.
# `make faults` runs the fault suite alone and writes its figures into docs/reliability.md;
# `make faults NIGHTLY=1` runs its long variant (more kills, rounds and fuzz examples).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000

NIGHTLY ?=

.PHONY: install run test faults bench lint format words word-lists messages screenshots clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sms-board needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# A development board whatever .env says: the console transport and no Twilio credentials (the
# only board with the simulator), so no text leaves the machine. The board still reads the rest of .env.
run: install
	$(BIN)/sms-board db upgrade
	$(BIN)/sms-board demo
	@echo
	@echo "  sms-board is starting on the console transport (no texts leave this machine)."
	@echo "  Simulator: http://$(HOST):$(PORT)/simulator"
	@echo "  Dashboard: http://$(HOST):$(PORT)/login as Ruth, 07700 900001, the demo's organiser and an administrator"
	@echo "             (her sign-in code is printed here, and shown on her phone in the simulator)"
	@echo "  Or from another shell: $(BIN)/sms-board simulate +447700900123 \"JOIN ELM\""
	@echo
	SMS_BOARD_TRANSPORT=console TWILIO_ACCOUNT_SID= TWILIO_AUTH_TOKEN= \
		PATH="$(abspath $(BIN)):$$PATH" HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start -e /dev/null -f Procfile.dev

# Two passes: everything but the fault suite spread over the machine's cores (pytest-xdist, one
# process per core, each with its own databases), then the fault suite alone, whose real processes
# and kill timings want the machine to themselves. Either pass failing (or running no test) fails make.
TEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not faults"
	$(BIN)/python -m pytest -m faults tests/faults

faults: install
	SMS_BOARD_FAULTS_REPORT=docs/reliability.md SMS_BOARD_FAULTS_NIGHTLY=$(if $(filter 1 yes true on,$(NIGHTLY)),1,0) \
		$(BIN)/python -m pytest -m faults tests/faults

# The benchmarks whose figures bench/RESULTS.md records, one after another in one run, on
# PostgreSQL at 127.0.0.1 (wrk from Debian for the webhook). Not part of the tests.
bench: install
	$(BIN)/python bench/bench_webhook.py --seconds 8 --rounds 3 --concurrency 10,50
	$(BIN)/python bench/bench_fanout.py --sizes 10000,100000,1000000
	$(BIN)/python bench/bench_sender.py --rates 100,200 --seconds 10
	$(BIN)/python bench/bench_sender.py --rates 300 --seconds 10 --processes 2
	$(BIN)/python bench/bench_report.py --sizes 10000,100000,1000000 --repeat 3

# The dashboard's browser tests, saving each main page to docs/screenshots/ for the README; and a poster's first page.
screenshots: install
	SMS_BOARD_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/web/test_dashboard_browser.py tests/printing -k sqlite

lint: install
	$(BIN)/ruff check sms_board tests migrations bench

format: install
	$(BIN)/ruff format sms_board tests migrations bench

# The everyday words typo tolerance skips (translations/<code>/everyday_words.txt), from each
# language's word list and the keywords of every pack. Run it after adding or renaming a keyword.
words: install
	$(BIN)/python -m tests.support.everyday_words

# Each pack's word list (translations/<code>/words.txt.gz) made again from its source: Welsh from
# Debian's aspell-cy (apt-get install aspell aspell-cy), Polish from wordfreq 3.1.1 (installed in a
# throwaway virtualenv); then `make words`. docs/translations.md, "Typo tolerance in every language".
word-lists: install
	$(BIN)/python translations/tools/word_lists.py
	$(MAKE) words

clean:
	rm -rf $(VENV) .pytest_cache

# Language packs: extract every text's words (babel.cfg) into translations/sms.pot and every page's
# (babel-web.cfg) into translations/web.pot, then bring each pack's catalogs (sms.po, web.po) up to date
# with them (new words appear untranslated, and the tests fail until a translator fills them in; words
# that are gone leave the catalogs). tests/support/catalogs.py; docs/translations.md.
messages: install
	$(BIN)/python -m tests.support.catalogs
