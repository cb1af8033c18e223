#!/usr/bin/env bash
# Makes or updates a Git repository of an example application, so that the pipeline builds it from
# source control: scripts/app-repo.sh SOURCE_DIR DEST (e.g. examples/notes-app .lab/notes-app).
# Commits only when the application's files changed. Prints the repository's path.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: scripts/app-repo.sh SOURCE_DIR DEST" >&2; exit 2; }
src=$1 dest=$2
[ -f "$src/compose.yaml" ] || { echo "$src has no compose.yaml: not an application directory" >&2; exit 2; }
mkdir -p "$dest"
[ -d "$dest/.git" ] || git -C "$dest" init -q -b main
rsync -a --delete --exclude .git --exclude __pycache__ "$src/" "$dest/"
git -C "$dest" add -A
if ! git -C "$dest" diff --cached --quiet; then
  git -C "$dest" -c user.name="outerloop demo" -c user.email=demo@outerloop.invalid \
    commit -q -m "$(basename "$src") from outerloop.docker $(git rev-parse --short HEAD 2>/dev/null || echo '')"
fi
cd "$dest" && pwd
