#!/usr/bin/env bash
# Usage: scripts/bench.sh            timing: slimify against the floor and peers
#        scripts/bench.sh results    sizes: fat vs slim image of each fixture
#        scripts/bench.sh batch      timing: `slimify batch` vs one run per image
#        scripts/bench.sh probe      timing: what --probe and --verify add
#        scripts/bench.sh engine     timing: engine images in place vs docker save,
#                                    and registry pulls vs the download floor
#
# `engine` times, per fixture (BENCH_ENGINE_FIXTURES, default go-static
# java-app py-app), side by side in one run, BENCH_RUNS each (median):
#   docker save     `docker save -o FILE IMAGE` alone (what any reader of an
#                   engine image paid before this slimify read it in place)
#   in place        slimify docker-daemon:IMAGE -> oci: (tracing), reading
#                   the engine's overlay2 store in place
#   --no-in-place   the same through the `docker save` fallback
#   pull            slimify docker://REG/NAME:fat -> docker://REG/NAME:slim
#                   (tracing), a docker-registry on loopback holding the image
#                   (gzip layers); each run pushes the slim layer anew
#   floor           curl of every layer blob from that registry piped into
#                   gzip -dc, one after the other: download + decompress
# and prints save ÷ in place (targets: >= 5x on go-static, >= 2.5x on
# java-app) and pull ÷ floor (target <= 1.2x).
#
# `probe` times, per fixture (BENCH_PROBE_FIXTURES, default the three probe
# fixtures and static-site), engine -> engine in one run, BENCH_RUNS each
# (median): slimify by static tracing alone, with --probe, and with --probe
# --verify; plus the probed run's own seconds (from the report). It prints
# the added seconds and the ratio to static tracing. static-site is probed
# as a server (--http-get / --http-get /docs/guide.html).
#
# `results` slims every fixture image by tracing (BENCH_FIXTURES, default the
# C, Go, Python, Node, Java, shell, Perl and Ruby fixtures), runs fat and slim
# image side by side with --network none, and prints a Markdown table: fat
# and slim size (docker image inspect), ratio, slimify's seconds, and whether
# the output was identical; then, from a --dry-run --probe run's report, the
# slim image's content bytes, of which package metadata kept for scanners,
# the bytes of the files a run of the fat image
# opened or executed (the physical limit of slimming for that run), and
# their ratio. It exits non-zero if any output differs.
#
# `batch` builds 20 small Python apps on one shared fat base (benches/batch-app:
# slimify-bench/batch-app-N:<hash>, cached like fixture.sh; the base's big
# layer has the same diff_id in all of them), starts a private docker-registry
# on a free loopback port in a temp dir, skopeo-copies the images there (from
# one `docker save` of them all) as batch-app-N:fat, and times, from and to
# that registry (--insecure-registry):
#   floor        gzip -dc of every distinct layer blob of the 20 images once
#                (the base layer once + the small app layers); floor-pigz too
#   single       20 separate `slimify docker://REG/batch-app-N:fat -o
#                docker://REG/batch-app-N:single`, one after the other (sum)
#   batch-jJ     one `slimify batch LIST --jobs J` (J in 1 2 4), targets
#                docker://REG/batch-app-N:batch
# Before each run the outputs of earlier runs (manifests and their blobs) are
# deleted from the registry, so every run pushes its whole output. It prints
# seconds, the ratio to batch-j2 and the max RSS (/usr/bin/time %M) of each
# case, pulls batch-app-N:single and :batch (N = BENCH_BATCH_CHECK, default 7)
# into the engine and runs them beside the fat image (--network none), then
# prints `batch speedup over single runs: X.XXx (target >= 3x)`. It exits
# non-zero if the speedup (single / batch-j2) is below 3 or an output differs.
# Environment for `batch`: BENCH_BATCH_RUNS (runs per case, median; default
# 1), BENCH_BATCH_IMAGES (default 20), BENCH_BATCH_JOBS (default "1 2 4", must
# hold 2), BENCH_BATCH_CHECK; BENCH_SLIMIFY_EXTRA applies to every slimify run.
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
#   SLIMIFY     binary (default $CARGO_TARGET_DIR/release/slimify, target/ by
#               default; build it first)
#   FAT         image to use instead of building fixtures/demo
#   BENCH_RUNS  repetitions per case (default 3)
#   BENCH_SLIMIFY_EXTRA  extra slimify flags for every run (default --quiet)
#   BENCH_SKIP_MISSING=1 run the other cases when the slimify binary is missing
#   BENCH_NO_HYPERFINE=1 force bash timing
#   TMPDIR      where the work dir goes (needs ~2 GB)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SLIMIFY=${SLIMIFY:-${CARGO_TARGET_DIR:-target}/release/slimify}
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

