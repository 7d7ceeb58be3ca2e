# virt.libvirt: `make demo` and `make test` do all set-up themselves on a fresh Debian machine.
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
COLLECTIONS := $(CURDIR)/.build/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)

.PHONY: help setup host venv collection libvirt-tests test unit sanity ansible-sanity matrix lint reference \
        changelog integration demo demo-clean benchmark clean

help:
	@echo "make demo       - set everything up, then converge the demo fleet twice (the second run changes nothing)"
	@echo "make test       - set everything up, then run every test"
	@echo "make demo-clean - remove the demo's KVM guests, network and storage"
	@echo "make benchmark  - converge N=10 50 200 guests: virt.libvirt against community.libvirt (N=50 for one size)"
	@echo "make libvirt-tests - fetch libvirt 9.0.0's own test documents into .build/libvirt-tests (make test does)"
	@echo "make sanity     - ansible-test sanity, ansible-lint, changelog lint and the local sanity tests"
	@echo "make matrix     - sanity and unit tests on ansible-core 2.16, 2.17, 2.19, 2.20, 2.21; integration on 2.16, 2.21"
	@echo "make reference  - regenerate docs/reference/ from the plugins' documentation"
	@echo "make changelog  - regenerate CHANGELOG.rst from changelogs/changelog.yaml"

setup: host venv collection

# libvirt and its daemons, then the sshd on 127.0.0.1:2222 the fleet test reaches its hosts through.
host:
	@if [ "$$(id -u)" = 0 ]; then bash scripts/setup-host.sh && bash scripts/setup-sshd.sh; \
	else sudo bash scripts/setup-host.sh && sudo bash scripts/setup-sshd.sh; fi

$(VENV)/.installed: requirements.txt tests/unit/requirements.txt requirements-dev.txt requirements-checks.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements-dev.txt -r requirements-checks.txt
	touch $@

venv: $(VENV)/.installed

collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/virt
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/virt/libvirt

# libvirt 9.0.0's own input/output test documents (Debian's source package, about 9 MB) in .build/libvirt-tests,
# for tests/unit/plugins/module_utils/test_libvirt_normalisation_pairs.py; nothing is downloaded when they are there.
libvirt-tests:
	bash scripts/fetch-libvirt-tests.sh

test: setup lint ansible-sanity libvirt-tests matrix
	$(PYTHON) -m pytest tests

# The other ansible-core versions (scripts/ansible-matrix.sh): sanity and unit tests on each, the integration
# targets on the oldest and the newest. VERSIONS="2.16 2.21" for some only.
matrix: venv collection libvirt-tests
	INTEGRATION=1 bash scripts/ansible-matrix.sh $(VERSIONS)

unit: venv collection libvirt-tests
	$(PYTHON) -m pytest tests/unit

sanity: venv collection lint ansible-sanity
	$(PYTHON) -m pytest tests/unit/sanity

# The real ansible-test sanity, on a copy of the collection; the script says why a copy, and how the pip
# bootstrap of its venvs is served without ci-files.testing.ansible.com.
ansible-sanity: venv
	bash scripts/ansible-test-sanity.sh

lint: venv collection
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH ansible-lint --profile production --offline roles/ playbooks/
	$(VENV)/bin/antsibull-changelog lint

reference: venv collection
	$(PYTHON) scripts/module_reference.py

changelog: venv
	$(VENV)/bin/antsibull-changelog generate

integration: setup
	$(PYTHON) -m pytest tests/integration

demo: setup
	bash scripts/demo.sh

demo-clean: setup
	$(VENV)/bin/ansible-playbook -i playbooks/inventory.demo playbooks/decommission.yml --limit demo-kvm -e remove_storage=true

benchmark: host collection
	python3 benchmarks/converge.py $(or $(N),10 50 200)

clean:
	rm -rf .build .pytest_cache .hypothesis
