#!/usr/bin/env bash
# Usage: scripts/base-image.sh NAME PKG[,PKG...]
#
# Builds (or reuses) a Debian bookworm "minbase" root filesystem containing the
# given packages with mmdebstrap, imports it into the local docker engine as
#   slimify-base/NAME:<12 hex of sha256(recipe)>
# and prints only that tag on stdout (all logs go to stderr).
#
# No registry is reachable here, so every base image is built locally.
#
# Caching, from cheapest to most expensive:
#   1. the tag already exists in the engine          -> reuse it
#   2. the rootfs tarball is in the cache directory  -> docker import it
#   3. otherwise                                     -> mmdebstrap, then import
# Cache dir: ${SLIMIFY_CACHE:-$HOME/.cache/slimify}/bases/<hash>.tar.zst, so a
# wiped engine re-imports without downloading again.
#
# Concurrency: callers (tests run in parallel) serialise on a per-recipe flock,
# so a recipe is built once; the tarball is written to a temporary name and
# renamed when complete, so an interrupted build never leaves a bad entry.
#
# Environment:
#   SLIMIFY_CACHE           cache root (default: $HOME/.cache/slimify)
#   SLIMIFY_DEBIAN_MIRROR   mirror URL (default: http://deb.debian.org/debian).
#                           Not part of the recipe hash: any mirror of the same
#                           suite is meant to give the same packages.
set -euo pipefail

# Bump when the way the rootfs is produced changes (invalidates all bases).
SCRIPT_VERSION=1
SUITE=bookworm
VARIANT=minbase
MIRROR=${SLIMIFY_DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf 'base-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 NAME PKG[,PKG...]"
name=$1
pkgs_in=$2
[[ $name =~ ^[a-z0-9]+([._-][a-z0-9]+)*$ ]] || die "invalid NAME '$name' (lowercase letters, digits, . _ -)"

# Normalised, sorted, de-duplicated package list.
# shellcheck disable=SC2001  # one sed splits on both separators
pkgs=$(sed 's/[, ]\+/\n/g' <<<"$pkgs_in" | sed '/^$/d' | LC_ALL=C sort -u | paste -sd, -)
[[ -n $pkgs ]] || die "empty package list"
[[ $pkgs =~ ^[a-z0-9][a-z0-9.+,-]*$ ]] || die "invalid package list '$pkgs'"

recipe=$(printf 'suite=%s\nvariant=%s\npackages=%s\nscript-version=%s\n' \
    "$SUITE" "$VARIANT" "$pkgs" "$SCRIPT_VERSION")
hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-12)
tag="slimify-base/$name:$hash"

cache=${SLIMIFY_CACHE:-$HOME/.cache/slimify}/bases
mkdir -p "$cache"
tarball="$cache/$hash.tar.zst"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Fast path without taking the lock.
if image_exists "$tag"; then
    log "reusing $tag"
    printf '%s\n' "$tag"
    exit 0
fi

exec 9>"$cache/$hash.lock"
if ! flock -n 9; then
    log "waiting for another build of $tag ..."
    flock -w 3600 9 || die "timed out waiting for lock $cache/$hash.lock"
fi

tmp=""
cleanup() { if [[ -n $tmp ]]; then rm -f "$tmp"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# Holding the lock, any temporary file of this recipe is a leftover of an
# interrupted build.
rm -f "$cache/.tmp.$hash".*

if image_exists "$tag"; then   # built by whoever held the lock
    log "reusing $tag"
    printf '%s\n' "$tag"
    exit 0
fi

if [[ -s $tarball ]] && ! zstd -q -t "$tarball" 2>/dev/null; then
    log "cached tarball $tarball is corrupt, rebuilding"
    rm -f "$tarball"
fi

if [[ ! -s $tarball ]]; then
    command -v mmdebstrap >/dev/null || die "mmdebstrap not installed (run scripts/setup.sh)"
    printf '%s' "$recipe" >"$cache/$hash.recipe"
    tmp="$cache/.tmp.$hash.$$.tar.zst"
    log "building $SUITE/$VARIANT rootfs with [$pkgs] from $MIRROR (recipe $hash) ..."
    start=$(date +%s)
    # mmdebstrap picks the compressor from the extension (.tar.zst -> zstd).
    mmdebstrap --variant="$VARIANT" --components=main --include="$pkgs" \
        "$SUITE" "$tmp" "$MIRROR" >&2 \
        || die "mmdebstrap failed for recipe $hash"
    zstd -q -t "$tmp" || die "mmdebstrap produced a corrupt tarball"
    mv -f "$tmp" "$tarball"
    tmp=""
    log "rootfs built in $(( $(date +%s) - start ))s: $tarball ($(du -h "$tarball" | cut -f1))"
else
    log "importing cached rootfs $tarball"
fi

zstd -q -dc "$tarball" \
    | docker import --message "slimify base: $SUITE $VARIANT [$pkgs] v$SCRIPT_VERSION" - "$tag" >&2 \
    || die "docker import failed for $tag"
image_exists "$tag" || die "docker import did not create $tag"
log "imported $tag"
printf '%s\n' "$tag"
