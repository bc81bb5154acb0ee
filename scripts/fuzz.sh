#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [TARGET...]
#
# Runs the cargo-fuzz targets in fuzz/ (SECURITY.md) for FUZZ_SECONDS each
# (default 20; CI's short fixed run), starting from seed corpora built here:
#   layers          tars with files, links, whiteouts (plain, gzip, zstd)
#   image_metadata  fuzz/seeds/image_metadata (index + manifest + config)
#   elf_trace       real ELF programs and libraries of this machine
#   ld_cache        this machine's /etc/ld.so.cache
# Installs what it needs: the nightly toolchain (libFuzzer needs it) and
# cargo-fuzz. A crash fails the run; libFuzzer leaves the input in
# fuzz/artifacts/TARGET/, which then becomes a regression test.
# Longer runs: FUZZ_SECONDS=3600 scripts/fuzz.sh layers
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_EACH=${FUZZ_SECONDS:-20}
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(layers image_metadata elf_trace ld_cache)

log() { printf 'fuzz: %s\n' "$*" >&2; }

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    log "installing the nightly toolchain (libFuzzer's instrumentation needs it) ..."
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz ..."
    cargo install cargo-fuzz --locked
fi

corpus=fuzz/corpus
mkdir -p "$corpus"/{layers,image_metadata,elf_trace,ld_cache}
cp fuzz/seeds/image_metadata/* "$corpus/image_metadata/"
[[ -r /etc/ld.so.cache ]] && cp /etc/ld.so.cache "$corpus/ld_cache/host"
for f in /usr/bin/true /usr/bin/env /usr/lib/x86_64-linux-gnu/libz.so.1 /lib64/ld-linux-x86-64.so.2; do
    [[ -r $f ]] && cp -L "$f" "$corpus/elf_trace/$(basename "$f")"
done
python3 - "$corpus/layers" <<'EOF'
import gzip, io, sys, tarfile
out = sys.argv[1]
def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind == "dir":
                info.type = tarfile.DIRTYPE; info.mode = 0o755
                t.addfile(info)
            elif kind == "sym":
                info.type = tarfile.SYMTYPE; info.linkname = data
                t.addfile(info)
            elif kind == "hard":
                info.type = tarfile.LNKTYPE; info.linkname = data
                t.addfile(info)
            else:
                info.size = len(data); info.mode = 0o755
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()
base = tar([("usr", "dir", ""), ("usr/bin", "dir", ""), ("bin", "sym", "usr/bin"),
            ("usr/bin/sh", "file", b"#!/bin/false\n"), ("usr/bin/app", "file", b"#!/bin/sh\nexec python3 /app/main.py\n"),
            ("app/main.py", "file", b"import json\nopen('/data/x')\n"), ("data/x", "file", b"1"),
            ("etc/passwd", "file", b"root:x:0:0::/root:/bin/sh\n"), ("etc/hard", "hard", "etc/passwd")])
upper = tar([("usr/bin/.wh.app", "file", b""), ("data/.wh..wh..opq", "file", b""), ("data/y", "file", b"2"),
             ("loop", "sym", "loop"), ("up", "sym", "../../..")])
open(f"{out}/one", "wb").write(base)
open(f"{out}/two", "wb").write(base + b"\xffLAYER\xff" + upper)
open(f"{out}/gzip", "wb").write(gzip.compress(base))
EOF
if command -v zstd >/dev/null; then
    zstd -q -f -o "$corpus/layers/zstd" "$corpus/layers/one"
fi

status=0
for t in "${TARGETS[@]}"; do
    log "$t: ${SECONDS_EACH}s on $(ls "$corpus/$t" | wc -l) seeds ..."
    if ! cargo +nightly fuzz run "$t" "$corpus/$t" -- \
        -max_total_time="$SECONDS_EACH" -max_len=1048576 -rss_limit_mb=4096 -print_final_stats=1 \
        2>"fuzz/$t.log"; then
        tail -n 40 "fuzz/$t.log" >&2
        log "$t: FAILED (input saved under fuzz/artifacts/$t/)"
        status=1
    else
        grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "fuzz/$t.log" | tail -n 2 >&2 || true
    fi
done
exit $status
