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
LAB_PORT ?= 8888
LAB_TOKEN_FILE ?= $(VENV)/.lab_token
DASH_PORT ?= 8866
DASH_TOKEN_FILE ?= $(VENV)/.dashboards_token

.PHONY: setup browser java assets demo test lab dashboards bench mutation lock clean help

help:
	@echo "make demo   - set up .venv (and Debian chromium if missing), generate the sample world, load it, write outputs under $(OUT)/"
	@echo "make test   - set up .venv (and Debian chromium if missing) and run every test"
	@echo "make lab    - JupyterLab on 127.0.0.1:$(LAB_PORT) with the curated notebooks (token in $(LAB_TOKEN_FILE))"
	@echo "make dashboards - Voila on 127.0.0.1:$(DASH_PORT): patrol plan, national picture, guided demonstration (token in $(DASH_TOKEN_FILE))"
	@echo "make bench  - run benchmarks/ (JSON under $(OUT)/bench/)"
	@echo "make mutation [MUTATION_MODULES='rules quarantine'] - mutation testing of the core modules (slow; $(OUT)/mutation/)"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s)" % sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (workbench)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for the PNG products and the browser tests (Playwright drives it; its own browser
# download cannot work offline). Non-interactive as root or with passwordless sudo; when it cannot
# install, one warning line and the PNGs are skipped (fails under CI instead).
browser:
	@sh scripts/install_chromium.sh

# Debian's Java (openjdk-17-jre-headless) for the Spark linkage backend (pyspark local mode; docs/scaling.md).
# Non-interactive like the browser; fails under CI when it cannot install.
java:
	@sh scripts/install_java.sh

# Offline JS/CSS for rendered maps: npm pack at pinned versions, integrity-checked against
# workbench/maps_assets.lock.json, extracted under .venv (never committed; maps never use a CDN).
$(ASSETS_DIR)/.complete: workbench/maps_assets.lock.json scripts/fetch_map_assets.py | $(STAMP)
	$(BIN)/python scripts/fetch_map_assets.py --dest $(ASSETS_DIR)

# Voila's page assets (Font Awesome; workbench/voila_assets.lock.json, npm, integrity-checked) and the Voila
# template "workbench" that serves them locally, installed in the venv as Voila's default (docs/dashboards.md).
VOILA_TEMPLATE := $(VENV)/share/jupyter/voila/templates/workbench/.installed
$(VOILA_TEMPLATE): workbench/voila_assets.lock.json $(wildcard workbench/voila_template/*) scripts/fetch_voila_assets.py scripts/fetch_map_assets.py | $(STAMP)
	$(BIN)/python scripts/fetch_voila_assets.py --dest $(ASSETS_DIR) --prefix $(VENV)

assets: $(ASSETS_DIR)/.complete $(VOILA_TEMPLATE)

demo: setup browser assets
	$(BIN)/workbench sample --seed $(SEED) --scale $(SCALE) --out $(WORLD) --reuse
	$(BIN)/workbench ingest $(WORLD)/extracts --db $(WORKBENCH_DB)
	$(BIN)/workbench geo enrich --db $(WORKBENCH_DB)
	$(BIN)/workbench map forces --out $(OUT)/maps/forces.html --db $(WORKBENCH_DB)
	$(BIN)/workbench hotspots plan --force "West Yorkshire" --period next-week --out $(OUT)/plans/west-yorkshire --db $(WORKBENCH_DB)
	$(BIN)/workbench hotspots map --out $(OUT)/maps/hotspots.html --db $(WORKBENCH_DB)
	$(BIN)/workbench link run --db $(WORKBENCH_DB)
	$(BIN)/workbench link export --groups-only --out $(OUT)/charts/national.html --db $(WORKBENCH_DB)
	$(BIN)/workbench link export --groups-only --out $(OUT)/charts/national.anx --db $(WORKBENCH_DB)
	$(BIN)/workbench crossborder render --most-cross-border --out $(OUT)/crossborder --db $(WORKBENCH_DB)
	$(BIN)/workbench crossborder tactics --out $(OUT)/crossborder --db $(WORKBENCH_DB)
	$(BIN)/workbench package build --most-cross-border --out $(OUT)/packages/most-cross-border --purpose "demo: handover package of the most cross-border group" --db $(WORKBENCH_DB)
	$(BIN)/workbench package review $(OUT)/packages/most-cross-border --db $(WORKBENCH_DB)
	$(BIN)/workbench package approve $(OUT)/packages/most-cross-border --purpose "demo: approved for handover" --db $(WORKBENCH_DB)
	$(BIN)/workbench package build --most-cross-border --out $(OUT)/packages/most-cross-border --purpose "demo: the approved handover package" --db $(WORKBENCH_DB)
	$(BIN)/workbench package verify $(OUT)/packages/most-cross-border --db $(WORKBENCH_DB)
	$(BIN)/workbench training build --case cross-border --out $(OUT)/training --seed $(SEED) --source $(WORKBENCH_DB)
	$(BIN)/workbench summary --db $(WORKBENCH_DB) --world $(WORLD)
	$(BIN)/workbench audit verify --db $(WORKBENCH_DB)

test: setup browser java assets
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# Token auth on 127.0.0.1 only: the token (made once, mode 600) goes to Jupyter in JUPYTER_TOKEN, never on a
# command line; no port retries, so the URL printed is the one served.
lab: setup
	@TOKEN=$$($(BIN)/python scripts/lab_token.py $(LAB_TOKEN_FILE)) || exit 1; \
	echo "JupyterLab: http://127.0.0.1:$(LAB_PORT)/lab?token=$$TOKEN (token kept in $(LAB_TOKEN_FILE))"; \
	JUPYTER_TOKEN=$$TOKEN exec $(BIN)/jupyter lab --ip 127.0.0.1 --port $(LAB_PORT) --ServerApp.port_retries=0 \
	  --no-browser --allow-root --notebook-dir notebooks

# The dashboards (notebooks/dashboards/) and the guided demonstration (notebooks/06_training_demo.ipynb) served by
# Voila on 127.0.0.1 only, token auth (JUPYTER_TOKEN, never on a command line), the offline workbench template
# (docs/dashboards.md); prints each page's URL. Needs the store (make demo).
dashboards: setup assets
	$(BIN)/python scripts/dashboards.py --port $(DASH_PORT) --token-file $(DASH_TOKEN_FILE) --db $(WORKBENCH_DB)

bench: setup
	$(BIN)/python -m benchmarks.run --out $(OUT)/bench

# Mutation testing (mutmut, the `mutation` extra; slow, so not part of `make test` or CI): each core module against
# its own test files in a scratch copy under $(OUT)/mutation/<module>/, results in $(OUT)/mutation/*.json
# (docs/testing.md, "Mutation testing"). MUTATION_MODULES picks some (scripts/mutation.py --list names them).
MUTATION_MODULES ?=
$(VENV)/.mutation-installed: pyproject.toml constraints.txt | $(STAMP)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[mutation]'
	touch $@

mutation: $(VENV)/.mutation-installed
	nice -n 10 $(BIN)/python scripts/mutation.py $(MUTATION_MODULES)

# Refresh constraints.txt from a clean resolve of pyproject.toml (needs the registries).
lock:
	rm -rf /tmp/wb-lock && $(PYTHON) -m venv /tmp/wb-lock && /tmp/wb-lock/bin/pip install -q '.[dev]' \
	  && /tmp/wb-lock/bin/pip freeze --all --exclude pegasus-workbench --exclude pip > constraints.txt.new && echo "wrote constraints.txt.new"

clean:
	rm -rf $(OUT)
