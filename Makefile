# Two commands on a fresh machine (README "Quickstart"):
#   make demo   create .venv if needed, install, run the demo study
#   make test   create .venv if needed, install, run `ruff check .`, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
CORES ?= 8

.PHONY: install demo test clean

install: $(STAMP)

# Reinstall whenever the pins change. constraints.txt pins the transitive
# dependencies as well; torch==2.13.0 resolves to the local CPU build where the
# machine provides one (LIBRARIES.md section 1).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(BIN):$$PATH" snakemake --cores $(CORES)

test: $(STAMP)
	PATH="$(BIN):$$PATH" ruff check .
	PATH="$(BIN):$$PATH" python -m pytest

clean:
	rm -rf resources results logs benchmarks .snakemake
