# coenforce: `make run` to try it, `make test` to test it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: install run test browser translations extract-messages migrate seed bench clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## install: create .venv and install the pinned dependencies
install: $(STAMP) translations

## translations: compile the message catalogs (.po -> .mo)
translations: $(STAMP)
	$(VENV)/bin/pybabel -q compile -d coenforce/translations

## extract-messages: refresh the catalogs from the code and templates
extract-messages: $(STAMP)
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--omit-header -o coenforce/translations/messages.pot .
	$(VENV)/bin/pybabel -q update --no-fuzzy-matching -i coenforce/translations/messages.pot \
		-d coenforce/translations

migrate: install
	$(FLASK) migrate

seed: migrate
	$(FLASK) seed-demo

## run: migrate, seed the demo once, and serve the app with its scheduler on :5000
## Both run in the background and the shell waits for them: `wait` returns at once on
## Ctrl-C or a TERM (which make passes on), so the trap stops both and waits for the
## scheduler to finish its sends. A background job ignores Ctrl-C, hence TERM.
PORT ?= 5000
run: seed
	@echo "Starting the scheduler and the web server on http://127.0.0.1:$(PORT) (Ctrl-C stops both)"
	@$(FLASK) scheduler & SCHED=$$!; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload & WEB=$$!; \
	trap 'trap "" INT TERM; kill -TERM $$WEB $$SCHED 2>/dev/null; wait; exit 0' INT TERM; \
	wait $$WEB; status=$$?; \
	kill -TERM $$SCHED 2>/dev/null; wait $$SCHED; exit $$status

## test: the whole suite on SQLite, then on PostgreSQL when COENFORCE_TEST_DATABASE_URL is set
test: install
	COENFORCE_ENV=testing $(PY) -m pytest
	@if [ -n "$$COENFORCE_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$COENFORCE_TEST_DATABASE_URL)"; \
		COENFORCE_ENV=testing COENFORCE_TEST_BACKEND=postgresql $(PY) -m pytest; \
	else \
		echo "== COENFORCE_TEST_DATABASE_URL is not set: the PostgreSQL run is skipped"; \
	fi

## browser: Debian's chromium for the browser tests (needs root and apt; Playwright drives it)
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium is installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "install Debian's chromium (apt-get install chromium) to run the browser tests"; exit 1; fi

## bench: a quick run of the escalation benchmark; the full one (10,000 and 1,000,000
## complaints, some minutes) is `.venv/bin/python bench/escalation.py`
bench: install
	$(PY) bench/escalation.py --sizes 1000,10000 --outage 2000

clean:
	rm -rf $(VENV) .pytest_cache
