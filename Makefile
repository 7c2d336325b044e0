# Every target creates what it needs (virtualenvs, pip installs) itself; see README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
# pyenv's shims refuse python3.13 unless a version is selected.
PYTHON313 ?= env PYENV_VERSION=3.13.0 python3.13
VENV := .venv
PIP_INSTALL = -m pip install --quiet --disable-pip-version-check
DEPS := requirements.txt tests/unit/requirements.txt tests/integration/requirements.txt scripts/requirements-test-extra.txt
export ATLAS_API_CONTRACT_DIR ?= $(abspath ../shared/atlas-api)

.PHONY: help venv venvs test sanity units integration gates changelog docs demo bench clean

help:
	@echo "make demo      - run the unified_access playbook end to end against the Atlas emulator and moto"
	@echo "make test      - every test: ansible-test sanity (ansible-core 2.17, 2.19, 2.21), units and integration"
	@echo "                 (2.19, 2.21) and the ecosystem gates (ansible-lint, galaxy-importer, docs, changelog)"
	@echo "make gates     - only the ecosystem gates"
	@echo "make changelog - fold new changelogs/fragments into the release in galaxy.yml and regenerate CHANGELOG"
	@echo "make docs      - regenerate docs/docsite/rst from the Markdown guides in docs/"
	@echo "make bench     - benchmarks (timings are measured here, never asserted in tests)"

# One virtualenv per tested ansible-core line, plus one for the ecosystem tools (their pins stay out of the tests).
venv: $(VENV)/.installed
venvs: $(VENV)/.installed $(VENV)-2.17/.installed $(VENV)-2.21/.installed $(VENV)-tools/.installed

$(VENV)/.installed: $(DEPS)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python $(PIP_INSTALL) --upgrade pip
	$(VENV)/bin/python $(PIP_INSTALL) "ansible-core>=2.19,<2.20" $(addprefix -r ,$(DEPS))
	touch $@

$(VENV)-2.17/.installed: $(DEPS)
	test -x $(VENV)-2.17/bin/python || $(PYTHON) -m venv $(VENV)-2.17
	$(VENV)-2.17/bin/python $(PIP_INSTALL) --upgrade pip
	$(VENV)-2.17/bin/python $(PIP_INSTALL) "ansible-core>=2.17,<2.18" $(addprefix -r ,$(DEPS))
	touch $@

$(VENV)-2.21/.installed: $(DEPS)
	test -x $(VENV)-2.21/bin/python || $(PYTHON313) -m venv $(VENV)-2.21
	$(VENV)-2.21/bin/python $(PIP_INSTALL) --upgrade pip
	$(VENV)-2.21/bin/python $(PIP_INSTALL) "ansible-core>=2.21,<2.22" $(addprefix -r ,$(DEPS))
	touch $@

$(VENV)-tools/.installed: scripts/requirements-tools.txt
	test -x $(VENV)-tools/bin/python || $(PYTHON) -m venv $(VENV)-tools
	$(VENV)-tools/bin/python $(PIP_INSTALL) --upgrade pip
	$(VENV)-tools/bin/python $(PIP_INSTALL) -r scripts/requirements-tools.txt
	touch $@

# The four virtualenvs install side by side (network-bound), then the stages run (scripts/test.sh says how).
test:
	$(MAKE) --no-print-directory -j4 venvs
	scripts/test.sh

sanity: venvs
	scripts/test.sh sanity

units: venvs
	scripts/test.sh units

integration: venvs
	scripts/test.sh integration

gates: venvs
	scripts/test.sh gates

changelog: $(VENV)-tools/.installed
	scripts/gates.sh release-changelog

docs: $(VENV)-tools/.installed
	scripts/gates.sh render-docs

demo: venv
	scripts/demo.sh

bench: venv
	scripts/bench.sh

clean:
	rm -rf $(VENV) $(VENV)-* tests/output