# Fat vs slim sizes of the fixture images, each run beside its slim image,
# and what a run of the fat image opens (the probe's recorder, a dry run).
results() {
    local fixtures fat slim t0 t1 fat_out slim_out fat_size slim_size same failed=0 probe opened content
    read -r -a fixtures <<<"${BENCH_FIXTURES:-c-app go-static demo py-app py-numpy py-stdlib py-small shell-app node-app java-app perl-app perl-core ruby-app ruby-stdlib}"
    probe=$(mktemp "${TMPDIR:-/tmp}/slimify-bench-probe.XXXXXX.json")
    printf '| fixture | fat | slim | ratio | slimify s | output | slim content | package metadata | opened by a run | slim ÷ opened |\n'
    printf '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n'
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
        # What the run opens: the probe's files opened or executed, and the
        # slim image's content bytes, from one dry run's report.
        "$SLIMIFY" "$fat" -o "oci:/nonexistent/never:x" --dry-run --probe --quiet --report "$probe" \
            || die "slimify --probe failed on $fat"
        # The package metadata kept for scanners: the files whose first
        # reason is "package metadata" (dpkg records, copyright files, ...).
        read -r opened content metadata < <(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["probe"]["opened_bytes"], r["after"]["content_bytes"], sum(k["size"] for k in r["kept"] if k["reasons"][0].startswith("package metadata")))' "$probe")
        awk -v f="$f" -v a="$fat_size" -v b="$slim_size" -v t0="$t0" -v t1="$t1" -v s="$same" -v o="$opened" -v c="$content" -v m="$metadata" \
            'BEGIN { printf "| `%s` | %.1f MB | %.1f MB | %.1fx | %.1f | %s | %.1f MB | %.1f MB | %.1f MB | %.2fx |\n", f, a / 1e6, b / 1e6, a / b, t1 - t0, s, c / 1e6, m / 1e6, o / 1e6, c / o }'
    done
    rm -f "$probe"
    return "$failed"
}
if [[ ${1:-} == results ]]; then
    results
    exit
fi

