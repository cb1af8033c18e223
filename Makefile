# The two commands of the README, and the pieces they are made of.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PLAYBOOK := $(VENV)/bin/ansible-playbook -i inventories/lab

.PHONY: cd demo test bootstrap lab-up lab-down lab-status provision smoke ci lint sanity unit integration bench clean bench-ci bench-cd \
	dist release-checks

## The main job, the whole outer loop: lab up, provision every host and the registry, push/pull
## through the registry, the CI half for the sample application (build, test, publish, release
## manifest), then the CD half: qa, staging, production, status, and a broken release rolled back.
demo: bootstrap lab-up provision smoke ci cd

## Everything CI runs: lint, sanity, unit and integration tests against the lab.
test:
	bash scripts/test.sh

bootstrap:
	bash scripts/bootstrap.sh

lab-up: bootstrap
	$(PY) tests/lab/lab.py up

lab-down:
	$(PY) tests/lab/lab.py down

lab-status:
	$(PY) tests/lab/lab.py status

provision:
	bash scripts/install-collection.sh >/dev/null
	$(PLAYBOOK) outerloop.docker.provision

smoke:
	$(PLAYBOOK) outerloop.docker.smoke -e smoke_image_archive=$(CURDIR)/.lab/images/busybox.tar

# The sample application's version is 1.0.N, N = the commits of its demo repository. Its releases
# are kept in .lab/releases, which lab.py clears when it recreates hosts (and so the registry).
ci: bootstrap
	bash scripts/install-collection.sh >/dev/null
	repo=$$(bash scripts/sample-repo.sh) && \
	version=1.0.$$(git -C $$repo rev-list --count HEAD) && \
	$(PLAYBOOK) tests/lab/seed.yml --limit build_hosts && \
	$(PLAYBOOK) outerloop.docker.ci -e @examples/ci-sample-app.yml -e ci_source_repo=$$repo -e ci_version=$$version \
	  -e ci_release_dir=$(CURDIR)/.lab/releases && \
	echo "release manifest: .lab/releases/sample-app-$$version.json" && cat .lab/releases/sample-app-$$version.json

# The CD half of the demo (after ci): scripts/demo-cd.sh.
cd: bootstrap
	bash scripts/install-collection.sh >/dev/null
	bash scripts/demo-cd.sh

lint: bootstrap
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(VENV)/bin/ansible-lint --profile production
	$(PY) -m pytest tests/unit/test_import_contract.py -q

sanity: bootstrap
	bash scripts/sanity.sh

unit: bootstrap
	$(PY) -m pytest tests/unit -q

integration: lab-up
	$(PY) -m pytest tests/integration -q

## The release tarball users install (galaxy.yml's build_ignore says what it leaves out), in build/dist.
## Needs .venv only (make bootstrap): no Docker, no lab.
dist:
	$(VENV)/bin/ansible-galaxy collection build --output-path build/dist --force
	@tarball=build/dist/$$(sed -n 's/^namespace: *//p' galaxy.yml)-$$(sed -n 's/^name: *//p' galaxy.yml)-$$(sed -n 's/^version: *//p' galaxy.yml).tar.gz; \
	  size=$$(stat -c %s $$tarball); \
	  echo "$$tarball: $$size bytes ($$((size / 1024)) KiB), $$(tar -tzf $$tarball | grep -cv '/$$') files"

## The publishing checks on that tarball: galaxy-importer, antsibull-docs, ansible-test sanity, a clean install
## (scripts/release-checks.sh, docs/release.md).
release-checks:
	bash scripts/release-checks.sh

clean: lab-down
	rm -rf build tests/output .lab/collections

bench: bootstrap
	$(PY) tests/bench/bench_lab.py

bench-ci: bootstrap
	bash scripts/install-collection.sh >/dev/null
	$(PLAYBOOK) tests/lab/seed.yml --limit build_hosts >/dev/null
	$(PY) tests/bench/bench_ci.py

bench-cd: bootstrap
	bash scripts/install-collection.sh >/dev/null
	$(PLAYBOOK) tests/lab/seed.yml --limit build_hosts >/dev/null
	$(PY) tests/bench/bench_cd.py
