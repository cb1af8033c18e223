#!/usr/bin/env bash
# The CI half of the sample application as a plain shell script on the build host: the baseline
# that bench_ci.py measures outerloop.docker.ci against. Same steps: build the three images with
# labels, unit tests in the api and worker images, the application up with its functional tests
# from outside, then tag and push as the build user.
#   ci_baseline.sh SOURCE_DIR REGISTRY/PREFIX VERSION BUILD COMMIT
set -euo pipefail
src=$1 repo=$2 version=$3 build=$4 commit=$5
cd "$src"
args=(--build-arg BASE_IMAGE=outerloop-lab/debian:bookworm --build-arg "APP_VERSION=$version"
      --build-arg "APP_REVISION=$commit" --build-arg "APP_BUILD=$build"
      --label "org.opencontainers.image.revision=$commit" --label "org.opencontainers.image.version=$version")
docker build -q "${args[@]}" -t "$repo/api:b$build" -f api/Dockerfile . >/dev/null
docker build -q "${args[@]}" -t "$repo/worker:b$build" -f worker/Dockerfile . >/dev/null
docker build -q "${args[@]}" -t "$repo/store:b$build" store >/dev/null
for svc in api worker; do
  docker run --rm "$repo/$svc:b$build" python3 /app/run_tests.py --junit /tmp/unit.xml >/dev/null
done
cat > /tmp/baseline-override.yaml <<YAML
services:
  api: {image: "$repo/api:b$build"}
  worker: {image: "$repo/worker:b$build"}
  store: {image: "$repo/store:b$build"}
YAML
export API_PORT=18081
docker compose -p "baseline-$build" -f compose.yaml -f /tmp/baseline-override.yaml up -d --wait --no-build --pull never >/dev/null 2>&1
trap 'docker compose -p "baseline-$build" -f compose.yaml -f /tmp/baseline-override.yaml down -v >/dev/null 2>&1' EXIT
python3 tests/functional/run.py --base-url http://127.0.0.1:18081 --expect-version "$version" --junit /tmp/functional.xml >/dev/null
for svc in api worker store; do
  for tag in "$version" "${version%.*}" latest; do
    docker tag "$repo/$svc:b$build" "$repo/$svc:$tag"
    su builder -c "docker push -q $repo/$svc:$tag" >/dev/null
  done
done
