# Works on a fresh machine with Python 3.11: every target installs what it needs into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-scale load soak lint install clean gallery

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/avatar-emulator serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

lint: $(STAMP)
	$(BIN)/ruff check mockserver reference_engine contracts tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/avatar-emulator bench --out bench/results.json

gallery: $(STAMP)
	$(BIN)/python -m reference_engine.gallery --out docs/gallery

bench-scale: $(STAMP)
	$(BIN)/python -m mockserver.tools.bench_scale --out bench/scale.json

load: $(STAMP)
	$(BIN)/python -m mockserver.tools.load --seconds 10 --out bench/load.json

soak: $(STAMP)
	$(BIN)/python -m mockserver.tools.load --seconds 30 --soak-minutes 30 --out bench/soak.json

clean:
	rm -rf $(VENV) bench/results.json bench/load.json bench/soak.json bench/scale.json
