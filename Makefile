# webtensor: `make test` runs every test pass, `make demo` runs the app. Both set
# themselves up on a fresh machine (venv, pip, npm, Debian packages where missing).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup sysdeps docs lint test test-core test-distribute test-gpu test-browser test-wasm wasm web digits demo demo-port loadtest fuzz bench stats clean

setup: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,serve,wasm,gpu,web]'
	touch $@

sysdeps:
	bash build/system_deps.sh

## test: the whole suite. Each backend pass runs the same test files.
test: setup sysdeps lint test-core test-gpu test-wasm test-browser test-distribute

## lint: ESLint on web/ and the package's .mjs (eslint.config.mjs), then ruff check (undefined names,
## unused bindings, bad statements) and ruff format --check (one layout) on the Python ([tool.ruff] in pyproject.toml)
lint: setup node_modules/.installed
	node_modules/.bin/eslint web core/webtensor
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test-core: setup $(VENV)/.docs
	$(PY) -m pytest -q --backend=numpy tests --ignore=tests/browser --ignore=tests/wasm --ignore=tests/gpu \
	  --ignore=tests/distribute --ignore=tests/runtime --ignore=tests/backends

## docs: the documentation site (mkdocs-material + mkdocstrings) into build/docs-site, warnings as
## errors; tests/docs builds it too and runs the guide's code blocks
docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict -q
	@echo "docs: build/docs-site/index.html"
$(VENV)/.docs: pyproject.toml | setup
	$(PY) -m pip install -q -e '.[docs]'
	touch $@

## test-distribute: tf.distribute in one process, then 2 workers on a local Ray cluster (the `distribute` extra)
test-distribute: setup $(VENV)/.distribute
	$(PY) -m pytest -q tests/distribute
$(VENV)/.distribute: pyproject.toml | setup
	$(PY) -m pip install -q -e '.[distribute]'
	touch $@

## test-gpu: every GPU primitive against numpy on wgpu-py (lavapipe on CPU hosts; tests/backends),
## the device tests, then the core and Keras tests on the GPU backend; fails (never skips) when no
## adapter is found
test-gpu: setup sysdeps
	WEBTENSOR_REQUIRE_GPU=1 $(PY) -m pytest -q --backend=gpu tests/backends
	WEBTENSOR_REQUIRE_GPU=1 $(PY) -m pytest -q tests/gpu
	$(PY) -m pytest -q --backend=gpu tests/core tests/keras

## wasm: kernels/*.c -> the one WebAssembly module (clang + lld; see README "WebAssembly kernels")
WASM := core/webtensor/backends/kernels/webtensor_kernels.wasm
wasm: $(WASM)
$(WASM): build/wasm.sh build/gen_codes.py core/webtensor/backends/base.py core/webtensor/backends/wasm/__init__.py core/webtensor/dtypes.py $(wildcard kernels/*.c kernels/*.h)
	bash build/wasm.sh

## test-wasm: every primitive against numpy, the page runtime in Node (tests/runtime), then the
## core and Keras tests on the kernels
test-wasm: setup sysdeps wasm
	$(PY) -m pytest -q --backend=wasm tests/backends
	$(PY) -m pytest -q tests/wasm tests/runtime
	$(PY) -m pytest -q --backend=wasm tests/core tests/keras

## web: the static site that runs webtensor in a page (build/dist/site; see README "In the page")
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

## digits: the digits split as a binary file for places without scikit-learn (the page)
DIGITS := tests/data/digits_split.bin
digits: $(DIGITS)
$(DIGITS): build/make_digits.py tests/digits.py | setup
	$(PY) build/make_digits.py $(DIGITS)

web: setup node_modules/.installed wasm $(DIGITS)
	$(PY) build/make_site.py
	$(PY) build/make_runtime.py

## test-browser: Debian's Chromium (Playwright) runs the site, and the core and Keras
## test files inside it with pytest in Pyodide, on WebGPU (SwiftShader) and on wasm
test-browser: setup sysdeps web
	$(PY) build/make_site.py test-wheels
	$(PY) -m pytest -q tests/browser

## demo: the web app on http://127.0.0.1:$(PORT) (gallery, draw a digit, train in the page, the
## regression lesson) served with the REST API; trains the demo models into models/ if missing.
## Fails at once, before any build, when the port is taken.
PORT ?= 8000
demo: demo-port setup sysdeps web
	$(PY) demos/train_demo_models.py --models models
	$(PY) -m webtensor site models build/dist/app --runtime build/dist/site
	@echo "webtensor demo: open http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(PY) -m webtensor serve --models models --app build/dist/app --host 127.0.0.1 --port $(PORT)

demo-port:
	@$(PYTHON) -c "import socket, sys; taken = socket.socket().connect_ex(('127.0.0.1', $(PORT))) == 0; \
	  sys.exit('make demo: port $(PORT) is taken on 127.0.0.1 (try make demo PORT=8001)' if taken else 0)"

## loadtest: concurrent predict clients while 10 new model versions are hot-swapped in (not in CI)
loadtest: setup
	env -u OPENBLAS_CORETYPE $(PY) benchmarks/load_test.py

## fuzz: 10,000 seeded mutations each of a model file, a weights file, a .keras and a legacy .h5 (child-process importer) and a SavedModel directory; only ValueError allowed; 2,000 each of PNG/JPEG files through decode_image, only InvalidArgumentError allowed (CI runs a bounded subset)
fuzz: setup
	$(PY) benchmarks/fuzz_model_files.py --count 10000
	$(PY) benchmarks/fuzz_images.py --count 2000

## stats: lines of code per layer (a gauge, not a gate)
stats:
	$(PYTHON) build/stats.py

bench: setup
	env -u OPENBLAS_CORETYPE $(PY) benchmarks/eager_overhead.py
	env -u OPENBLAS_CORETYPE $(PY) benchmarks/digits_fit.py

clean:
	rm -rf $(VENV) build/dist .pytest_cache
