#!/usr/bin/env bash
# The README's test command: every quality gate, from a fresh Debian machine, with each stage timed.
#   bootstrap -> lab -> pytest (unit + integration), with ruff -> ansible-lint -> ansible-test sanity -> the
#   release checks of the built tarball (scripts/release-checks.sh) beside them
# Ends with pytest's summary line.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
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

# The static checks need no lab: they run in the background, beside the lab and the tests, which wait on
# the hosts much of the time. Their output is printed once pytest has ended, before the stage times.
static_checks() {
  TIMES=() FAILED=()  # this subshell's own: the parent adds them to its own at the end
  stage ruff bash -c "$VENV/bin/ruff check . && $VENV/bin/ruff format --check ."
  stage ansible-lint "$VENV/bin/ansible-lint" --profile production
  stage sanity bash scripts/sanity.sh
  stage release-checks bash scripts/release-checks.sh  # the tarball: galaxy-importer, docs lint, sanity, install
  printf '%s\n' "${TIMES[@]}" >tests/output/static.times
  printf '%s\n' "${FAILED[@]}" >tests/output/static.failed
}
finish_static_checks() {
  wait "$static_pid"
  printf '\n=== static checks (ran beside the lab and the tests) ===\n'
  cat tests/output/static.log
  mapfile -t -O "${#TIMES[@]}" TIMES <tests/output/static.times
  while read -r name; do [ -z "$name" ] || FAILED+=("$name"); done <tests/output/static.failed
}

stage bootstrap bash scripts/bootstrap.sh || { report; exit 1; }
mkdir -p tests/output
rm -f tests/output/static.times tests/output/static.failed
static_checks >tests/output/static.log 2>&1 &
static_pid=$!
stage lab "$VENV/bin/python" tests/lab/lab.py up || { finish_static_checks; report; exit 1; }
stage pytest bash -c "set -o pipefail; $VENV/bin/python -m pytest tests/unit tests/integration -p no:cacheprovider -ra --durations=30 --junitxml=tests/output/junit.xml | tee tests/output/pytest.log"
pytest_rc=$?
finish_static_checks
report
[ ${#FAILED[@]} -eq 0 ] || { echo "failed stages: ${FAILED[*]}"; pytest_rc=1; }
# The last line is pytest's own summary, as CI reads it.
tail -n 1 tests/output/pytest.log
exit $pytest_rc
