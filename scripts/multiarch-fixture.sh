#!/usr/bin/env bash
# Usage: scripts/multiarch-fixture.sh
#
# Builds (or reuses) a multi-platform test fixture and prints only the path of
# an OCI image layout directory on stdout (all logs go to stderr):
#
#   LAYOUT/index.json     one entry: an image index, ref.name "multi"
#     -> image index      two manifests:
#        -> linux/amd64       manifest -> config + 2 gzip layers
#        -> linux/arm64/v8    manifest -> config + 2 gzip layers
#
# Each platform image has
#   layer 1  a Debian bookworm minbase root filesystem of that architecture with
#            python3 (mmdebstrap; arm64 runs under qemu-user-static binfmt,
#            registered by scripts/setup.sh), /dev emptied;
#   layer 2  /app: run.sh (entrypoint), hello.py (prints platform.machine(),
#            a json.dumps, a sha256 and PRETTY_NAME of /etc/os-release) and
#            cbin, a small dynamically linked C program built for that
#            architecture (gcc / aarch64-linux-gnu-gcc);
#   config   Entrypoint ["/bin/sh","/app/run.sh"], os linux, architecture
#            amd64 or arm64 + variant v8.
#
# Use it as `oci:LAYOUT:multi` (skopeo, slimify). The layout is a cache entry:
# treat it as read-only and copy it before writing into it.
#
# Caching (cache root ${SLIMIFY_CACHE:-$HOME/.cache/slimify}):
#   multiarch/<hash>/layout          the result; <hash> = 12 hex of
#                                    sha256(recipe): script version, suite,
#                                    packages, mmdebstrap options, app sources,
#                                    compiler versions
#   multiarch/rootfs/<rhash>-<arch>/layer.tar.gz
#                                    the base layer per architecture (the
#                                    expensive part: ~5 min for arm64 under
#                                    qemu), reused when only the app changes
# Everything is built under a temporary name and renamed into place when
# complete; concurrent callers serialise on one flock.
#
# Environment:
#   SLIMIFY_CACHE           cache root (default: $HOME/.cache/slimify)
#   SLIMIFY_DEBIAN_MIRROR   mirror URL (default: http://deb.debian.org/debian),
#                           not part of the recipe hash
set -euo pipefail

# Bump when the way the images are produced changes (invalidates the layouts).
SCRIPT_VERSION=1
# Bump when the way the root filesystems are produced changes.
ROOTFS_VERSION=1
SUITE=bookworm
VARIANT=minbase
# python3, not python3-minimal: json lives in libpython3.11-stdlib.
PACKAGES=python3
# No Recommends; merged /usr via symlinks (the hook installs usr-is-merged)
# instead of the usrmerge package, which would pull in perl.
MMDEBSTRAP_OPTS=(--variant="$VARIANT" --components=main
    --aptopt='APT::Install-Recommends "false"'
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
ARCHES=(amd64 arm64)
REF=multi
MIRROR=${SLIMIFY_DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf 'multiarch-fixture: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -eq 0 ]] || die "usage: $0 (no arguments)"

# ---- platform and toolchain of each architecture --------------------------
oci_variant() { case $1 in arm64) printf v8 ;; *) ;; esac; }
cc_for() { case $1 in amd64) printf gcc ;; arm64) printf aarch64-linux-gnu-gcc ;; *) die "no compiler for $1" ;; esac; }
elf_machine() { case $1 in amd64) printf 'X86-64' ;; arm64) printf 'AArch64' ;; *) die "no ELF machine for $1" ;; esac; }

# ---- app sources (part of the recipe hash) ----------------------------------
run_sh() {
    cat <<'EOF'
#!/bin/sh
set -e
/app/cbin
exec /usr/bin/python3 /app/hello.py "$@"
EOF
}

hello_py() {
    cat <<'EOF'
import hashlib
import json
import platform


def pretty_name(path="/etc/os-release"):
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("=")
            if sep and key == "PRETTY_NAME":
                return value.strip('"')
    return "unknown"


machine = platform.machine()
print("machine:", machine)
print("json:", json.dumps({"machine": machine, "python": platform.python_version(), "ok": True}, sort_keys=True))
print("sha256(slimify):", hashlib.sha256(b"slimify").hexdigest())
print("os:", pretty_name())
EOF
}

