# Two commands do all set-up on a fresh machine: `make book` and `make test`.
# Each creates .venv when missing and installs what it needs, idempotently.

PYTHON_BOOTSTRAP ?= python3
VENV      := .venv
BIN       := $(abspath $(VENV))/bin
PY        := $(BIN)/python
# nbgrader shells out to `alembic`, so the venv's bin must be on PATH.
export PATH := $(BIN):$(PATH)

# A bare `torch` requirement pulls a CUDA build of several GB: install the CPU
# build first. Elsewhere set TORCH_INDEX=https://download.pytorch.org/whl/cpu.
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
TORCH_INDEX_FLAG := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)

STAMP     := $(VENV)/.installed
BOOK_OPTS ?=

.PHONY: help venv book browser-deps test test-fast data release grade benchmark clean

help:
	@echo "make book       build the online book into _build/html"
	@echo "make test       run the test suite (builds the book for the browser test)"
	@echo "make test-fast  unit tests only (no book, no browser, no nbgrader)"
	@echo "make release    regenerate exercises/ from solutions/ (nbgrader)"
	@echo "make grade      autograde every submission, write feedback and grades"
	@echo "make benchmark  print the rating-quality and ranking tables on MovieLens 100K"
	@echo "make data       fetch and verify MovieLens 100K into the local cache"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_SPEC) $(TORCH_INDEX_FLAG)
	$(PY) -m pip install --quiet -e ".[book,grading,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (recsys)" >/dev/null
	touch $(STAMP)

data: $(STAMP)
	$(PY) -m recsys_ref.data

# Strict: any Sphinx warning or failing notebook cell fails the build. The
# execution cache (_build/.jupyter_cache) makes rebuilds of unchanged chapters fast.
book: $(STAMP) data
	rm -rf _build/html
	$(BIN)/jupyter-book build . --path-output . -W -n --keep-going $(BOOK_OPTS)

# Headless Chromium for tests/test_book_browser.py (Debian's package; needs root).
browser-deps:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

test: $(STAMP) book browser-deps
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not movielens and not browser and not nbgrader"

# Regenerate exercises/ from solutions/ (nbgrader generate_assignment); commit both.
release: $(STAMP)
	$(PY) scripts/release.py

# Autograde submitted/<student>/<assignment>/, write feedback/, grades.csv and a summary.
# ZIP=path/to/lms-download.zip imports a learning platform's zip first (nbgrader zip_collect);
# ASSIGNMENT=mf limits grading (and the zip import) to one assignment.
grade: $(STAMP)
	$(PY) scripts/grade.py $(if $(ZIP),--zip "$(ZIP)") $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

benchmark: $(STAMP) data
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/ranking.py

clean:
	rm -rf _build .pytest_cache
