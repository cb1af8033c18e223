#!/bin/bash
# The health check of both images (their HEALTHCHECK runs it every 2 s), in bash alone: a Python
# interpreter per check would cost about 0.1 s of CPU, every 2 s, for as long as the service runs.
#
#   bash /app/health.sh PORT PATH    healthy when 127.0.0.1:PORT answers GET PATH with 2xx
#
# Exit status 0 when healthy, 1 otherwise, with the answer on stdout: Docker keeps it in the
# container's health log (docker inspect: State.Health.Log), so an unhealthy service says why.
set -u
if [[ $# -ne 2 ]]; then
  echo "usage: health.sh PORT PATH" >&2
  exit 2
fi
port=$1 path=$2 status="" line="" body=""
if ! { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
  echo "GET $path: nothing listens on port $port"
  exit 1
fi
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
if ! IFS= read -r -t 8 status <&3; then
  echo "GET $path: no answer within 8 s"
  exit 1
fi
status=${status%$'\r'}
while IFS= read -r -t 8 line <&3 && [[ -n ${line%$'\r'} ]]; do :; done
IFS= read -r -t 8 -d '' body <&3
exec 3>&-
echo "GET $path: $status ${body:0:300}"
code=${status#* }
[[ ${code:0:1} == 2 ]]
