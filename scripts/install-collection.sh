#!/usr/bin/env bash
# Builds the collection tarball from this tree and installs it under .lab/collections, so that
# playbooks run by FQCN (outerloop.docker.provision) exactly as they do for users.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build .lab/collections
rm -f build/outerloop-docker-*.tar.gz
.venv/bin/ansible-galaxy collection build --force --output-path build . >/dev/null
.venv/bin/ansible-galaxy collection install --force -p .lab/collections build/outerloop-docker-*.tar.gz >/dev/null
ls build/outerloop-docker-*.tar.gz
