#!/usr/bin/env bash
# The publishing checks of a release, run on the tarball users get (make release-checks, docs/release.md):
#   build            ansible-galaxy collection build (as make dist) -> build/dist/NAMESPACE-NAME-VERSION.tar.gz
#   tools-venv       galaxy-importer and antsibull-docs (requirements-release.txt) in a virtualenv of their own
#   galaxy-importer  Galaxy's import of the tarball, without what needs a container runtime
#   docs-lint        antsibull-docs lint-collection-docs --plugin-docs on the unpacked tarball
#   sanity           ansible-test sanity on the unpacked tarball (a file build_ignore drops that a plugin needs fails)
#   install          the tarball installed into a clean virtualenv: ansible-doc lists every module and renders
#                    compose_deploy, and a user's playbook runs a filter of the collection on localhost
# One line per check, ok or FAILED with its time, then the end of the log of each failed check; exits 1
# when one failed. The four checks on the tarball run at the same time. Logs: build/release-checks/NAME.log.
# The virtualenvs are kept in build/release-venvs and made again only when their requirements change.
# Needs .venv (make bootstrap); no Docker, no lab, no network but PyPI (only to make a virtualenv).
set -uo pipefail  # no -e: a failed check is reported, and the others still run
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
VENV=$ROOT/.venv
WORK=$ROOT/build/release-checks
VENVS=$ROOT/build/release-venvs
TOOLS=$VENVS/tools
USER_VENV=$VENVS/install
failed=()

say() { printf '%-16s %-7s %4ds  %s\n' "$1" "$2" "$3" "${4:-}"; }

# Runs a check, its output to WORK/NAME.log; writes its exit code and time to WORK/NAME.result.
run_check() {
  local name=$1 t0=$SECONDS rc
  shift
  "$@" >"$WORK/$name.log" 2>&1
  rc=$?
  echo "$rc $((SECONDS - t0))" >"$WORK/$name.result"
  return "$rc"
}

# Prints a check's line from WORK/NAME.result (and the end of its log when it failed).
report() {
  local name=$1 rc=none secs=0
  [ -f "$WORK/$name.result" ] && read -r rc secs <"$WORK/$name.result"
  if [ "$rc" = 0 ]; then
    say "$name" ok "$secs" "${2:-}"
  else
    say "$name" FAILED "$secs" "exit $rc, log: ${WORK#"$ROOT"/}/$name.log"
    tail -n 25 "$WORK/$name.log" | sed 's/^/    /'
    failed+=("$name")
  fi
}

# A virtualenv at $1 with the pip arguments $2... (requirements, -r FILE), made again only when they change.
# Prints "reused" or "made" last.
ensure_venv() {
  local dir=$1 arg prev='' stamp
  shift
  stamp=$(for arg in "$@"; do
            echo "$arg"
            [ "$prev" = -r ] && cat "$arg"
            prev=$arg
          done | sha256sum | cut -c1-16)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo reused
    return 0
  fi
  rm -rf "$dir"
  python3 -m venv "$dir" && "$dir/bin/pip" install -q --disable-pip-version-check "$@" && "$dir/bin/pip" check &&
    echo "$stamp" >"$dir/.stamp" && echo made
}

# The tarball unpacked at $1/ansible_collections/NAMESPACE/NAME (ansible-test and antsibull-docs want that path).
unpack() {
  local dest=$1/ansible_collections/$NAMESPACE/$NAME
  rm -rf "$1/ansible_collections" && mkdir -p "$dest" && tar -xzf "$TARBALL" -C "$dest" && echo "$dest"
}

