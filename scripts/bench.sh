#!/usr/bin/env bash
# Usage: scripts/bench.sh            timing: slimify against the floor and peers
#        scripts/bench.sh results    sizes: fat vs slim image of each fixture
#
# `results` slims every fixture image by tracing (BENCH_FIXTURES, default the
# C, Go, Python, Node, Java, shell and Perl fixtures), runs fat and slim
# image side by side with --network none, and prints a Markdown table: fat
# and slim size (docker image inspect), ratio, slimify's seconds, and whether
# the output was identical. It exits non-zero if any output differs.
#
# Benchmarks slimify on the demo image (fixtures/demo, ~480 MB) against the
# physical floor and a peer. The image is exported once to an OCI layout with
# gzip layers; then each case runs BENCH_RUNS times (default 3) and the median
# is reported:
#   floor             gzip -dc of every layer blob to /dev/null (decompressing
#                     each layer once: no tool that reads the image can beat it)
#   floor-pigz        the same with pigz -dc, when pigz is installed (a faster
#                     inflater; the ratios are still relative to "floor")
#   slimify-keep-all  slimify oci:src -> oci:out --keep '/**' (flatten)
#   slimify-keep-few  slimify oci:src -> oci:out with a small keep set
#   slimify-trace     slimify oci:src -> oci:out, tracing the entrypoint (no --keep)
#   skopeo-copy       skopeo copy oci:src -> oci:out (a peer that only copies)
#   slimify-daemon    slimify docker-daemon:IMAGE -> oci:out --keep '/**'
#                     (includes the engine's docker save)
#   skopeo-daemon     skopeo copy docker-daemon:IMAGE -> oci:out (peer of the
#                     line above: docker save + gzip of every layer)
# Uses hyperfine (--export-json) when installed, else bash timing.
#
# Environment:
#   SLIMIFY     binary (default target/release/slimify; build it first)
#   FAT         image to use instead of building fixtures/demo
#   BENCH_RUNS  repetitions per case (default 3)
#   BENCH_SLIMIFY_EXTRA  extra slimify flags for every run (default --quiet)
#   BENCH_SKIP_MISSING=1 run the other cases when the slimify binary is missing
#   BENCH_NO_HYPERFINE=1 force bash timing
#   TMPDIR      where the work dir goes (needs ~2 GB)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SLIMIFY=${SLIMIFY:-target/release/slimify}
[[ $SLIMIFY == /* ]] || SLIMIFY="$ROOT/$SLIMIFY"
RUNS=${BENCH_RUNS:-3}
read -r -a EXTRA <<<"${BENCH_SLIMIFY_EXTRA---quiet}"

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench: %s\n' "$*" >&2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
for tool in docker skopeo gzip python3; do
    command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
done

have_slimify=1
if [[ ! -x $SLIMIFY ]]; then
    if [[ ${BENCH_SKIP_MISSING:-0} == 1 ]]; then
        log "slimify binary $SLIMIFY missing: skipping the slimify cases"
        have_slimify=0
    else
        die "slimify binary $SLIMIFY missing (cargo build --release, or BENCH_SKIP_MISSING=1)"
    fi
fi

# Fat vs slim sizes of the fixture images, each run beside its slim image.
results() {
    local fixtures fat slim t0 t1 fat_out slim_out fat_size slim_size same failed=0
    read -r -a fixtures <<<"${BENCH_FIXTURES:-c-app go-static demo py-app py-numpy shell-app node-app java-app perl-app}"
    printf '| fixture | fat | slim | ratio | slimify s | output |\n| --- | ---: | ---: | ---: | ---: | --- |\n'
    for f in "${fixtures[@]}"; do
        fat=$(scripts/fixture.sh "$f")
        slim="slimify-bench/$f:slim"
        t0=$(date +%s.%N)
        "$SLIMIFY" "$fat" -o "$slim" --quiet || die "slimify failed on $fat"
        t1=$(date +%s.%N)
        fat_out=$(docker run --rm --network none "$fat" 2>&1) || true
        slim_out=$(docker run --rm --network none "$slim" 2>&1) || true
        fat_size=$(docker image inspect -f '{{.Size}}' "$fat")
        slim_size=$(docker image inspect -f '{{.Size}}' "$slim")
        docker rmi -f "$slim" >/dev/null
        same=identical
        if [[ $fat_out != "$slim_out" ]]; then
            same=DIFFERENT
            failed=1
        fi
        awk -v f="$f" -v a="$fat_size" -v b="$slim_size" -v t0="$t0" -v t1="$t1" -v s="$same" \
            'BEGIN { printf "| `%s` | %.1f MB | %.1f MB | %.1fx | %.1f | %s |\n", f, a / 1e6, b / 1e6, a / b, t1 - t0, s }'
    done
    return "$failed"
}
if [[ ${1:-} == results ]]; then
    results
    exit
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/slimify-bench.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

FAT=${FAT:-$(scripts/fixture.sh demo)}
docker image inspect "$FAT" >/dev/null 2>&1 || die "image $FAT not in the engine"
log "image: $FAT"

log "exporting to oci:$WORK/src:fat (gzip layers) ..."
skopeo copy --quiet --dest-compress-format gzip "docker-daemon:$FAT" "oci:$WORK/src:fat"

# Layer blobs of the exported manifest, in order.
mapfile -t LAYERS < <(python3 - "$WORK/src" <<'EOF'
import json, os, sys
root = sys.argv[1]
def blob(d):
    algo, hexd = d.split(":", 1)
    return os.path.join(root, "blobs", algo, hexd)
index = json.load(open(os.path.join(root, "index.json")))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "fat")
manifest = json.load(open(blob(desc["digest"])))
for layer in manifest["layers"]:
    if "gzip" not in layer["mediaType"]:
        sys.exit("layer %s is not gzip: %s" % (layer["digest"], layer["mediaType"]))
    print(blob(layer["digest"]))
EOF
)
[[ ${#LAYERS[@]} -gt 0 ]] || die "no layers found in the exported image"

compressed=$(stat -c %s "${LAYERS[@]}" | awk '{s += $1} END {print s}')
uncompressed=$(gzip -dc "${LAYERS[@]}" | wc -c)
docker_size=$(docker image inspect -f '{{.Size}}' "$FAT")

q() { printf '%q' "$1"; }
layers_q=$(for l in "${LAYERS[@]}"; do printf '%q ' "$l"; done)
extra_q=$(for e in "${EXTRA[@]}"; do printf '%q ' "$e"; done)
S=$(q "$SLIMIFY")
W=$(q "$WORK")

NAMES=() PREPS=() CMDS=()
add() { NAMES+=("$1"); PREPS+=("$2"); CMDS+=("$3"); }
add floor            "true" \
    "gzip -dc $layers_q>/dev/null"
# Informational: GNU gzip is a slow inflater; pigz (separate read/write/CRC
# threads) shows how much lower the floor goes with a faster decoder.
if command -v pigz >/dev/null; then
    add floor-pigz   "true" \
        "pigz -dc $layers_q>/dev/null"
fi
if [[ $have_slimify == 1 ]]; then
    add slimify-keep-all "rm -rf $W/out" \
        "$S oci:$W/src:fat -o oci:$W/out:slim --keep '/**' $extra_q"
    # Tracing instead of globs: the same I/O plus the tracer's cost (the
    # demo's entrypoint is a Python app: ELF, stdlib, named paths, VOLUME).
    add slimify-trace "rm -rf $W/out-trace" \
        "$S oci:$W/src:fat -o oci:$W/out-trace:slim $extra_q"
    add slimify-keep-few "rm -rf $W/out-few" \
        "$S oci:$W/src:fat -o oci:$W/out-few:slim --keep '/usr/bin/python3*' --keep '/etc/**' $extra_q"
fi
add skopeo-copy      "rm -rf $W/skopeo-out" \
    "skopeo copy --quiet oci:$W/src:fat oci:$W/skopeo-out:fat"
if [[ $have_slimify == 1 ]]; then
    add slimify-daemon "rm -rf $W/out-daemon" \
        "$S docker-daemon:$(q "$FAT") -o oci:$W/out-daemon:slim --keep '/**' $extra_q"
fi
add skopeo-daemon    "rm -rf $W/skopeo-daemon" \
    "skopeo copy --quiet docker-daemon:$(q "$FAT") oci:$W/skopeo-daemon:fat"

RESULTS="$WORK/results.tsv"   # name <TAB> median seconds
if command -v hyperfine >/dev/null && [[ ${BENCH_NO_HYPERFINE:-0} != 1 ]]; then
    args=(--runs "$RUNS" --style basic --export-json "$WORK/hyperfine.json")
    for i in "${!NAMES[@]}"; do
        args+=(--command-name "${NAMES[$i]}" --prepare "${PREPS[$i]}")
    done
    log "hyperfine, $RUNS runs per case ..."
    hyperfine "${args[@]}" "${CMDS[@]}" >&2
    python3 - "$WORK/hyperfine.json" >"$RESULTS" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%s\t%.6f" % (r["command"], r["median"]))
EOF
else
    log "bash timing, $RUNS runs per case ..."
    : >"$RESULTS"
    for i in "${!NAMES[@]}"; do
        times=()
        for ((r = 1; r <= RUNS; r++)); do
            bash -c "${PREPS[$i]}"
            t0=$(date +%s.%N)
            bash -c "${CMDS[$i]}" >/dev/null 2>&1 || die "${NAMES[$i]} failed: ${CMDS[$i]}"
            t1=$(date +%s.%N)
            times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')")
        done
        median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
        log "${NAMES[$i]}: ${times[*]} -> median $median"
        printf '%s\t%s\n' "${NAMES[$i]}" "$median" >>"$RESULTS"
    done
fi

outsize() {   # bytes of blobs in an OCI layout dir, or -
    if [[ -d $1/blobs ]]; then du -sb "$1/blobs" | cut -f1; else echo -; fi
}

python3 - "$RESULTS" "$FAT" "${#LAYERS[@]}" "$compressed" "$uncompressed" "$docker_size" "$RUNS" \
    "slimify-keep-all=$(outsize "$WORK/out")" "slimify-keep-few=$(outsize "$WORK/out-few")" \
    "slimify-trace=$(outsize "$WORK/out-trace")" \
    "skopeo-copy=$(outsize "$WORK/skopeo-out")" "slimify-daemon=$(outsize "$WORK/out-daemon")" \
    "skopeo-daemon=$(outsize "$WORK/skopeo-daemon")" <<'EOF'
import sys
results, image, nlayers, comp, uncomp, dsize, runs = sys.argv[1:8]
outs = dict(a.split("=", 1) for a in sys.argv[8:])
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
floor = dict(rows)["floor"]
mb = lambda b: "%.1f MB" % (int(b) / 1e6)
print()
print("image %s: %s layers, %s compressed (gzip), %s uncompressed (tar), docker Size %s"
      % (image, nlayers, mb(comp), mb(uncomp), mb(dsize)))
print("median of %s runs" % runs)
print()
print("%-18s %10s %12s %14s" % ("case", "median s", "x floor", "output blobs"))
for name, med in rows:
    out = outs.get(name, "-")
    print("%-18s %10.2f %12.2f %14s" % (name, float(med), float(med) / float(floor),
                                         mb(out) if out not in ("-", "") else "-"))
EOF
