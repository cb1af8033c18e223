#!/usr/bin/env bash
# The CD half of the demo on the lab, after `make ci`: the sample application's newest release to
# qa, promoted to staging, production (canary first, then the other host) and the cluster (a Docker
# Swarm); a release with a bug only an environment shows (its api refuses APP_ENVIRONMENT=qa) goes to qa
# and rolls back; then the next release, a change of the api alone, goes to production while a client
# sends each host a request every 50 ms: canary first, each api switched behind the host's front proxy,
# 0 failed requests, the store and the worker untouched; the status of every environment; last, the release
# board of every environment (board/board.html).
set -euo pipefail
cd "$(dirname "$0")/.."
playbook=(.venv/bin/ansible-playbook)
repo=$(bash scripts/sample-repo.sh)
version=1.0.$(git -C "$repo" rev-list --count HEAD)
release=$PWD/.lab/releases/sample-app-$version.json
[ -f "$release" ] || { echo "no release $release: run make ci first" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "deploy $version to qa"
"${playbook[@]}" -i inventories/qa outerloop.docker.deploy -e outerloop_release_path="$release"
step "promote $version to staging"
"${playbook[@]}" -i inventories/staging outerloop.docker.promote -e outerloop_release_path="$release"
step "promote $version to production: prod1 first (the canary) and its soak, then prod2"
"${playbook[@]}" -i inventories/production outerloop.docker.promote -e outerloop_release_path="$release"
step "promote $version to the cluster: a Docker Swarm of three nodes, rolling, health-gated"
"${playbook[@]}" -i inventories/lab tests/lab/seed.yml --limit cluster >/dev/null  # the lab's front proxy image
"${playbook[@]}" -i inventories/cluster outerloop.docker.promote -e outerloop_release_path="$release"

# The broken release: a branch of the sample repository, built and published by the same CI.
git -C "$repo" checkout -q -B broken main
sed -i 's/            if store.ping(timeout=2.0):/            if store.ping(timeout=2.0) and os.environ.get("APP_ENVIRONMENT", "dev") in ("dev", "ci"):/' \
  "$repo/api/app.py"
# Dated like main's commit, so that the same main always gives the same broken commit (and version).
when=$(git -C "$repo" log -1 --format=%cI main)
GIT_AUTHOR_DATE=$when GIT_COMMITTER_DATE=$when git -C "$repo" -c user.name="outerloop demo" \
  -c user.email=demo@outerloop.invalid commit -q -am "api: only known environments are healthy (forgets qa)"
broken=$version-broken.$(git -C "$repo" rev-list --count broken)
git -C "$repo" checkout -q main
step "CI of the broken commit as $broken (CI cannot see the bug: it sets no APP_ENVIRONMENT)"
"${playbook[@]}" -i inventories/lab outerloop.docker.ci -e @examples/ci-sample-app.yml -e ci_source_repo="$repo" \
  -e ci_source_ref=broken -e ci_version="$broken" -e ci_release_dir="$PWD/.lab/releases" >/dev/null
step "deploy $broken to qa: unhealthy there, rolled back automatically"
if "${playbook[@]}" -i inventories/qa outerloop.docker.deploy \
     -e outerloop_release_path="$PWD/.lab/releases/sample-app-$broken.json" > .lab/broken-deploy.log 2>&1; then
  echo "the broken release deployed: that is a bug of the demo" >&2; exit 1
fi
# The run's last word: why, the unhealthy containers' last log lines, what every host runs now.
sed -n '/Stop at the first failing host/,$p' .lab/broken-deploy.log | sed -n '/^fatal/,/^$/p'
echo "(whole output: .lab/broken-deploy.log)"

# The next release: a change of the api alone, on a branch of the sample repository (dated like main's commit,
# so that the same main always gives the same commit and version).
git -C "$repo" checkout -q -B next main
printf '\n# The next release: a change of the api alone.\n' >> "$repo/api/app.py"
GIT_AUTHOR_DATE=$when GIT_COMMITTER_DATE=$when git -C "$repo" -c user.name="outerloop demo" \
  -c user.email=demo@outerloop.invalid commit -q -am "api: the next release"
next=$version+next.$(git -C "$repo" rev-list --count next)
git -C "$repo" checkout -q main
next_release=$PWD/.lab/releases/sample-app-$next.json
step "CI of the next release, $next: only the api's image changes (the store's and the worker's keep their digests)"
"${playbook[@]}" -i inventories/lab outerloop.docker.ci -e @examples/ci-sample-app.yml -e ci_source_repo="$repo" \
  -e ci_source_ref=next -e ci_version="$next" -e ci_release_dir="$PWD/.lab/releases" >/dev/null
step "$next to qa and staging"
"${playbook[@]}" -i inventories/qa outerloop.docker.deploy -e outerloop_release_path="$next_release" >/dev/null
"${playbook[@]}" -i inventories/staging outerloop.docker.promote -e outerloop_release_path="$next_release" >/dev/null
containers() {  # the store's and the worker's container IDs on prod1 and prod2
  for host in prod1 prod2; do
    for service in store worker; do
      docker exec "$host" docker ps -q --filter label=com.docker.compose.project=sample-app \
        --filter label=com.docker.compose.service=$service
    done
  done | sort | tr '\n' ' '
}
before=$(containers)
step "promote $next to production under traffic: a request every 50 ms to each host's /healthz (which needs
the store), prod1 first (the canary) and its soak, then prod2, each api switched behind the host's front proxy"
.venv/bin/python tests/integration/traffic.py http://172.29.77.41:8080/healthz http://172.29.77.42:8080/healthz \
  > .lab/production-traffic.txt &
traffic=$!
promoted=0
"${playbook[@]}" -i inventories/production outerloop.docker.promote -e outerloop_release_path="$next_release" \
  > .lab/next-promote.log 2>&1 || promoted=$?
kill -TERM "$traffic"; wait "$traffic" || true
[ "$promoted" = 0 ] || { tail -40 .lab/next-promote.log; echo "the promote of $next failed" >&2; exit 1; }
# What the run said of the canary, its soak and the switch of each host.
sed -nE '/Say which hosts deploy first|Say what the deploy changed on the host|Say which hosts were the canary/,/^$/p' \
  .lab/next-promote.log | grep -vE '^(TASK|skipping|$)'
echo "(whole output: .lab/next-promote.log)"
echo "requests during the promote (failed ones counted):"; cat .lab/production-traffic.txt
after=$(containers)
if [ "$before" = "$after" ]; then
  echo "the store's and the worker's containers on prod1 and prod2 are the same before and after: $after"
else
  echo "the store's and the worker's containers changed: $before -> $after"
fi

for env in qa staging production cluster; do
  step "status of $env"
  "${playbook[@]}" -i inventories/$env outerloop.docker.status -e deploy_project=sample-app \
    | sed -nE '/Show the (environment|stack) as a table/,/^$/p' | grep -E "^\s+- " || true
done

step "the release board: every environment in one static HTML page (docs/board.md)"
"${playbook[@]}" -i inventories/lab outerloop.docker.board -e board_dir="$PWD/board" > .lab/board.log
echo "release board: $PWD/board/board.html (open it in a browser; the run's output: .lab/board.log)"
