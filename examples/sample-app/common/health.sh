#!/bin/bash
# Health checks that the images' HEALTHCHECK instructions run, in bash alone: Docker runs one every two
# seconds in every container, so a check must cost next to nothing (a Python interpreter per check costs
# about 0.1 s of CPU, which a host running a few of these apps spends without end).
#
#   bash common/health.sh http PORT PATH           healthy when 127.0.0.1:PORT answers GET PATH with 2xx
#   bash common/health.sh heartbeat FILE MAX_AGE   healthy when FILE was touched less than MAX_AGE s ago
#
# Exit status 0 when healthy, 1 otherwise, with the reason on stdout: Docker keeps it in the
# container's health log (docker inspect: State.Health.Log), so an unhealthy api says why.
set -u

http() {
  local port=$1 path=$2 status line body=""
  if ! { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    echo "GET $path: nothing listens on port $port"
    return 1
  fi
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
  if ! IFS= read -r -t 8 status <&3; then
    echo "GET $path: no answer within 8 s"
    return 1
  fi
  status=${status%$'\r'}
  while IFS= read -r -t 8 line <&3 && [[ -n ${line%$'\r'} ]]; do :; done
  IFS= read -r -t 8 -d '' body <&3
  exec 3>&-
  echo "GET $path: $status ${body:0:300}"
  local code=${status#* }
  [[ ${code:0:1} == 2 ]]
}

heartbeat() {
  local file=$1 max_age=$2 mtime now age
  if ! mtime=$(stat -c %Y "$file" 2>/dev/null); then
    echo "no heartbeat: $file does not exist"
    return 1
  fi
  printf -v now '%(%s)T' -1
  age=$((now - mtime))
  if ((age > max_age)); then
    echo "heartbeat is ${age}s old (limit ${max_age}s)"
    return 1
  fi
  echo "heartbeat is ${age}s old"
}

if [[ $# -ne 3 || ( $1 != http && $1 != heartbeat ) ]]; then
  echo "usage: health.sh http PORT PATH | heartbeat FILE MAX_AGE" >&2
  exit 2
fi
"$1" "$2" "$3"
