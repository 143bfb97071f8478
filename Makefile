# webtensor: `make test` runs every test pass, `make demo` runs the app. Both set
# themselves up on a fresh machine (venv, pip, npm, Debian packages where missing).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup sysdeps test test-core demo bench clean

setup: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

sysdeps:
	bash build/system_deps.sh

## test: the whole suite. Each backend pass runs the same test files.
test: setup sysdeps test-core

test-core: setup
	$(PY) -m pytest -q tests

demo: setup
	$(PY) demos/linear_regression.py

bench: setup
	env -u OPENBLAS_CORETYPE $(PY) benchmarks/eager_overhead.py

clean:
	rm -rf $(VENV) build/dist .pytest_cache
