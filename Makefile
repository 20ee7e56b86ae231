# kdebug — two commands on a fresh machine:
#   make demo   set up .venv and diagnose the bundled scenarios (no cluster needed)
#   make test   run the test suite
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

.PHONY: demo test venv clean dist man docs bench cluster-build cluster-up cluster-down test-cluster capture

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# kubectl why finds problems in the scenarios, so it exits 1: that is the expected outcome here.
demo: venv
	@if command -v kubectl >/dev/null 2>&1; then kubectl why -f scenarios/ -A; \
	 else kubectl-why -f scenarios/ -A; fi; rc=$$?; [ $$rc -le 1 ]

test: venv
	$(BIN)/python -m pytest -q

# Scale benchmarks: each plugin's -A scan side by side with the kubectl read it replaces, on the
# stand-in API server, at 1,000/3,000/10,000 pods, and a single pod against kubectl get pod
# (bench/scale.py --help for sizes and rounds; figures in bench/results/, summary in bench/RESULTS.md).
BENCH_ARGS ?=
bench: venv
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

# The Krew archive: dist/kdebug-vX.Y.Z.tar.gz (launchers, kdebug_core, the vendored pure-Python
# modules kdebug imports, bytecode for this Python or the one or two named in DIST_PYTHONS; other
# Pythons compile on first run), its .sha256, and that sha256 and the release URI written into
# krew-manifests/plugins/*.yaml.
REPO_URL     ?= https://github.com/kdebug/kdebug
DIST_PYTHONS ?=
dist: venv
	$(BIN)/python tools/build_dist.py --repo-url $(REPO_URL) $(foreach p,$(DIST_PYTHONS),--python $(p))

# Man pages from the plugins' parsers (argparse-manpage): man/kubectl-*.1, installed by pip.
man: venv
	$(BIN)/python tools/build_man.py

# README.md's example outputs, rerun from the commands they show (offline, on scenarios/ and
# shipped fixtures); tests/core/test_docs.py fails with "run make docs" when they drift.
docs: venv
	$(BIN)/python tools/readme_examples.py

# A real single-node Kubernetes cluster on 127.0.0.1 built from Kubernetes' own Go modules
# (tests/cluster/README.md): needs root, Go, containerd, runc, CNI plugins and busybox-static.
# Binaries are cached in ~/.cache/kdebug-cluster/<version>/ (a cold build takes tens of minutes).
cluster-build:
	tests/cluster/build.sh

cluster-up: cluster-build
	tests/cluster/cluster-up.sh

cluster-down:
	tests/cluster/cluster-down.sh

test-cluster: venv
	tests/cluster/test-cluster.sh

# Re-capture the scenarios from the test cluster: their objects, events and logs as kubectl prints
# them, into scenarios/<name>/ (and tests/realcluster/scenarios/<name>/). Review with git diff.
capture: venv
	tests/cluster/capture.sh

clean:
	rm -rf $(VENV) build dist *.egg-info
