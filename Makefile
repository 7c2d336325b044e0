# Every target creates what it needs (virtualenvs, pip installs) itself; see README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
CORE_219 := ansible-core>=2.19,<2.20
DEPS := requirements.txt tests/unit/requirements.txt tests/integration/requirements.txt
export ATLAS_API_CONTRACT_DIR ?= $(abspath ../shared/atlas-api)

.PHONY: help venv test sanity units integration demo bench clean

help:
	@echo "make demo   - run the unified_access playbook end to end against the Atlas emulator and moto"
	@echo "make test   - every test: ansible-test sanity, units and integration (and the ecosystem gates)"
	@echo "make bench  - benchmarks (timings are measured here, never asserted in tests)"

venv: $(VENV)/.installed

$(VENV)/.installed: $(DEPS)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "$(CORE_219)" $(addprefix -r ,$(DEPS))
	touch $@

test: venv
	scripts/test.sh

sanity: venv
	scripts/ansible_test.sh $(VENV) 3.11 sanity

units: venv
	scripts/ansible_test.sh $(VENV) 3.11 units

integration: venv
	scripts/ansible_test.sh $(VENV) 3.11 integration

demo: venv
	scripts/demo.sh

bench: venv
	scripts/bench.sh

clean:
	rm -rf $(VENV) $(VENV)-* tests/output
