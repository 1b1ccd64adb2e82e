# realtime_widget — the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_PY := $(VENV)/.stamp-install
STAMP_JS := node_modules/.stamp-install
BUNDLE := realtime_widget/static/widget.js
JS_SOURCES := $(shell find js -name '*.ts' -o -name '*.css' 2>/dev/null)

.PHONY: demo test install install-local build lint test-unit test-js test-ui test-local bench clean format

# ---------------------------------------------------------------- set-up
# package-lock.json too: a devDependency added there (axe-core for tests/ui's accessibility
# audit) reaches existing checkouts, not only fresh clones.
$(STAMP_JS): package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

$(BUNDLE): $(STAMP_JS) $(JS_SOURCES)
	npm run build

build: $(BUNDLE)

$(STAMP_PY): pyproject.toml $(BUNDLE)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e ".[dev]"
	@touch $@

install: $(STAMP_PY) $(BUNDLE)

# The local pipeline's extras and test models. llama-cpp-python compiles from its sdist (about
# 6 minutes on 2 cores): its wheel is built once into WHEELS and found there by later runs.
WHEELS ?= $(HOME)/.cache/realtime_widget/wheels
LLAMA := llama-cpp-python==0.3.36
STAMP_LOCAL := $(VENV)/.stamp-local
$(STAMP_LOCAL): $(STAMP_PY)
	mkdir -p $(WHEELS)
	ls $(WHEELS)/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
	  CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) wheel --no-deps -w $(WHEELS) $(LLAMA)
	$(PIP) install --find-links $(WHEELS) "$(LLAMA)" -e ".[dev,local,piper]"
	$(PIP) install --find-links $(WHEELS) "$(LLAMA)" "llama-cpp-python[server]==0.3.36"
	$(PY) -m tests.local.models
	@touch $@

install-local: $(STAMP_LOCAL)

# ---------------------------------------------------------------- the product
# JupyterLab on the quickstart notebook; with no OPENAI_API_KEY the widget uses the embedded server.
# Root (containers, CI boxes) needs --allow-root; the server listens on loopback only.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# With the local pipeline installed (`make test` installs it with its test models), the widget
# answers by voice offline with them; otherwise its notice says how to get it.
MODELS := $(HOME)/.cache/realtime_widget/test-models
demo: install
	@if [ -f $(STAMP_LOCAL) ] && [ -f $(MODELS)/.verified ]; then \
	  echo "offline voice: the local pipeline with the test models in $(MODELS)"; \
	  export REALTIME_WIDGET_STT=$(MODELS)/whisper-base \
	    REALTIME_WIDGET_LLM=$(MODELS)/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \
	    REALTIME_WIDGET_LLM_SHA256=$$($(PY) -c 'from tests.local.models import LLM_SHA256 as h; print(h)') \
	    REALTIME_WIDGET_TTS=$(MODELS)/piper/en_US-joe-medium.onnx; \
	else echo "offline echo demo: the local pipeline is not installed (make test installs it)"; fi; \
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 $(ALLOW_ROOT) --ServerApp.root_dir=notebooks \
	  --LabApp.default_url=/lab/tree/01_quickstart.ipynb

# ---------------------------------------------------------------- checks
lint: install
	$(VENV)/bin/ruff check realtime_widget tests bench
	$(VENV)/bin/ruff format --check realtime_widget tests bench
	npx tsc --noEmit

format: install
	$(VENV)/bin/ruff format realtime_widget tests bench
	$(VENV)/bin/ruff check --fix realtime_widget tests bench

test-unit: install
	$(PY) -m pytest -q -p no:cacheprovider

test-js: install
	npx vitest run

# Real-browser tier: JupyterLab (and Notebook 7, marimo, Voilà) + Debian's Chromium via Playwright (fails, not skips, when CI=true
# and Chromium is missing). Its offline-voice tests use the local pipeline's models.
test-ui: install-local
	$(PY) -m pytest -q -p no:cacheprovider -m ui tests/ui

# Local tier: the embedded server with real models (whisper base, a 0.5B GGUF, a Piper voice).
test-local: install-local
	$(PY) -m pytest -q -p no:cacheprovider -m local tests/local

test: lint test-js test-unit test-ui test-local

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) node_modules realtime_widget/static .pytest_cache test-artifacts
