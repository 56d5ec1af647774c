# Every target installs what it needs; nothing depends on an activated venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
# Quiet TensorFlow's C++ logging in every process we start.
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: install system-deps demo test bench bench-class generate check-generated tidy clean lab site

install: system-deps $(STAMP)

# bubblewrap sandboxes student kernels while grading (Debian package `bubblewrap`).
# chromium + chromium-driver: the browser tests drive Debian's /usr/bin/chromium (never `playwright install`).
system-deps:
	@command -v bwrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } \
		|| echo "warning: could not install bubblewrap; grading will refuse to run without --unsafe-no-sandbox"
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; } \
		|| echo "warning: could not install chromium; the browser tests (tests/browser/) will skip"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $(STAMP)

demo: install
	$(BIN)/python -m autograder demo --out build/demo

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=30 tests

bench: install
	$(BIN)/python -m autograder bench

bench-class: install
	$(BIN)/python -m autograder bench-class

generate: $(STAMP)
	$(BIN)/python -m autograder generate

check-generated: $(STAMP)
	$(BIN)/python -m autograder generate --check

# JupyterLab on the course, localhost only, with nbgrader's lab extension (Validate button) and server extension.
LAB_PORT ?= 8888
lab: install
	$(BIN)/jupyter labextension enable --level=sys_prefix @jupyter/nbgrader >/dev/null
	$(BIN)/jupyter server extension enable --sys-prefix nbgrader.server_extensions.validate_assignment >/dev/null
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(LAB_PORT) --no-browser --ServerApp.root_dir=$(CURDIR) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

# The static course site in site/: every lesson executed and rendered, the syllabus, offline maths.
SITE_OUT ?= site
site: install
	$(BIN)/python -m autograder site --out $(SITE_OUT)

tidy: $(STAMP)
	$(BIN)/python -m autograder tidy

clean:
	rm -rf build .pytest_cache
