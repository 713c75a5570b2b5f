# Two commands do all set-up on a fresh machine: `make book` and `make test`.
# Each creates .venv when missing and installs what it needs, idempotently.

PYTHON_BOOTSTRAP ?= python3
VENV      := .venv
BIN       := $(abspath $(VENV))/bin
PY        := $(BIN)/python
# nbgrader shells out to `alembic`, so the venv's bin must be on PATH.
export PATH := $(BIN):$(PATH)

# PyTorch: a CPU build by default, from PyTorch's CPU wheel index (a bare `torch`
# from PyPI is a CUDA build of several GB on Linux). Where that index cannot be
# reached, the default index is used instead (`make` says which). For a CUDA
# build: TORCH_INDEX=https://download.pytorch.org/whl/cu126 (or TORCH_INDEX=pypi).
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

STAMP     := $(VENV)/.installed
BOOK_OPTS ?=

.PHONY: help venv torch book browser-deps grade-deps test test-fast data release grade benchmark clean

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
	$(PY) -c "import torch" 2>/dev/null || $(MAKE) --no-print-directory torch
	$(PY) -m pip install --quiet -e ".[book,grading,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (recsys)" >/dev/null
	touch $(STAMP)

# Install PyTorch (see TORCH_INDEX above) and say which build and index it came from.
torch:
	@if [ "$(TORCH_INDEX)" != pypi ] && $(PY) -m pip install --quiet --timeout 20 --retries 1 \
		--index-url $(TORCH_INDEX) $(TORCH_SPEC); then echo "torch: installed from $(TORCH_INDEX)"; \
	else echo "torch: installing from the default package index"; $(PY) -m pip install --quiet $(TORCH_SPEC); fi
	@$(PY) -c "import torch; print('torch', torch.__version__, '(CUDA ' + torch.version.cuda + ')' if torch.version.cuda else '(CPU build)')"

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

# The whole suite: the unit tests, the models on MovieLens, one batch of every grading case through
# `python -m grader` (tests/pipeline), the browser test of the built book, and the solution notebooks
# run top to bottom by nbval (`--nbval-lax`: every cell must run; outputs are not compared).
test: $(STAMP) book browser-deps grade-deps
	$(PY) -m pytest tests solutions --nbval-lax

# The unit tests only (seconds each, synthetic data): under two minutes.
test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not movielens and not browser and not nbgrader and not slow"

# Regenerate exercises/ from solutions/ (nbgrader generate_assignment), record the release; commit both.
release: $(STAMP)
	$(PY) -m grader.releases

# bubblewrap, the sandbox every grading kernel runs in (Debian's package; needs root).
grade-deps:
	command -v bwrap >/dev/null || (apt-get update && apt-get install -y bubblewrap)

# Autograde submitted/<student>/<assignment>/: feedback/, grades.csv, grading_report.csv, cohort_summary.md
# and the learning platforms' import files. ZIP=download.zip imports a Canvas, Blackboard or Moodle zip first;
# ASSIGNMENT=mf grades one assignment; JOBS=2 grades two notebooks at once; DASK_SCHEDULER=tcp://host:8786
# grades on a Dask cluster; UNSANDBOXED=1 runs kernels without bubblewrap (recorded in the report).
grade: $(STAMP) grade-deps
	$(PY) -m grader $(if $(ZIP),--zip "$(ZIP)") $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(DASK_SCHEDULER),--dask-scheduler $(DASK_SCHEDULER)) \
		$(if $(UNSANDBOXED),--unsandboxed)

benchmark: $(STAMP) data
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/ranking.py

clean:
	rm -rf _build .pytest_cache
