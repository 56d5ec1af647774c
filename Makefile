# Every target installs what it needs; nothing depends on an activated venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
# Quiet TensorFlow's C++ logging in every process we start.
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: install system-deps demo test bench bench-class generate check-generated tidy clean

install: system-deps $(STAMP)

# bubblewrap sandboxes student kernels while grading (Debian package `bubblewrap`).
system-deps:
	@command -v bwrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } \
		|| echo "warning: could not install bubblewrap; grading will refuse to run without --unsafe-no-sandbox"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

demo: install
	$(BIN)/python -m autograder demo --out build/demo

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

bench: install
	$(BIN)/python -m autograder bench

bench-class: install
	$(BIN)/python -m autograder bench-class

generate: $(STAMP)
	$(BIN)/python -m autograder generate

check-generated: $(STAMP)
	$(BIN)/python -m autograder generate --check

tidy: $(STAMP)
	$(BIN)/python -m autograder tidy

clean:
	rm -rf build .pytest_cache