cbin_c() {
    cat <<'EOF'
#include <stdio.h>
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;
    if (uname(&u) != 0) {
        perror("uname");
        return 1;
    }
    printf("cbin: built for %s, running on %s\n", CBIN_ARCH, u.machine);
    return 0;
}
EOF
}

sha() { sha256sum | cut -c1-64; }

# ---- recipes -------------------------------------------------------------
cc_versions=""
for a in "${ARCHES[@]}"; do
    cc=$(cc_for "$a")
    command -v "$cc" >/dev/null || die "$cc not installed (run scripts/setup.sh)"
    cc_versions+="cc-$a=$("$cc" --version | head -n 1)"$'\n'
done

rootfs_recipe=$(printf 'rootfs-version=%s\nsuite=%s\npackages=%s\nmmdebstrap=%s\n' \
    "$ROOTFS_VERSION" "$SUITE" "$PACKAGES" "${MMDEBSTRAP_OPTS[*]}")
rhash=$(printf '%s' "$rootfs_recipe" | sha256sum | cut -c1-12)

recipe=$(printf '%s\nscript-version=%s\narchitectures=%s\nref=%s\nrun.sh=%s\nhello.py=%s\ncbin.c=%s\n%s' \
    "$rootfs_recipe" "$SCRIPT_VERSION" "${ARCHES[*]}" "$REF" \
    "$(run_sh | sha)" "$(hello_py | sha)" "$(cbin_c | sha)" "$cc_versions")
hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-12)

cache_root=${SLIMIFY_CACHE:-$HOME/.cache/slimify}
cache=$cache_root/multiarch
final=$cache/$hash
layout=$final/layout

# Fast path without taking the lock.
if [[ -s $layout/index.json ]]; then
    log "reusing $layout"
    printf '%s\n' "$layout"
    exit 0
fi

mkdir -p "$cache/rootfs" "$cache_root/locks" "$cache_root/logs"
exec 9>"$cache_root/locks/multiarch.lock"
if ! flock -n 9; then
    log "waiting for another multiarch build ..."
    flock -w 3600 9 || die "timed out waiting for lock $cache_root/locks/multiarch.lock"
fi

