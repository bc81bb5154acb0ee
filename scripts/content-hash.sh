#!/usr/bin/env bash
# Usage: scripts/content-hash.sh DIR BASE_TAG
#
# Prints 12 hex digits of sha256 over the base image tag and, for every file
# and symlink below DIR (sorted, NUL-safe), its relative path, permission bits
# and content digest (or link target): the cache key of an image built from
# DIR on BASE_TAG (scripts/fixture.sh, scripts/bench.sh batch).
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 DIR BASE_TAG" >&2; exit 1; }
dir=$1
base_tag=$2
{
    printf 'base=%s\n' "$base_tag"
    cd "$dir"
    find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z |
        while IFS= read -r -d '' f; do
            if [[ -L $f ]]; then
                printf '%s\tlink\t%s\n' "$f" "$(readlink "$f")"
            else
                printf '%s\t%s\t%s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -c1-64)"
            fi
        done
} | sha256sum | cut -c1-12
