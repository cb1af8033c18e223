#!/usr/bin/env bash
# Runs `ansible-test sanity` (no ignore files) on a copy of this tree laid out as
# ansible_collections/outerloop/docker, which ansible-test requires. Extra arguments go to
# ansible-test, e.g. `scripts/sanity.sh plugins/modules/registry_login.py`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
dest=${OUTERLOOP_SANITY_DIR:-/tmp/outerloop-sanity}/ansible_collections/outerloop/docker
mkdir -p "$dest"
rsync -a --delete --exclude .venv --exclude .lab --exclude tests/output --exclude build \
  --exclude .ruff_cache --exclude .pytest_cache --exclude __pycache__ --exclude .ansible ./ "$dest/"
cd "$dest"
export PATH=$ROOT/.venv/bin:$PATH
# Only the controller's Python is installed here; ansible-test skips the others it cannot find.
exec ansible-test sanity --venv --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no "$@"
