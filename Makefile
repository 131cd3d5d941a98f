# Two commands on a fresh machine:  make demo   |   make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test env clean-outputs

# One resolve for the pins and the package. The newer pip resolves this set faster than Python
# 3.11's own. pip compiles the installed modules one file at a time; compileall does the same on
# every core (the machine sets PYTHONDONTWRITEBYTECODE, so a module left uncompiled would be
# compiled again by every process that imports it). compileall exits 1 for the few files in the
# packages that are no Python 3 source (templates, fixtures), which pip skips the same way.
$(BIN)/.installed: requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -r requirements.txt -e '.[signformer]'
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

env: $(BIN)/.installed

# The main job on the bundled demo data: every notebook through papermill, reports in outputs/.
demo: env
	$(BIN)/slt-nb demo

# Lint first (seconds), then the suite on every core (pytest-xdist); one test: $(BIN)/python -m pytest tests/datasets/test_lsfb.py -k frame_range
# worksteal: a worker that runs out takes half of another's queue. xdist's default (load) hands each
# worker runs of consecutive tests and never takes them back, so where long tests sit together one
# worker can idle for minutes while the other works through them (measured once: 164 s idle of 368).
test: env
	$(BIN)/ruff check slt_nb tests benchmarks data notebooks
	$(BIN)/python -m pytest -q -n auto --dist worksteal

clean-outputs:
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
