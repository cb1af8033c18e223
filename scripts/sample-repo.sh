#!/usr/bin/env bash
# Makes or updates a Git repository of the sample application (examples/sample-app), so that the
# pipeline builds it from source control. Commits only when the sample changed. Prints the path.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-.lab/sample-app}
mkdir -p "$dest"
[ -d "$dest/.git" ] || git -C "$dest" init -q -b main
rsync -a --delete --exclude .git --exclude __pycache__ examples/sample-app/ "$dest/"
git -C "$dest" add -A
if ! git -C "$dest" diff --cached --quiet; then
  git -C "$dest" -c user.name="outerloop demo" -c user.email=demo@outerloop.invalid \
    commit -q -m "sample-app from outerloop.docker $(git rev-parse --short HEAD 2>/dev/null || echo '')"
fi
cd "$dest" && pwd