tmpdirs=()
pids=()
cleanup() {
    local p d
    # Each mmdebstrap leads its own process group (setsid below). Its main
    # process only reacts to a signal once its children die of it, then
    # unmounts and removes its tempdir: signal the group, wait for it.
    for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    for d in "${tmpdirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# Holding the lock, any temporary entry is a leftover of an interrupted build.
rm -rf "$cache"/.tmp.* "$cache"/rootfs/.tmp.*

if [[ -s $layout/index.json ]]; then   # built by whoever held the lock
    log "reusing $layout"
    printf '%s\n' "$layout"
    exit 0
fi
rm -rf "$final"   # incomplete (no index.json): cannot happen with the rename, but be safe

# ---- base layers: one mmdebstrap per missing architecture, in parallel ------
rootfs_dir() { printf '%s/rootfs/%s-%s' "$cache" "$rhash" "$1"; }

declare -A raw_tar=() build_log=() build_pid=()
for a in "${ARCHES[@]}"; do
    d=$(rootfs_dir "$a")
    if [[ -s $d/layer.tar.gz ]] && ! gzip -t "$d/layer.tar.gz" 2>/dev/null; then
        log "cached base layer $d/layer.tar.gz is corrupt, rebuilding"
        rm -rf "$d"
    fi
    if [[ -s $d/layer.tar.gz ]]; then
        log "reusing $a base layer $d/layer.tar.gz"
        continue
    fi
    command -v mmdebstrap >/dev/null || die "mmdebstrap not installed (run scripts/setup.sh)"
    if [[ $a != "$(dpkg --print-architecture)" ]]; then
        q=/proc/sys/fs/binfmt_misc/qemu-aarch64
        [[ $a == arm64 ]] || die "no emulation set up for $a"
        grep -qx enabled "$q" 2>/dev/null \
            || die "qemu-aarch64 is not registered in binfmt_misc (run scripts/setup.sh)"
    fi
    t="$cache/rootfs/.tmp.$rhash-$a.$$"
    tmpdirs+=("$t")
    mkdir -p "$t"
    printf '%s\narchitecture=%s\n' "$rootfs_recipe" "$a" >"$t/recipe"
    raw_tar[$a]=$t/rootfs.tar
    build_log[$a]=$cache_root/logs/multiarch-rootfs-$rhash-$a.log
    log "building $SUITE/$VARIANT $a rootfs with [$PACKAGES] from $MIRROR (log: ${build_log[$a]}) ..."
    # setsid: own process group, so cleanup can stop all of it (a background
    # job of a script is never a group leader, so setsid does not fork and
    # $! is mmdebstrap's pid = its group id).
    setsid mmdebstrap "${MMDEBSTRAP_OPTS[@]}" --architectures="$a" --include="$PACKAGES" \
        "$SUITE" "${raw_tar[$a]}" "$MIRROR" </dev/null >"${build_log[$a]}" 2>&1 &
    build_pid[$a]=$!
    pids+=("$!")
done

start=$(date +%s)
for a in "${!build_pid[@]}"; do
    status=0
    wait "${build_pid[$a]}" || status=$?
    if [[ $status -ne 0 ]]; then
        tail -n 30 "${build_log[$a]}" >&2 || true
        die "mmdebstrap failed for $a (status $status, log: ${build_log[$a]})"
    fi
    log "$a rootfs built after $(( $(date +%s) - start ))s"
done
pids=()
for a in "${!build_pid[@]}"; do
    t=$(dirname "${raw_tar[$a]}")
    # Device nodes out of /dev (the engine provides /dev at run time, as for
    # any pulled image); ownership, modes, symlinks and hard links stay as
    # mmdebstrap wrote them.
    mmtarfilter --path-exclude='/dev/*' <"${raw_tar[$a]}" | gzip -n -6 >"$t/layer.tar.gz" \
        || die "cannot write the $a base layer"
    rm -f "${raw_tar[$a]}"
    d=$(rootfs_dir "$a")
    mv -T "$t" "$d" || die "cannot move the $a base layer into $d"
    log "$a base layer: $d/layer.tar.gz ($(du -h "$d/layer.tar.gz" | cut -f1))"
done

# ---- app per architecture, then the layout ---------------------------------
tmp="$cache/.tmp.$hash.$$"
tmpdirs+=("$tmp")
mkdir -p "$tmp/layout"
printf '%s' "$recipe" >"$tmp/recipe"

asm_args=()
for a in "${ARCHES[@]}"; do
    app="$tmp/app-$a"
    mkdir -p "$app"
    run_sh >"$app/run.sh"
    hello_py >"$app/hello.py"
    cbin_c >"$tmp/cbin.c"
    cc=$(cc_for "$a")
    "$cc" -O2 -Wall -Werror -DCBIN_ARCH="\"$a\"" -o "$app/cbin" "$tmp/cbin.c" \
        || die "$cc failed to build cbin for $a"
    elf=$(readelf -h -l "$app/cbin") || die "readelf cannot read cbin for $a"
    grep -q "Machine:.*$(elf_machine "$a")" <<<"$elf" || die "cbin for $a has the wrong ELF machine"
    grep -q 'Requesting program interpreter' <<<"$elf" || die "cbin for $a is not dynamically linked"
    chmod 0755 "$app/run.sh" "$app/cbin"
    chmod 0644 "$app/hello.py"
    asm_args+=("$a" "$(oci_variant "$a")" "$(rootfs_dir "$a")/layer.tar.gz" "$app")
done

log "assembling the OCI layout (index -> index \"$REF\" -> ${ARCHES[*]}) ..."
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
python3 - "$tmp/layout" "$REF" "$created" "$SUITE $VARIANT [$PACKAGES]" "${asm_args[@]}" >&2 <<'PY' || die "assembling the OCI layout failed"
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

layout, ref, created, base_desc = sys.argv[1:5]
rest = sys.argv[5:]
platforms = [rest[i:i + 4] for i in range(0, len(rest), 4)]

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
blobs = os.path.join(layout, "blobs", "sha256")
os.makedirs(blobs)


def put_bytes(data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}


def put_json(obj, media_type):
    return put_bytes(json.dumps(obj, separators=(",", ":")).encode(), media_type)


def put_layer_file(path):
    """Hard-link (or copy) a gzip layer into the layout; return (descriptor, diff_id)."""
    comp, raw = hashlib.sha256(), hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            comp.update(chunk)
    with gzip.open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            raw.update(chunk)
    dst = os.path.join(blobs, comp.hexdigest())
    try:
        os.link(path, dst)
    except OSError:
        shutil.copyfile(path, dst)
    return ({"mediaType": LAYER, "digest": "sha256:" + comp.hexdigest(),
             "size": os.path.getsize(path)}, "sha256:" + raw.hexdigest())


def app_layer(app_dir):
    """/app as a reproducible tar (root-owned, fixed mtime), gzip without name/time."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, mode, data=None):
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.uname, info.gname, info.mtime = mode, 0, 0, "root", "root", 0
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        add("app/", 0o755)
        for name in sorted(os.listdir(app_dir)):
            path = os.path.join(app_dir, name)
            with open(path, "rb") as f:
                add("app/" + name, os.stat(path).st_mode & 0o7777, f.read())
    raw = buf.getvalue()
    comp = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=comp, mtime=0) as gz:
        gz.write(raw)
    return put_bytes(comp.getvalue(), LAYER), "sha256:" + hashlib.sha256(raw).hexdigest()


manifests = []
for arch, variant, base_layer, app_dir in platforms:
    base_desc_blob, base_diff = put_layer_file(base_layer)
    app_desc_blob, app_diff = app_layer(app_dir)
    platform = {"architecture": arch, "os": "linux"}
    if variant:
        platform["variant"] = variant
    config = dict(platform)
    config.update({
        "created": created,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Entrypoint": ["/bin/sh", "/app/run.sh"],
            "WorkingDir": "/app",
        },
        "rootfs": {"type": "layers", "diff_ids": [base_diff, app_diff]},
        "history": [
            {"created": created, "created_by": f"mmdebstrap --architectures={arch} {base_desc}",
             "comment": "slimify multiarch fixture: base"},
            {"created": created, "created_by": "COPY run.sh hello.py cbin /app/",
             "comment": "slimify multiarch fixture: app"},
        ],
    })
    config_desc = put_json(config, CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_desc,
                "layers": [base_desc_blob, app_desc_blob]}
    desc = put_json(manifest, MANIFEST)
    desc["platform"] = platform
    manifests.append(desc)
    print(f"{arch}{'/' + variant if variant else ''}: manifest {desc['digest']}", file=sys.stderr)

inner = put_json({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}, INDEX)
inner["annotations"] = {"org.opencontainers.image.ref.name": ref}
with open(os.path.join(layout, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": INDEX, "manifests": [inner]}, f)
print(f"index {ref}: {inner['digest']}", file=sys.stderr)
PY

# Sanity check with an independent reader before publishing the entry.
if command -v skopeo >/dev/null; then
    for a in "${ARCHES[@]}"; do
        got=$(skopeo inspect --override-os linux --override-arch "$a" \
                  --format '{{.Os}}/{{.Architecture}}' "oci:$tmp/layout:$REF" 2>&1) \
            || die "skopeo cannot read the $a image: $got"
        [[ $got == "linux/$a" ]] || die "skopeo reads the $a image as '$got'"
    done
    log "skopeo reads oci:LAYOUT:$REF for ${ARCHES[*]}"
fi

rm -rf "$tmp"/app-* "$tmp/cbin.c"
mv -T "$tmp" "$final" || die "cannot move the layout into $final"
log "built $layout"
printf '%s\n' "$layout"
