#!/usr/bin/env bash
# Usage: scripts/fixture.sh NAME
#
# Builds the test fixture image fixtures/NAME/Dockerfile and prints only its tag
#   slimify-fixture/NAME:<12 hex of sha256(base tag + every file in fixtures/NAME)>
# on stdout. The Dockerfile must start with `ARG BASE` / `FROM $BASE`; the base
# recipe is the single line `BASENAME pkg1,pkg2,...` in fixtures/NAME/base and
# is built by scripts/base-image.sh.
#
# Cached: nothing is built if the tag exists. Concurrent callers serialise on a
# per-fixture flock. Build output goes to a log file (path printed on stderr;
# set SLIMIFY_VERBOSE=1 to stream it to stderr instead).
#
# Optional marker fixtures/NAME/needs-ca: the build runs from a temporary copy
# of the directory that also holds the host's CA bundle as ./ca-certificates.crt
# (for pip/npm behind the TLS-intercepting package proxy), and the build gets
# host networking so RUN steps can reach the package registries. Without the
# marker builds run with --network none.
set -euo pipefail

log() { printf 'fixture: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 NAME"
name=$1
[[ $name =~ ^[a-z0-9]+([._-][a-z0-9]+)*$ ]] || die "invalid NAME '$name'"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
dir="$root/fixtures/$name"
[[ -f $dir/Dockerfile ]] || die "$dir/Dockerfile not found"
[[ -f $dir/base ]] || die "$dir/base not found (one line: BASENAME pkg1,pkg2,...)"

read -r base_name base_pkgs _ <"$dir/base" || true
[[ -n ${base_name:-} && -n ${base_pkgs:-} ]] || die "$dir/base must be one line 'BASENAME pkg1,pkg2,...'"
base_tag=$("$here/base-image.sh" "$base_name" "$base_pkgs")
[[ -n $base_tag ]] || die "base-image.sh printed no tag"

# Content hash: base tag, then for each file (sorted, NUL-safe) its relative
# path, permission bits and content digest.
hash=$(bash "$here/content-hash.sh" "$dir" "$base_tag")
tag="slimify-fixture/$name:$hash"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

if image_exists "$tag"; then
    log "reusing $tag"
    printf '%s\n' "$tag"
    exit 0
fi

cache=${SLIMIFY_CACHE:-$HOME/.cache/slimify}
mkdir -p "$cache/locks" "$cache/logs"
exec 9>"$cache/locks/fixture-$name.lock"
if ! flock -n 9; then
    log "waiting for another build of fixture $name ..."
    flock -w 3600 9 || die "timed out waiting for the $name fixture lock"
fi

if image_exists "$tag"; then
    log "reusing $tag"
    printf '%s\n' "$tag"
    exit 0
fi

ctx=$dir
tmpctx=""
cleanup() { if [[ -n $tmpctx ]]; then rm -rf "$tmpctx"; fi; }
trap cleanup EXIT
network=none
if [[ -e $dir/needs-ca ]]; then
    ca=/etc/ssl/certs/ca-certificates.crt
    [[ -r $ca ]] || die "$dir/needs-ca is set but $ca is missing"
    tmpctx=$(mktemp -d "${TMPDIR:-/tmp}/slimify-fixture-$name.XXXXXX")
    cp -a "$dir/." "$tmpctx/"
    cp "$ca" "$tmpctx/ca-certificates.crt"
    ctx=$tmpctx
    network=host
fi

logfile="$cache/logs/fixture-$name-$hash.log"
log "building $tag from fixtures/$name on $base_tag (log: $logfile) ..."
start=$(date +%s)
build=(docker build --network "$network" --rm --force-rm
       --build-arg "BASE=$base_tag" -t "$tag" -f "$ctx/Dockerfile" "$ctx")
status=0
if [[ ${SLIMIFY_VERBOSE:-0} == 1 ]]; then
    DOCKER_BUILDKIT=0 "${build[@]}" 2>&1 | tee "$logfile" >&2 || status=$?   # pipefail
else
    DOCKER_BUILDKIT=0 "${build[@]}" >"$logfile" 2>&1 || status=$?
fi
if [[ $status -ne 0 ]] || ! image_exists "$tag"; then
    tail -n 40 "$logfile" >&2 || true
    die "docker build of fixtures/$name failed (status $status, log: $logfile)"
fi
log "built $tag in $(( $(date +%s) - start ))s"
printf '%s\n' "$tag"
