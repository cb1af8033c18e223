#!/usr/bin/env bash
# The README's test command: every quality gate, from a fresh Debian machine, with each stage timed.
#   bootstrap -> ruff -> ansible-lint -> ansible-test sanity -> lab -> pytest (unit + integration)
# Ends with pytest's summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
declare -a TIMES=()
FAILED=()

stage() {
  local name=$1; shift
  local t0=$SECONDS
  printf '\n=== %s ===\n' "$name"
  "$@"
  local rc=$?
  TIMES+=("$(printf '%-14s %4ds  %s' "$name" $((SECONDS - t0)) "$([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)")")")
  [ $rc = 0 ] || FAILED+=("$name")
  return $rc
}

report() {
  printf '\n=== stage times ===\n'
  printf '%s\n' "${TIMES[@]}"
}

stage bootstrap bash scripts/bootstrap.sh || { report; exit 1; }
stage ruff bash -c "$VENV/bin/ruff check . && $VENV/bin/ruff format --check ."
stage ansible-lint "$VENV/bin/ansible-lint" --profile production
stage sanity bash scripts/sanity.sh
stage lab "$VENV/bin/python" tests/lab/lab.py up || { report; exit 1; }
mkdir -p tests/output
stage pytest bash -c "set -o pipefail; $VENV/bin/python -m pytest tests/unit tests/integration -p no:cacheprovider -ra --durations=30 | tee tests/output/pytest.log"
pytest_rc=$?
report
[ ${#FAILED[@]} -eq 0 ] || { echo "failed stages: ${FAILED[*]}"; pytest_rc=1; }
# The last line is pytest's own summary, as CI reads it.
tail -n 1 tests/output/pytest.log
exit $pytest_rc
