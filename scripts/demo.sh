#!/usr/bin/env bash
# Usage: scripts/demo.sh
#
# The README's first command. Sets the machine up, builds a fat demo image
# (by default fixtures/c-app, ~450 MB: a C program built with build-essential,
# zlib and OpenSSL left in, as a naive Dockerfile does), builds slimify, slims the
# image into slimify-demo:slim, runs both images, and compares:
#   * the app's output (exit 1 when it differs),
#   * the run-relevant image config (exit 1 when it differs),
#   * the sizes (MB and ratio).
#
# Environment:
#   SLIMIFY            slimify binary to use (default: cargo build --release,
#                      then $CARGO_TARGET_DIR/release/slimify, target/ by default)
#   DEMO_FIXTURE=NAME  slim fixtures/NAME instead (demo, py-app, py-numpy,
#                      node-app, java-app, shell-app, perl-app, go-static, ...)
#   DEMO_KEEP_ALL=1    flatten with --keep '/**' instead of tracing, and also
#                      compare fixtures/fsdump.py listings of both images
set -euo pipefail

# The slimify flags of the demo, in one place: trace what the image runs, or
# with DEMO_KEEP_ALL=1 keep everything (the result is the flattened image).
FIXTURE=${DEMO_FIXTURE:-c-app}
SLIMIFY_FLAGS=()
if [[ ${DEMO_KEEP_ALL:-0} == 1 ]]; then
    SLIMIFY_FLAGS=(--keep '/**')
fi
SLIM=slimify-demo:slim

cd "$(dirname "${BASH_SOURCE[0]}")/.."
step() { printf '\n==> %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

step "setup"
scripts/setup.sh

step "building the fat demo image (first time: a few minutes)"
FAT=$(scripts/fixture.sh "$FIXTURE")
echo "fat image: $FAT"

if [[ -z ${SLIMIFY:-} ]]; then
    step "cargo build --release"
    cargo build --release
    SLIMIFY=${CARGO_TARGET_DIR:-target}/release/slimify
fi
[[ -x $SLIMIFY ]] || die "slimify binary '$SLIMIFY' not found"

step "slimify docker-daemon:$FAT -o docker-daemon:$SLIM ${SLIMIFY_FLAGS[*]}"
docker image rm -f "$SLIM" >/dev/null 2>&1 || true
start=$(date +%s.%N)
"$SLIMIFY" "docker-daemon:$FAT" -o "docker-daemon:$SLIM" "${SLIMIFY_FLAGS[@]}"
end=$(date +%s.%N)
docker image inspect "$SLIM" >/dev/null 2>&1 || die "slimify did not produce $SLIM"
python3 -c "import sys; print(f'slimify took {float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$start" "$end"

out=$(mktemp -d "${TMPDIR:-/tmp}/slimify-demo.XXXXXX")
trap 'rm -rf "$out"' EXIT

run() { docker run --rm --network none "$@"; }

step "running the fat image"
run "$FAT" >"$out/fat.txt" 2>&1 || echo "(exit status $?)" >>"$out/fat.txt"
cat "$out/fat.txt"
step "running the slim image"
run "$SLIM" >"$out/slim.txt" 2>&1 || echo "(exit status $?)" >>"$out/slim.txt"
cat "$out/slim.txt"

# Config fields that change how a container runs. (docker inspect's .Config
# also has fields docker fills in itself, e.g. Image and Hostname.)
config() {
    docker image inspect -f '{{json .Config}}' "$1" | python3 -c '
import json, sys
c = json.load(sys.stdin)
keys = ["User", "Env", "Entrypoint", "Cmd", "WorkingDir", "ExposedPorts",
        "Volumes", "Labels", "StopSignal", "Healthcheck", "Shell", "OnBuild"]
print(json.dumps({k: c.get(k) or None for k in keys}, indent=1, sort_keys=True))'
}
config "$FAT" >"$out/fat.config"
config "$SLIM" >"$out/slim.config"

status=0
step "verdict"
if cmp -s "$out/fat.txt" "$out/slim.txt"; then
    echo "output: IDENTICAL ($(wc -l <"$out/fat.txt") lines)"
else
    echo "output: DIFFERENT"
    diff -u --label fat --label slim "$out/fat.txt" "$out/slim.txt" || true
    status=1
fi
if cmp -s "$out/fat.config" "$out/slim.config"; then
    echo "config: IDENTICAL"
else
    echo "config: DIFFERENT"
    diff -u --label fat --label slim "$out/fat.config" "$out/slim.config" || true
    status=1
fi

if [[ ${DEMO_KEEP_ALL:-0} == 1 ]]; then
    dump() {
        docker run --rm --network none --user 0 -v "$PWD/fixtures/fsdump.py:/fsdump.py:ro" \
            --entrypoint python3 "$1" /fsdump.py
    }
    dump "$FAT" >"$out/fat.fs"
    dump "$SLIM" >"$out/slim.fs"
    if cmp -s "$out/fat.fs" "$out/slim.fs"; then
        echo "filesystem: IDENTICAL ($(wc -l <"$out/fat.fs") paths)"
    else
        echo "filesystem: DIFFERENT"
        diff -u --label fat --label slim "$out/fat.fs" "$out/slim.fs" | head -n 60 || true
        status=1
    fi
fi

fat_size=$(docker image inspect -f '{{.Size}}' "$FAT")
slim_size=$(docker image inspect -f '{{.Size}}' "$SLIM")
python3 - "$fat_size" "$slim_size" <<'EOF'
import sys
fat, slim = (int(x) for x in sys.argv[1:3])
print(f"size:   fat {fat / 1e6:.1f} MB  ->  slim {slim / 1e6:.1f} MB"
      f"  ({fat / slim:.2f}x smaller, {100 * (1 - slim / fat):.1f}% saved)" if slim else "size: slim is empty")
EOF
exit $status
