# The course's two commands:
#   make book   build the course: environment, demo data, every chapter executed once, HTML book
#   make test   everything CI runs: ruff, workflow lint, unit tests, every chapter executed (nbmake), drift
#               check, student notebooks, book build; ends with a per-step timing summary
# Both reuse the same executed chapters (book/notebooks/*.ipynb), so no chapter runs twice.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help install data test lint unit-tests chapters book html chapter student student-check \
        check-book setup-cells test-colab test-torchless real-data real-data-chapters clean-build

# Use the active virtual/conda environment if there is one, else create .venv here.
VENV := .venv
ifeq ($(origin PY), undefined)
  ifneq ($(VIRTUAL_ENV)$(CONDA_PREFIX),)
    PY := python
  else
    PY := $(VENV)/bin/python
  endif
endif
PYBIN := $(dir $(shell command -v $(PY) 2>/dev/null || echo $(PY)))
INSTALLED := .make/installed
# NeuroGym without its numpy/matplotlib pins (see pyproject.toml's `tasks` extra and the README).
NEUROGYM := "neurogym>=2.3.1,<2.4"
CHAPTERS := $(wildcard notebooks/[0-9][0-9]_*.py)
PKG_FILES := $(shell find course_utils -name '*.py') data_manifest.yaml
EXECUTED := book/notebooks/.executed
# Extra pytest options, e.g. PYTEST_OPTS="-x -k neurotask"
PYTEST_OPTS ?=
# Chapters that train networks use shorter trainings when COURSE_FAST=1 (CI and the default book build,
# so the whole suite stays within minutes on 2 cores). `make book COURSE_FAST=0` builds with full trainings.
COURSE_FAST ?= 1
# Executing chapters: every instructor solution must pass its check (strict), with the documented fast setting.
# TQDM_MININTERVAL: an executed chapter stores every refresh of a progress bar as text, so the book's pages
# would show dozens of lines per bar; refreshing every 60 s keeps one or two (learners' live bars are unchanged).
# TQDM_MAXINTERVAL: tqdm's monitor thread would otherwise force a refresh 10 s after each one.
NB_ENV := COURSE_EXERCISES_STRICT=1 COURSE_FAST=$(COURSE_FAST) TQDM_MININTERVAL=60 TQDM_MAXINTERVAL=60
# A cell running longer than this fails its chapter (a hang, or a training far too long for CI).
NB_TIMEOUT ?= 600
NBMAKE := --nbmake --nbmake-timeout=$(NB_TIMEOUT) -p no:cacheprovider
# Parallel test workers (pytest-xdist): the unit tests, the chapters and the student notebooks each spread over
# all CPUs; most of the work is single-threaded (the chapters train on one torch thread), so 2 cores run it
# almost twice as fast. JOBS=0 runs everything in one process (easier to debug). Each worker computes on one
# thread (OpenMP, OpenBLAS, MKL), and threads that a chapter asks for explicitly wait passively: workers each
# spinning two threads on two cores ran some tests 40x slower and chapter 8 (NumPy's BLAS) 2.7x slower.
# Work is handed out file by file in collection order (--no-loadscope-reorder: xdist would otherwise sort files
# by their number of tests, which sent the slowest one-test files last and left one worker alone with them);
# tests/conftest.py puts the slowest unit-test files first.
JOBS ?= auto
XDIST := -n $(JOBS) --dist loadfile --no-loadscope-reorder
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# Chapters are handed to the workers in this order, the longest first (measured: 06, 08 and 07 take about as
# long as all the others together), so that no worker is left with a long chapter at the end.
SLOW_FIRST := 06 08 07 05 09
ORDERED := $(foreach n,$(SLOW_FIRST),$(filter notebooks/$(n)_%,$(CHAPTERS))) \
           $(filter-out $(foreach n,$(SLOW_FIRST),notebooks/$(n)_%),$(CHAPTERS))
# Trainings of the instructor chapters, reused by the student notebooks of the same run where the code is
# not an exercise (course_utils.training.reuse_training). Emptied whenever the chapters run.
REUSE := .make/reuse

# Every step runs through .ci/timed, which records its wall-clock time in one log per make run (sub-makes
# inherit it); .ci/timings prints the table at the end of `make test` and `make book`.
TIMED := .ci/timed
ifndef COURSE_TIMING_LOG
  COURSE_TIMING_LOG := $(CURDIR)/.make/timings/$(shell date +%Y%m%d-%H%M%S-%N).tsv
endif
export COURSE_TIMING_LOG

help:
	@echo "make book    build the HTML book into book/_build/html (creates .venv if no env is active)"
	@echo "make test    ruff + workflow lint + unit tests + every chapter + student notebooks + book build (CI)"
	@echo "make chapter NB=01_neurotask_loading   execute one chapter into book/notebooks/"
	@echo "make student build student notebooks (solutions replaced by stubs) into _student/"
	@echo "make student-check   build the student notebooks and execute them (part of make test)"
	@echo "make setup-cells     rewrite every chapter's setup cell from course_utils/authoring/"
	@echo "make test-colab       Colab's preinstalled versions + the setup cell + a chapter (minutes, needs pip)"
	@echo "make test-torchless PYTHON=python3.13   the suite without torch (what needs torch is skipped)"
	@echo "make real-data       fetch and verify every sample file, run every chapter on them (internet)"

$(VENV)/bin/python:
	@$(TIMED) venv python3 -m venv $(VENV)

$(INSTALLED): pyproject.toml constraints.txt | $(if $(filter $(VENV)/bin/python,$(PY)),$(VENV)/bin/python)
	@$(TIMED) install bash -c '$(PY) -m pip install --quiet --upgrade pip && \
	  $(PY) -m pip install --quiet -c constraints.txt -e ".[book,test,tasks]" && \
	  $(PY) -m pip install --quiet --no-deps $(NEUROGYM)'
	@mkdir -p $(dir $@) && touch $@