# `batch`: 20 small apps sharing one fat base, slimmed from a loopback
# registry one invocation per image and with `slimify batch`.
B_REG_PID="" B_REG="" B_WORK="" B_CHECK_TAGS=()
batch_cleanup() {
    if [[ -n $B_REG_PID ]]; then
        kill "$B_REG_PID" 2>/dev/null || true
        wait "$B_REG_PID" 2>/dev/null || true
    fi
    if [[ ${#B_CHECK_TAGS[@]} -gt 0 ]]; then
        docker rmi -f "${B_CHECK_TAGS[@]}" >/dev/null 2>&1 || true
    fi
    if [[ -n $B_WORK ]]; then rm -rf "$B_WORK"; fi
}

# Builds (or reuses) slimify-bench/batch-app-N:<hash> for N=1..$1 from
# benches/batch-app (Dockerfile + app.py, base recipe in ./base) and fills
# B_IMAGES. <hash>: sha256 of the base tag and every file of the directory.
batch_images() {
    local count=$1 dir=$ROOT/benches/batch-app base_name base_pkgs base_tag hash n tag cache logfile built=0 t0
    [[ -f $dir/Dockerfile && -f $dir/base ]] || die "$dir/{Dockerfile,base} missing"
    read -r base_name base_pkgs _ <"$dir/base" || true
    [[ -n ${base_name:-} && -n ${base_pkgs:-} ]] || die "$dir/base must be one line 'BASENAME pkg1,pkg2,...'"
    base_tag=$(scripts/base-image.sh "$base_name" "$base_pkgs")
    [[ -n $base_tag ]] || die "base-image.sh printed no tag"
    hash=$(bash scripts/content-hash.sh "$dir" "$base_tag")
    cache=${SLIMIFY_CACHE:-$HOME/.cache/slimify}
    mkdir -p "$cache/locks" "$cache/logs"
    logfile="$cache/logs/bench-batch-app-$hash.log"
    exec 8>"$cache/locks/bench-batch-app.lock"
    flock -w 3600 8 || die "timed out waiting for $cache/locks/bench-batch-app.lock"
    B_IMAGES=()
    t0=$(date +%s)
    for ((n = 1; n <= count; n++)); do
        tag="slimify-bench/batch-app-$n:$hash"
        if ! docker image inspect "$tag" >/dev/null 2>&1; then
            [[ $built -gt 0 ]] || log "building slimify-bench/batch-app-{1..$count}:$hash on $base_tag (log: $logfile) ..."
            DOCKER_BUILDKIT=0 docker build --network none --rm --force-rm \
                --build-arg "BASE=$base_tag" --build-arg "N=$n" -t "$tag" "$dir" >>"$logfile" 2>&1 \
                || { tail -n 30 "$logfile" >&2; die "docker build of batch-app-$n failed (log: $logfile)"; }
            built=$((built + 1))
        fi
        B_IMAGES+=("$tag")
    done
    exec 8>&-
    log "images: $built built in $(( $(date +%s) - t0 )) s, $((count - built)) reused (slimify-bench/batch-app-N:$hash)"
}

# Starts /usr/bin/docker-registry on a free loopback port, storage in
# $B_WORK/registry (deletes enabled); sets B_REG (HOST:PORT) and B_REG_PID.
batch_registry() {
    local i port v unset_env=()
    for v in $(compgen -e); do
        if [[ $v == REGISTRY_* ]]; then unset_env+=(-u "$v"); fi
    done
    mkdir -p "$B_WORK/registry"
    for _ in 1 2 3 4 5; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        cat >"$B_WORK/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $B_WORK/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
        env "${unset_env[@]}" /usr/bin/docker-registry serve "$B_WORK/registry.yml" >>"$B_WORK/registry.log" 2>&1 &
        B_REG_PID=$!
        for ((i = 0; i < 100; i++)); do
            if curl --noproxy '*' -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null \
                && kill -0 "$B_REG_PID" 2>/dev/null; then
                B_REG=127.0.0.1:$port
                log "registry on $B_REG (pid $B_REG_PID, storage $B_WORK/registry)"
                return 0
            fi
            kill -0 "$B_REG_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$B_REG_PID" 2>/dev/null || true
        wait "$B_REG_PID" 2>/dev/null || true
        B_REG_PID=""
    done
    tail -n 20 "$B_WORK/registry.log" >&2 || true
    die "docker-registry did not start"
}

# Registry helper: `layers COUNT` prints the blob file of every distinct layer
# of the batch-app-N:fat manifests; `clean COUNT` deletes every other tag's
# manifest and the blobs it references (except those of :fat), so each case
# pushes its whole output again rather than finding the previous case's blobs.
batch_reg_py() {
    python3 - "$B_REG" "$B_WORK/registry" "$@" <<'EOF'
import json, os, sys, urllib.request
reg, root, mode, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
def call(method, path, accept=None):
    req = urllib.request.Request("http://%s/v2/%s" % (reg, path), method=method)
    if accept:
        req.add_header("Accept", accept)
    return http.open(req)
def manifest(repo, ref):
    with call("GET", "%s/manifests/%s" % (repo, ref), ACCEPT) as r:
        return r.headers["Docker-Content-Digest"], json.load(r)
def blobs(m):
    return [m["config"]["digest"]] + [l["digest"] for l in m["layers"]]
if mode == "layers":
    seen = []
    for n in range(1, count + 1):
        _, m = manifest("batch-app-%d" % n, "fat")
        for l in m["layers"]:
            if "gzip" not in l["mediaType"]:
                sys.exit("layer %s is not gzip: %s" % (l["digest"], l["mediaType"]))
            if l["digest"] not in seen:
                seen.append(l["digest"])
    for d in seen:
        algo, hexd = d.split(":", 1)
        print(os.path.join(root, "docker/registry/v2/blobs", algo, hexd[:2], hexd, "data"))
elif mode == "clean":
    for n in range(1, count + 1):
        repo = "batch-app-%d" % n
        with call("GET", "%s/tags/list" % repo) as r:
            tags = json.load(r).get("tags") or []
        keep = set(blobs(manifest(repo, "fat")[1]))
        for tag in tags:
            if tag == "fat":
                continue
            try:
                digest, m = manifest(repo, tag)
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    continue   # its manifest went with an earlier tag's
                raise
            for b in blobs(m):
                if b not in keep:
                    try:
                        call("DELETE", "%s/blobs/%s" % (repo, b)).close()
                    except urllib.error.HTTPError as e:
                        if e.code != 404:
                            raise
            call("DELETE", "%s/manifests/%s" % (repo, digest)).close()
else:
    sys.exit("unknown mode " + mode)
EOF
}

# Pulls docker://$B_REG/batch-app-$1:$2 into the engine and checks that it
# prints what the fat image prints ($3); appends a line to $B_WORK/checks.
batch_check() {
    local n=$1 tag=$2 fat_out=$3 img out size verdict=identical
    img="slimify-bench/batch-check:$tag-$$"
    B_CHECK_TAGS+=("$img")
    skopeo copy --quiet --src-tls-verify=false "docker://$B_REG/batch-app-$n:$tag" "docker-daemon:$img" \
        || die "cannot pull docker://$B_REG/batch-app-$n:$tag"
    out=$(docker run --rm --network none "$img" 2>&1) || true
    size=$(docker image inspect -f '{{.Size}}' "$img")
    [[ $out == "$fat_out" ]] || verdict=DIFFERENT
    printf 'check batch-app-%s:%s: %s MB, output %s\n' "$n" "$tag" "$(awk -v b="$size" 'BEGIN {printf "%.1f", b / 1e6}')" "$verdict" \
        >>"$B_WORK/checks"
    if [[ $verdict != identical ]]; then
        printf -- '--- fat:\n%s\n--- %s:\n%s\n' "$fat_out" "$tag" "$out" >>"$B_WORK/checks"
    fi
    docker rmi -f "$img" >/dev/null 2>&1 || true
}

# Runs "$@" under /usr/bin/time; appends "SECONDS MAXRSS_KB" to $B_WORK/last.
batch_time() {
    local t0 t1 status=0
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$B_WORK/rss" "$@" || status=$?
    t1=$(date +%s.%N)
    [[ $status -eq 0 ]] || return "$status"
    printf '%s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')" "$(tail -n 1 "$B_WORK/rss")" >>"$B_WORK/last"
}

batch() {
    [[ $have_slimify == 1 ]] || die "batch needs the slimify binary $SLIMIFY"
    local tool count runs check_n jobs_list start n r j t0 t1 fat_out failed=0 speedup
    for tool in curl flock /usr/bin/docker-registry /usr/bin/time; do
        command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
    done
    count=${BENCH_BATCH_IMAGES:-20}
    runs=${BENCH_BATCH_RUNS:-1}
    check_n=${BENCH_BATCH_CHECK:-7}
    read -r -a jobs_list <<<"${BENCH_BATCH_JOBS:-1 2 4}"
    [[ $count =~ ^[1-9][0-9]*$ ]] || die "BENCH_BATCH_IMAGES must be a positive integer"
    [[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_BATCH_RUNS must be a positive integer"
    [[ $check_n =~ ^[1-9][0-9]*$ && $check_n -le $count ]] || die "BENCH_BATCH_CHECK must be in 1..$count"
    [[ " ${jobs_list[*]} " == *" 2 "* ]] || die "BENCH_BATCH_JOBS must include 2 (the reference case)"
    start=$(date +%s.%N)

    B_WORK=$(mktemp -d "${TMPDIR:-/tmp}/slimify-bench-batch.XXXXXX")
    trap batch_cleanup EXIT
    trap 'exit 130' INT TERM

    batch_images "$count"
    batch_registry

    # One `docker save` of all images (the engine writes the shared base once;
    # a docker-daemon: source per image would save it 20 times), then a copy
    # per image: skopeo compresses the base once and mounts it into the other
    # repositories.
    t0=$(date +%s.%N)
    docker save -o "$B_WORK/fat.tar" "${B_IMAGES[@]}" || die "docker save failed"
    for ((n = 1; n <= count; n++)); do
        skopeo copy --quiet --dest-tls-verify=false \
            "docker-archive:$B_WORK/fat.tar:${B_IMAGES[$((n - 1))]}" "docker://$B_REG/batch-app-$n:fat" \
            || die "skopeo copy of ${B_IMAGES[$((n - 1))]} to the registry failed"
    done
    rm -f "$B_WORK/fat.tar"
    t1=$(date +%s.%N)
    log "pushed $count fat images to $B_REG in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"

    local layers=()
    mapfile -t layers < <(batch_reg_py layers "$count")
    [[ ${#layers[@]} -gt 0 ]] || die "no layers found in the registry"
    local compressed uncompressed
    compressed=$(stat -c %s "${layers[@]}" | awk '{s += $1} END {print s}')
    uncompressed=$(gzip -dc "${layers[@]}" | wc -c)

    for ((n = 1; n <= count; n++)); do
        printf 'docker://%s/batch-app-%d:fat docker://%s/batch-app-%d:batch\n' "$B_REG" "$n" "$B_REG" "$n"
    done >"$B_WORK/list"

    fat_out=$(docker run --rm --network none "${B_IMAGES[$((check_n - 1))]}" 2>&1) \
        || die "the fat image ${B_IMAGES[$((check_n - 1))]} failed to run"

    # Each case: RUNS times, the output tags of every earlier run deleted first.
    # Rows of $B_WORK/results.tsv: case <TAB> seconds <TAB> max RSS KB
    : >"$B_WORK/results.tsv"
    : >"$B_WORK/checks"
    local case_name secs rss
    record() {   # case: median seconds and max RSS of the lines in $B_WORK/runs
        secs=$(cut -d' ' -f1 "$B_WORK/runs" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
        rss=$(awk '$2 != "-" && $2 + 0 > m {m = $2 + 0} END {print m ? m : "-"}' "$B_WORK/runs")
        log "$1: $(cut -d' ' -f1 "$B_WORK/runs" | xargs printf '%.2f ')s -> median $secs, max RSS $rss KB"
        printf '%s\t%s\t%s\n' "$1" "$secs" "$rss" >>"$B_WORK/results.tsv"
    }

    # The floor: each distinct layer blob decompressed once.
    local tool_name
    for tool_name in gzip pigz; do
        command -v "$tool_name" >/dev/null || continue
        : >"$B_WORK/runs"
        for ((r = 1; r <= runs; r++)); do
            t0=$(date +%s.%N)
            "$tool_name" -dc "${layers[@]}" >/dev/null
            t1=$(date +%s.%N)
            awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f -\n", b - a}' >>"$B_WORK/runs"
        done
        case_name=floor
        [[ $tool_name == gzip ]] || case_name=floor-pigz
        record "$case_name"
    done

    # Single runs: one slimify per image, one after the other.
    : >"$B_WORK/runs"
    for ((r = 1; r <= runs; r++)); do
        batch_reg_py clean "$count"
        : >"$B_WORK/last"
        for ((n = 1; n <= count; n++)); do
            batch_time "$SLIMIFY" "docker://$B_REG/batch-app-$n:fat" -o "docker://$B_REG/batch-app-$n:single" \
                --insecure-registry "$B_REG" "${EXTRA[@]}" >>"$B_WORK/single.log" 2>&1 \
                || { tail -n 20 "$B_WORK/single.log" >&2; die "slimify failed on batch-app-$n"; }
        done
        awk '{s += $1; if ($2 > m) m = $2} END {printf "%.6f %d\n", s, m}' "$B_WORK/last" >>"$B_WORK/runs"
        if [[ $r -eq 1 ]]; then batch_check "$check_n" single "$fat_out"; fi
    done
    record single

    # slimify batch, for each --jobs.
    for j in "${jobs_list[@]}"; do
        : >"$B_WORK/runs"
        for ((r = 1; r <= runs; r++)); do
            batch_reg_py clean "$count"
            : >"$B_WORK/last"
            batch_time "$SLIMIFY" batch "$B_WORK/list" --jobs "$j" --insecure-registry "$B_REG" "${EXTRA[@]}" \
                >"$B_WORK/batch-j$j.out" 2>>"$B_WORK/batch.log" \
                || { cat "$B_WORK/batch-j$j.out" >&2; tail -n 20 "$B_WORK/batch.log" >&2; die "slimify batch --jobs $j failed"; }
            cat "$B_WORK/last" >>"$B_WORK/runs"
            log "batch --jobs $j: $(tail -n 1 "$B_WORK/batch-j$j.out")"
            if [[ $r -eq 1 && $j == 2 ]]; then batch_check "$check_n" batch "$fat_out"; fi
        done
        record "batch-j$j"
    done

    python3 - "$B_WORK/results.tsv" "$count" "${#layers[@]}" "$compressed" "$uncompressed" "$runs" \
        "$(tail -n 1 "$B_WORK/batch-j2.out")" <<'EOF'
import sys
results, count, nlayers, comp, uncomp, runs, summary = sys.argv[1:8]
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
ref = float(dict((r[0], r[1]) for r in rows)["batch-j2"])
mb = lambda b: "%.1f MB" % (int(b) / 1e6)
print()
print("%s images batch-app-1..%s on one base: %s distinct layers, %s compressed (gzip), %s uncompressed (tar)"
      % (count, count, nlayers, mb(comp), mb(uncomp)))
print("batch --jobs 2: %s" % summary)
print("median of %s run(s); single = sum of %s invocations, its RSS the largest one's" % (runs, count))
print()
print("%-12s %10s %12s %12s" % ("case", "seconds", "x batch-j2", "max RSS MB"))
for name, secs, rss in rows:
    rss_s = "%.0f" % (int(rss) / 1024) if rss not in ("-", "") else "-"
    print("%-12s %10.2f %12.2f %12s" % (name, float(secs), float(secs) / ref, rss_s))
EOF
    echo
    cat "$B_WORK/checks"
    if grep -q DIFFERENT "$B_WORK/checks"; then failed=1; fi
    speedup=$(awk -F '\t' '$1 == "single" {s = $2} $1 == "batch-j2" {b = $2} END {printf "%.2f", s / b}' "$B_WORK/results.tsv")
    printf 'batch speedup over single runs: %sx (target >= 3x)\n' "$speedup"
    log "batch subcommand took $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}') s"
    if awk -v s="$speedup" 'BEGIN {exit !(s < 3)}'; then
        log "speedup $speedup is below 3x"
        failed=1
    fi
    return "$failed"
}
probe_bench() {
    local fixtures=(${BENCH_PROBE_FIXTURES:-probe-py-plugin probe-node-require probe-c-dlopen static-site})
    local work name fat extra secs
    work=$(mktemp -d "${TMPDIR:-/tmp}/slimify-bench-probe.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'; docker rmi -f slimify-bench/probe:out >/dev/null 2>&1 || true" EXIT
    median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    timed() {  # RUNS runs of slimify ARGS; prints the median seconds
        local i start end
        for ((i = 0; i < RUNS; i++)); do
            docker rmi -f slimify-bench/probe:out >/dev/null 2>&1 || true
            start=$(date +%s.%N)
            "$SLIMIFY" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; die "slimify $* failed"; }
            end=$(date +%s.%N)
            python3 -c "print($end - $start)"
        done | median
    }
    printf '| fixture | static s | --probe s | probe adds | recorded run s | --probe --verify s | verify adds |\n'
    printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
    for name in "${fixtures[@]}"; do
        fat=$(scripts/fixture.sh "$name")
        extra=()
        [[ $name == static-site ]] && extra=(--http-get / --http-get /docs/guide.html)
        local s p v rec
        s=$(timed "$fat" -o slimify-bench/probe:out)
        p=$(timed "$fat" -o slimify-bench/probe:out --probe "${extra[@]}" --report "$work/r.json")
        rec=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["probe"]["seconds"])' "$work/r.json")
        v=$(timed "$fat" -o slimify-bench/probe:out --probe --verify "${extra[@]}")
        python3 - "$name" "$s" "$p" "$rec" "$v" <<'PY'
import sys
name, s, p, rec, v = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {name} | {s:.2f} | {p:.2f} | {p - s:+.2f} s ({p / s:.2f}x) | {rec:.2f} | {v:.2f} | {v - p:+.2f} s |")
PY
    done
}

# `engine`: in place vs docker save vs a registry pull, per fixture.
engine_bench() {
    local fixtures=(${BENCH_ENGINE_FIXTURES:-go-static java-app py-app})
    local name fat blobs w
    B_WORK=$(mktemp -d "${TMPDIR:-/tmp}/slimify-bench-engine.XXXXXX")
    trap batch_cleanup EXIT
    trap 'exit 130' INT TERM
    w=$B_WORK
    batch_registry
    # Deletes NAME:slim and its layer, so that every run pushes it again.
    cat >"$w/unslim.py" <<'PY'
import json, sys, urllib.error, urllib.request
reg, repo = sys.argv[1:3]
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def call(method, path, accept=None):
    req = urllib.request.Request("http://%s/v2/%s/%s" % (reg, repo, path), method=method)
    if accept:
        req.add_header("Accept", accept)
    return http.open(req)
try:
    r = call("GET", "manifests/slim", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
except urllib.error.HTTPError:
    sys.exit(0)
digest, m = r.headers["Docker-Content-Digest"], json.load(r)
for b in [m["config"]["digest"]] + [l["digest"] for l in m["layers"]]:
    try:
        call("DELETE", "blobs/" + b).close()
    except urllib.error.HTTPError:
        pass
call("DELETE", "manifests/" + digest).close()
PY
    median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
    timed() {  # timed PREP CMD: RUNS runs of CMD (after PREP each time); median seconds
        local i t0 t1
        for ((i = 0; i < RUNS; i++)); do
            bash -c "$1"
            t0=$(date +%s.%N)
            bash -c "$2" >/dev/null 2>"$w/err" || { cat "$w/err" >&2; die "failed: $2"; }
            t1=$(date +%s.%N)
            awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
        done | median
    }
    printf '| fixture | docker save s | in place s | save ÷ in place | --no-in-place s | registry → registry s | download + gunzip floor s | pull ÷ floor |\n'
    printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
    for name in "${fixtures[@]}"; do
        fat=$(scripts/fixture.sh "$name")
        skopeo copy --quiet --dest-tls-verify=false --dest-compress-format gzip \
            "docker-daemon:$fat" "docker://$B_REG/$name:fat" || die "cannot push $fat"
        mapfile -t blobs < <(python3 - "$B_REG" "$name" <<'PY'
import json, sys, urllib.request
reg, repo = sys.argv[1:3]
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))
req = urllib.request.Request("http://%s/v2/%s/manifests/fat" % (reg, repo))
req.add_header("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
for layer in json.load(http.open(req))["layers"]:
    print("http://%s/v2/%s/blobs/%s" % (reg, repo, layer["digest"]))
PY
)
        local floor_cmd="" u save inplace noinplace pull floor
        for u in "${blobs[@]}"; do floor_cmd+="curl --noproxy '*' -fsS '$u' | gzip -dc >/dev/null; "; done
        save=$(timed "rm -f '$w/save.tar'" "docker save -o '$w/save.tar' '$fat'")
        rm -f "$w/save.tar"
        inplace=$(timed "rm -rf '$w/o1'" "'$SLIMIFY' 'docker-daemon:$fat' -o 'oci:$w/o1:slim' -q")
        noinplace=$(timed "rm -rf '$w/o2'" "'$SLIMIFY' 'docker-daemon:$fat' -o 'oci:$w/o2:slim' -q --no-in-place")
        pull=$(timed "python3 '$w/unslim.py' '$B_REG' '$name'" "'$SLIMIFY' 'docker://$B_REG/$name:fat' -o 'docker://$B_REG/$name:slim' -q --insecure-registry '$B_REG'")
        floor=$(timed true "set -o pipefail; $floor_cmd")
        cmp -s "$w/o1/index.json" "$w/o2/index.json" || die "$name: in place and docker save wrote different images"
        awk -v n="$name" -v s="$save" -v i="$inplace" -v f="$noinplace" -v p="$pull" -v fl="$floor" \
            'BEGIN {printf "| %s | %.2f | %.2f | %.1fx | %.2f | %.2f | %.2f | %.2fx |\n", n, s, i, s / i, f, p, fl, p / fl}'
    done
}

if [[ ${1:-} == batch ]]; then
    batch
    exit
fi
if [[ ${1:-} == engine ]]; then
    [[ -x $SLIMIFY ]] || die "build slimify first (cargo build --release): $SLIMIFY"
    engine_bench
    exit
fi
if [[ ${1:-} == probe ]]; then
    [[ -x $SLIMIFY ]] || die "build slimify first (cargo build --release): $SLIMIFY"
    probe_bench
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
