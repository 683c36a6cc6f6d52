# The course's two commands:
#   make book   build the course: environment, demo data, every chapter executed once, HTML book
#   make test   everything CI runs: ruff, unit tests, every chapter executed (nbmake), drift check, book build
# Both reuse the same executed chapters (book/notebooks/*.ipynb), so no chapter runs twice.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help install data test book html chapter student student-check clean-build

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
NB_ENV := COURSE_EXERCISES_STRICT=1 COURSE_FAST=$(COURSE_FAST)

help:
	@echo "make book    build the HTML book into book/_build/html (creates .venv if no env is active)"
	@echo "make test    ruff + unit tests + every chapter executed + paired-notebook check + book build (CI)"
	@echo "make chapter NB=01_neurotask_loading   execute one chapter into book/notebooks/"
	@echo "make student build student notebooks (solutions replaced by stubs) into _student/"
	@echo "make student-check   build the student notebooks and execute them (part of make test)"

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(INSTALLED): pyproject.toml constraints.txt | $(if $(filter $(VENV)/bin/python,$(PY)),$(VENV)/bin/python)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book,test,tasks]"
	$(PY) -m pip install --quiet --no-deps $(NEUROGYM)
	@mkdir -p $(dir $@) && touch $@

install: $(INSTALLED)

data: $(INSTALLED)
	$(PY) -m course_utils data prepare

test: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m course_utils data prepare
	$(PY) -m course_utils book prepare
	$(NB_ENV) $(PY) -m pytest tests course_utils book/notebooks --doctest-modules --nbmake --overwrite --nbmake-timeout=600 $(PYTEST_OPTS)
	@touch $(EXECUTED)
	$(MAKE) --no-print-directory student-check
	$(MAKE) --no-print-directory html
	@echo "make test: all checks passed; book in book/_build/html/index.html"

# Chapters are executed only when a chapter or the package changed since the last execution.
$(EXECUTED): $(CHAPTERS) $(PKG_FILES) | $(INSTALLED)
	$(PY) -m course_utils data prepare
	$(PY) -m course_utils book prepare
	$(NB_ENV) $(PY) -m pytest book/notebooks --nbmake --overwrite --nbmake-timeout=600 $(PYTEST_OPTS)
	@touch $@

html: $(EXECUTED)
	$(PY) -m course_utils book data-page
	$(PYBIN)jupyter-book build book --warningiserror --keep-going --quiet
	@echo "Book built: open book/_build/html/index.html"

book: html

chapter: $(INSTALLED)
	@test -n "$(NB)" || (echo "usage: make chapter NB=01_neurotask_loading" && exit 2)
	$(PY) -m course_utils data prepare
	$(PY) -m course_utils book prepare --only $(NB)
	$(NB_ENV) $(PY) -m pytest book/notebooks/$(NB).ipynb --nbmake --overwrite --nbmake-timeout=600

student: $(INSTALLED)
	$(PY) -m course_utils exercises build --out _student

# The student notebooks (solutions replaced by stubs) must run top to bottom too: every check then says
# "not answered yet" instead of crashing. Not strict: stubs are expected to fail their checks.
student-check: student
	COURSE_FAST=$(COURSE_FAST) $(PY) -m pytest _student --nbmake --nbmake-timeout=600 -p no:cacheprovider

clean-build:
	rm -rf book/_build book/notebooks book/data_sources.md _student .make