check_galaxy_importer() {
  # run_ansible_test: Galaxy runs ansible-test in a container image (sanity runs here instead, below).
  # run_ansible_lint: make lint runs ansible-lint --profile production on the whole tree, with no rule skipped;
  # the importer's run of the same ansible-lint (with rules skipped) only logs warnings and takes 100 s more.
  cat >"$WORK/galaxy-importer.cfg" <<'CFG'
[galaxy-importer]
run_ansible_test = False
run_ansible_lint = False
run_ansible_doc = True
run_flake8 = False
check_changelog = True
CFG
  mkdir -p "$WORK/importer" && cd "$WORK/importer" || return 1  # it writes importer_result.json here
  GALAXY_IMPORTER_CONFIG=$WORK/galaxy-importer.cfg PATH=$TOOLS/bin:$PATH \
    "$TOOLS/bin/python" -m galaxy_importer.main "$TARBALL" >importer.log 2>&1
  local rc=$?
  cat importer.log
  [ "$rc" = 0 ] || return "$rc"
  # Galaxy shows the import's warnings and errors on the collection's page: a clean import has none.
  if grep -E '^(WARNING|ERROR):' importer.log; then
    echo "the import logged the warnings or errors above"
    return 1
  fi
}

check_docs_lint() {
  local dest
  dest=$(unpack "$WORK/docs-lint") || return 1
  cd "$dest" || return 1
  # antsibull-docs runs ansible-doc from PATH: that of the tools venv, at .venv's ansible-core version.
  PATH=$TOOLS/bin:$PATH PYTHONDONTWRITEBYTECODE=1 "$TOOLS/bin/antsibull-docs" lint-collection-docs --plugin-docs .
}

check_sanity() {
  local scratch=$ROOT/build/release-sanity dest
  dest=$scratch/ansible_collections/$NAMESPACE/$NAME
  # ansible-test's own output is kept from one run to the next (as scripts/sanity.sh keeps it): its virtualenv
  # for the delegated run is made once.
  if [ -d "$dest/tests/output" ]; then
    rm -rf "$scratch/output" && mv "$dest/tests/output" "$scratch/output" || return 1
  fi
  unpack "$scratch" >/dev/null || return 1
  if [ -d "$scratch/output" ]; then
    mkdir -p "$dest/tests" && mv "$scratch/output" "$dest/tests/output" || return 1
  fi
  cd "$dest" || return 1
  # ansible-test lists the files to test with git when it finds a .git in a directory above: this checkout's,
  # which ignores build/, so it would test nothing. A repository of its own makes it list the tarball's files
  # (and not its own output, which the tree's .gitignore would leave out, but the tarball has none).
  git init -q . && echo tests/output/ >.git/info/exclude || return 1
  export PATH=$VENV/bin:$PATH
  ansible-test sanity --venv --python "$PYTHON_VERSION" --color no >"$WORK/sanity.out" 2>&1
  local rc=$?
  cat "$WORK/sanity.out"
  [ "$rc" = 0 ] || return "$rc"
  if grep -q 'All targets skipped' "$WORK/sanity.out"; then
    echo "ansible-test found nothing to test"
    return 1
  fi
  grep -c '^Running sanity test' "$WORK/sanity.out" | sed 's/$/ sanity tests ran/'
}

