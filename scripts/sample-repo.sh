#!/usr/bin/env bash
# Makes or updates a Git repository of the sample application (examples/sample-app), so that the
# pipeline builds it from source control. Commits only when the sample changed. Prints the path.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/app-repo.sh examples/sample-app "${1:-.lab/sample-app}"
