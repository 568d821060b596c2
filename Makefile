# Quickstart: `make demo` and `make test`; both create and use .venv.
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo lint test test-slow test-scale bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test]'
	touch $(STAMP)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP) $(STAMP)

SCALE_STAMP := $(VENV)/.installed-scale

$(SCALE_STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test,ray]'
	touch $(SCALE_STAMP) $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/stylefuse stylize examples/chelsea.jpg --style starry-night -o out/demo.jpg
	$(VENV)/bin/stylefuse sheet examples/chelsea.jpg -o out/demo-sheet.jpg
	$(VENV)/bin/stylefuse stylize examples/chelsea.jpg --style examples/swirls.png --method fast -o out/demo-painting.jpg

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks scripts examples

test: $(STAMP) lint
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# batch stylization on a local Ray cluster and on object-store URIs (pyarrow comes with the ray extra); CI runs it
test-scale: $(SCALE_STAMP)
	$(PY) -m pytest -q -m "" tests/frontends/test_batch_ray.py tests/frontends/test_batch_uri.py

bench: $(BENCH_STAMP)
	$(PY) benchmarks/suite.py

clean:
	rm -rf $(VENV) out