install: $(INSTALLED)

data: $(INSTALLED)
	$(PY) -m course_utils data prepare

# The steps of `make test`, in order; each is also a target of its own.
test: $(INSTALLED)
	@$(MAKE) --no-print-directory lint
	@$(TIMED) demo-data $(PY) -m course_utils data prepare
	@$(MAKE) --no-print-directory unit-tests chapters student-check
	@$(MAKE) --no-print-directory html check-book
	@.ci/timings $(COURSE_TIMING_LOG) "make test: timing summary"
	@echo "make test: all checks passed; book in book/_build/html/index.html"

lint: $(INSTALLED)
	@$(TIMED) ruff $(PY) -m ruff check .
	@$(TIMED) actionlint $(PYBIN)actionlint -no-color .github/workflows/*.yml

unit-tests: $(INSTALLED)
	@$(TIMED) unit-tests env $(ONE_THREAD) $(PY) -m pytest tests course_utils --doctest-modules -p no:cacheprovider --durations=10 $(XDIST) \
	  -m "not colab" $(PYTEST_OPTS)

# Colab's preinstalled versions in a fresh environment, the setup cell and a chapter run in it (minutes; needs
# the package index). GitHub's `colab` job runs it on Python 3.13; make test leaves it out to stay fast.
test-colab: $(INSTALLED)
	$(PY) -m pytest tests/test_colab_install.py -m colab -p no:cacheprovider $(PYTEST_OPTS)

# Every chapter executed as a test, always (they are tests); html then reuses these executed copies.
chapters: $(INSTALLED)
	@$(TIMED) book-prepare $(PY) -m course_utils book prepare
	@rm -rf $(REUSE) && mkdir -p $(REUSE)
	@$(TIMED) chapters env $(NB_ENV) $(ONE_THREAD) COURSE_REUSE_TRAINING=$(CURDIR)/$(REUSE) \
	  $(PY) -m pytest $(patsubst notebooks/%.py,book/notebooks/%.ipynb,$(ORDERED)) $(NBMAKE) $(XDIST) --overwrite --durations=0 $(PYTEST_OPTS)
	@touch $(EXECUTED) $(REUSE)/.complete

# Chapters are executed only when a chapter or the package changed since the last execution.
$(EXECUTED): $(CHAPTERS) $(PKG_FILES) | $(INSTALLED)
	@$(TIMED) demo-data $(PY) -m course_utils data prepare
	@$(MAKE) --no-print-directory chapters

html: $(EXECUTED)
	@$(TIMED) book-html bash -c '$(PY) -m course_utils book data-page && \
	  $(PYBIN)jupyter-book build book --warningiserror --keep-going --quiet'
	@echo "Book built: open book/_build/html/index.html"

# The published pages' Colab and download buttons point at files that exist.
check-book:
	@$(TIMED) check-book $(PY) .ci/check_book.py

book: html
	@.ci/timings $(COURSE_TIMING_LOG) "make book: timing summary"

chapter: $(INSTALLED)
	@test -n "$(NB)" || (echo "usage: make chapter NB=01_neurotask_loading" && exit 2)
	$(PY) -m course_utils data prepare
	$(PY) -m course_utils book prepare --only $(NB)
	$(NB_ENV) $(PY) -m pytest book/notebooks/$(NB).ipynb $(NBMAKE) --overwrite

student: $(INSTALLED)
	$(PY) -m course_utils exercises build --out _student

# The student notebooks (solutions replaced by stubs) must run top to bottom too: every check then says
# "not answered yet" instead of crashing. Not strict: stubs are expected to fail their checks.
# They reuse the chapters' trainings only if no chapter or package file changed since the chapters ran.
student-check: $(INSTALLED)
	@$(TIMED) student-build $(PY) -m course_utils exercises build --out _student
	@reuse=; if [ -f $(REUSE)/.complete ] && [ -z "$$(find $(CHAPTERS) $(PKG_FILES) -newer $(REUSE)/.complete)" ]; \
	  then reuse=$(CURDIR)/$(REUSE); else echo "student-check: training again (no fresh chapter run to reuse)"; fi; \
	  $(TIMED) student-check env COURSE_FAST=$(COURSE_FAST) $(ONE_THREAD) COURSE_REUSE_TRAINING=$$reuse \
	  $(PY) -m pytest $(patsubst notebooks/%.py,_student/%.ipynb,$(ORDERED)) $(NBMAKE) $(XDIST) --durations=0

# After a version bump or a change to course_utils/authoring/'s setup_cell(): every chapter's setup cell.
setup-cells: $(INSTALLED)
	$(PY) -c "from course_utils.authoring import write_setup_cells as w; print(*w() or ['nothing to change'], sep='\n')"

# The suite on an interpreter without a torch wheel (Python 3.13 here), in build/torchless-pyX.Y:
# whatever needs torch is skipped and counted (conftest.py); everything else must pass.
PYTHON ?= python3
test-torchless:
	.ci/torchless $(PYTHON)

# Needs the internet: the weekly GitHub job (.github/workflows/real-data.yml) runs these two.
real-data: $(INSTALLED)
	$(PY) .ci/real_data.py
	$(MAKE) --no-print-directory real-data-chapters

real-data-chapters: $(INSTALLED)
	rm -f $(EXECUTED)
	$(PY) -m course_utils book prepare
	COURSE_DATA_MODE=sample $(NB_ENV) $(PY) -m pytest book/notebooks $(NBMAKE) --overwrite

clean-build:
	rm -rf book/_build book/notebooks book/data_sources.md _student .make build