check_install() {
  ensure_venv "$USER_VENV" "ansible-core==$ANSIBLE_CORE" -r "$ROOT/requirements.txt" || return 1
  local dir=$WORK/install
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || return 1
  # Nothing of this checkout: no ansible.cfg (it points at .lab/collections), only the installed tarball.
  : >ansible.cfg
  export ANSIBLE_CONFIG=$dir/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$dir/collections ANSIBLE_NOCOLOR=1
  export PATH=$USER_VENV/bin:$PATH
  ansible-galaxy collection install "$TARBALL" -p "$dir/collections" || return 1
  local installed=$dir/collections/ansible_collections/$NAMESPACE/$NAME
  [ -f "$installed/MANIFEST.json" ] || { echo "not installed at $installed"; return 1; }

  ansible-doc -l "$NAMESPACE.$NAME" >modules.txt || return 1
  cat modules.txt
  local module missing=0 count=0
  for module in "$installed"/plugins/modules/*.py; do
    module=$(basename "$module" .py)
    [ "$module" = __init__ ] && continue
    count=$((count + 1))
    grep -q "^$NAMESPACE\.$NAME\.$module " modules.txt || { echo "ansible-doc -l does not list $module"; missing=1; }
  done
  if [ "$count" = 0 ] || [ "$missing" = 1 ]; then
    echo "$count modules in the tarball, not all listed"
    return 1
  fi

  ansible-doc "$NAMESPACE.$NAME.compose_deploy" >compose_deploy.txt || return 1
  head -n 3 compose_deploy.txt
  if ! grep -qF "> MODULE $NAMESPACE.$NAME.compose_deploy ($installed/" compose_deploy.txt ||
     ! grep -q '^OPTIONS' compose_deploy.txt; then
    echo "ansible-doc did not render compose_deploy from $installed"
    return 1
  fi

  # A user's playbook: a filter of the collection (with the module_utils it imports) on the controller.
  cat >playbook.yml <<'YAML'
---
- name: Use a filter of the installed collection
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check two daemon.json settings with outerloop.docker.daemon_config_errors
      ansible.builtin.assert:
        that:
          - "{'log-driver': 'json-file', 'log-opts': {'max-size': '10m'}} | outerloop.docker.daemon_config_errors == []"
          - "{'log-opts': {'max-file': 3}, 'no-such-key': true} | outerloop.docker.daemon_config_errors | length == 2"
        quiet: true
YAML
  ansible-playbook -i localhost, playbook.yml || return 1
  echo "$count modules listed; compose_deploy rendered; the playbook ran"
}

# Before anything: what this script needs of the checkout.
for tool in ansible-galaxy ansible-test python; do
  [ -x "$VENV/bin/$tool" ] || { echo "release-checks: $VENV/bin/$tool is missing: run make bootstrap" >&2; exit 1; }
done
[ -s "$HOME/.ansible/test/cache/get_pip_24_2.py" ] ||
  { echo "release-checks: ansible-test's pip stand-in is missing: run make bootstrap" >&2; exit 1; }
NAMESPACE=$(sed -n 's/^namespace: *//p' galaxy.yml)
NAME=$(sed -n 's/^name: *//p' galaxy.yml)
VERSION=$(sed -n 's/^version: *//p' galaxy.yml)
ANSIBLE_CORE=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("ansible-core"))')
PYTHON_VERSION=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
TARBALL=$ROOT/build/dist/$NAMESPACE-$NAME-$VERSION.tar.gz
rm -rf "$WORK" && mkdir -p "$WORK"
echo "release checks of $NAMESPACE.$NAME $VERSION (ansible-core $ANSIBLE_CORE, Python $PYTHON_VERSION)"

run_check build "$VENV/bin/ansible-galaxy" collection build --output-path build/dist --force
report build "${TARBALL#"$ROOT"/} ($(($(stat -c %s "$TARBALL" 2>/dev/null || echo 0) / 1024)) KiB)"
[ ${#failed[@]} = 0 ] || exit 1

run_check tools-venv ensure_venv "$TOOLS" "ansible-core==$ANSIBLE_CORE" -r requirements-release.txt
report tools-venv "$(tail -n 1 "$WORK/tools-venv.log") ${TOOLS#"$ROOT"/}"

pids=()
if [ ${#failed[@]} = 0 ]; then
  (run_check galaxy-importer check_galaxy_importer) &
  pids+=($!)
  (run_check docs-lint check_docs_lint) &
  pids+=($!)
fi
(run_check sanity check_sanity) &
pids+=($!)
(run_check install check_install) &
pids+=($!)
wait "${pids[@]}"

if [ ${#failed[@]} = 0 ]; then
  report galaxy-importer "galaxy-importer $("$TOOLS/bin/pip" show galaxy-importer 2>/dev/null | sed -n 's/^Version: //p')"
  report docs-lint "antsibull-docs $("$TOOLS/bin/pip" show antsibull-docs 2>/dev/null | sed -n 's/^Version: //p')"
else
  say galaxy-importer skipped 0 "no tools venv"
  say docs-lint skipped 0 "no tools venv"
fi
report sanity "ansible-test sanity --python $PYTHON_VERSION: $(tail -n 1 "$WORK/sanity.log")"
report install "$(tail -n 1 "$WORK/install.log")"

if [ ${#failed[@]} -gt 0 ]; then
  echo "release checks FAILED: ${failed[*]}"
  exit 1
fi
echo "release checks ok: ${TARBALL#"$ROOT"/}"
