# Pegasus Workbench: `make demo` and `make test` are all a fresh machine needs.
# Every target is idempotent; a second run only does what is out of date.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SEED   ?= 42
SCALE  ?= 1
OUT    ?= out
WORLD  := $(OUT)/sample_world
export WORKBENCH_DB ?= $(OUT)/workbench.duckdb
ASSETS_DIR := $(VENV)/share/workbench-assets

.PHONY: setup browser assets demo test lab bench lock clean help

help:
	@echo "make demo   - set up .venv, generate the sample world, load it, write outputs under $(OUT)/"
	@echo "make test   - set up .venv (and Debian chromium if missing) and run every test"
	@echo "make lab    - JupyterLab on 127.0.0.1 with the curated notebooks"
	@echo "make bench  - run benchmarks/ (JSON under $(OUT)/bench/)"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s)" % sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (workbench)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for the browser tests (Playwright drives it; its own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian chromium for browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

# Offline JS/CSS for rendered maps: npm pack at pinned versions, integrity-checked against
# workbench/maps_assets.lock.json, extracted under .venv (never committed; maps never use a CDN).
$(ASSETS_DIR)/.complete: workbench/maps_assets.lock.json scripts/fetch_map_assets.py | $(STAMP)
	$(BIN)/python scripts/fetch_map_assets.py --dest $(ASSETS_DIR)

assets: $(ASSETS_DIR)/.complete

demo: setup assets
	$(BIN)/workbench sample --seed $(SEED) --scale $(SCALE) --out $(WORLD) --reuse
	$(BIN)/workbench ingest $(WORLD)/extracts --db $(WORKBENCH_DB)
	$(BIN)/workbench geo enrich --db $(WORKBENCH_DB)
	$(BIN)/workbench map forces --out $(OUT)/maps/forces.html --db $(WORKBENCH_DB)
	$(BIN)/workbench hotspots plan --force "West Yorkshire" --period next-week --out $(OUT)/plans/west-yorkshire --db $(WORKBENCH_DB)
	$(BIN)/workbench hotspots map --out $(OUT)/maps/hotspots.html --db $(WORKBENCH_DB)
	$(BIN)/workbench summary --db $(WORKBENCH_DB) --world $(WORLD)

test: setup browser assets
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lab: setup
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser --allow-root --IdentityProvider.token='' --notebook-dir notebooks

bench: setup
	$(BIN)/python -m benchmarks.run --out $(OUT)/bench

# Refresh constraints.txt from a clean resolve of pyproject.toml (needs the registries).
lock:
	rm -rf /tmp/wb-lock && $(PYTHON) -m venv /tmp/wb-lock && /tmp/wb-lock/bin/pip install -q '.[dev]' \
	  && /tmp/wb-lock/bin/pip freeze --exclude pegasus-workbench > constraints.txt.new && echo "wrote constraints.txt.new"

clean:
	rm -rf $(OUT)
