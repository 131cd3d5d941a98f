# Two commands on a fresh machine:  make demo   |   make test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test env clean-outputs

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet -e '.[signformer]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

env: $(BIN)/.installed

# The main job on the bundled demo data: every notebook through papermill, reports in outputs/.
demo: env
	$(BIN)/slt-nb demo

# Lint first (seconds), then the suite on every core (pytest-xdist); one test: $(BIN)/python -m pytest tests/datasets/test_lsfb.py -k frame_range
test: env
	$(BIN)/ruff check slt_nb tests benchmarks data notebooks
	$(BIN)/python -m pytest -q -n auto

clean-outputs:
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
