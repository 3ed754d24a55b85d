# bulwark.hardening - the two commands of the README, and the steps they are made of.
#   make demo   harden a throw-away systemd container and print the drift report
#   make test   lint, sanity, unit tests and every Molecule scenario
#   make yardsticks   OpenSCAP and Lynis on a VM, bare and hardened (over an hour; not in make test)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV      := .venv
BIN       := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.tmp/collections
# Scenarios to run (default: all, the VM scenario "kernel" included); e.g.
# `make molecule SCENARIOS="common ssh_hardening"`.
SCENARIOS ?= $(notdir $(patsubst %/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml)))
RELEASES  ?= bookworm trixie
IMAGE_VARIANTS ?= web modphp
# Older ansible-core releases that sanity and units also run against (requirements-matrix.txt).
CORES     ?= $(shell sed -n 's/^ansible-core==\([0-9]*[.][0-9]*\)[.].*/\1/p' requirements-matrix.txt)

.PHONY: help demo test venv docker images base-image web-image vm-image tree lint sanity units extras browser molecule bench bench-fleet yardsticks build ee clean

help:
	@echo "make demo  - harden a throw-away Debian 12 container and print the drift report"
	@echo "make test  - lint, sanity, unit tests, extras, the HTML report in chromium and every Molecule scenario"
	@echo "steps: venv docker images vm-image lint ee sanity units extras browser molecule bench bench-fleet yardsticks build clean"

# Byte-compiled, except the ansible package's collections (13,600 files): ansible-core's collection
# loader compiles their source at each import and never reads a .pyc, so compiling them in the
# install was 35 of its 48 CPU-seconds for nothing. The rest is compiled here because nothing
# would cache it later where PYTHONDONTWRITEBYTECODE is set, as on the test machines.
$(VENV)/.stamp: requirements-dev.txt
	@py=$$(scripts/find-python.sh); echo "venv: $$py ($$($$py -V))"; \
	  rm -rf $(VENV); $$py -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check --no-compile -r requirements-dev.txt
	$(BIN)/python -m compileall -q -j 0 -x /ansible_collections/ \
	  "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
	@touch $@

venv: $(VENV)/.stamp

docker:
	@scripts/ensure-docker.sh

# The base image of each release, then its fixture variants; the releases side by side.
images: docker
	@RELEASES="$(RELEASES)" IMAGE_VARIANTS="$(IMAGE_VARIANTS)" scripts/build-images.sh

# The demo and the fleet bench run on the bare Debian 12 image only; make bench on the web host.
base-image: docker
	@RELEASES=bookworm IMAGE_VARIANTS= scripts/build-images.sh

web-image: docker
	@RELEASES=bookworm IMAGE_VARIANTS="web modphp" scripts/build-images.sh

# The VM guests' base images (scripts/build-vm-image.sh: cached by recipe, about 3 minutes each the
# first time), for the VM scenarios (kernel); QEMU and debootstrap installed where missing.
VM_RELEASES ?= bookworm
vm-image:
	@command -v qemu-system-x86_64 >/dev/null && command -v qemu-img >/dev/null && command -v debootstrap >/dev/null \
	  || { apt-get -o DPkg::Lock::Timeout=600 update -qq \
	       && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq qemu-system-x86 qemu-utils debootstrap >/dev/null; }
	@for release in $(VM_RELEASES); do scripts/build-vm-image.sh $$release; done

# The collection at its namespaced path, for ansible-test, pytest and Molecule.
tree: venv
	@scripts/collection-tree.sh >/dev/null

lint: tree
	scripts/lint.sh

sanity: tree
	scripts/ansible-test.sh sanity
	@for core in $(CORES); do echo "=== sanity: ansible-core $$core"; CORE=$$core scripts/ansible-test.sh sanity; done

units: tree
	scripts/ansible-test.sh units
	@for core in $(CORES); do echo "=== units: ansible-core $$core"; CORE=$$core scripts/ansible-test.sh units; done

# The scheduling recipe's script (extras/drift_check.py, run with env -i) and ARA's callback beside
# ours, on the controller only: check runs of a fixture playbook through the local connection.
extras: tree
	scripts/extras.sh

# The HTML drift report in headless chromium (installed when missing); page and screenshot in .tmp/.
browser: tree
	scripts/browser-test.sh

molecule: venv images vm-image tree
	scripts/molecule.sh $(SCENARIOS)

# The scenarios run side by side with lint, sanity and units (scripts/test-parallel.sh, which
# installs the Docker engine and builds the images while it makes the venv, the collection tree
# and the EE context - `make tree ee` - and while those checks start).
test:
	CORES="$(CORES)" RELEASES="$(RELEASES)" IMAGE_VARIANTS="$(IMAGE_VARIANTS)" VM_RELEASES="$(VM_RELEASES)" scripts/test-parallel.sh $(SCENARIOS)
	@echo "make test: all steps passed"

demo: venv base-image tree
	scripts/demo.sh

bench: venv web-image tree
	scripts/bench.sh
	scripts/bench-immutable.sh

# site.yml over SSH against 1, 5 and 20 containers from one controller (a few minutes).
bench-fleet: venv base-image tree
	scripts/bench-fleet.sh

# External yardsticks on a VM with its own kernel (scripts/yardsticks.sh): OpenSCAP's CIS level 1
# server profile and Lynis, before and after the kernel scenario's converge; reports and summary in
# .tmp/yardsticks/RELEASE/. Over an hour under TCG (Lynis alone 28 min a scan), so never in `make test`.
YARDSTICK_RELEASE ?= bookworm
yardsticks: venv tree
	scripts/yardsticks.sh $(YARDSTICK_RELEASE)

# Only ansible-galaxy: from the venv when there is one, else the system's (Debian 12's own
# `apt install ansible` does); no test toolchain.
build:
	ansible-galaxy collection build --force --output-path .tmp/dist
	cp .tmp/dist/bulwark-hardening-$$(sed -n 's/^version: *//p' galaxy.yml).tar.gz .tmp/dist/bulwark-hardening.tar.gz

# The AWX / Automation Platform execution environment's build context (the image needs a registry).
ee: venv build
	rm -rf .tmp/ee
	ansible-builder create -f execution-environment.yml -c .tmp/ee --output-filename Containerfile -v 1
	@scripts/check-ee.sh .tmp/ee

clean:
	rm -rf .tmp .cache
