#!/usr/bin/env bash
# Usage: scripts/setup.sh
#
# Prepares a Debian 12 machine (run as root; works unattended with CI=true and
# no stdin) for building and testing slimify:
#   * installs the Debian packages below when missing (apt-get update first,
#     only if something has to be installed); hyperfine is optional;
#   * makes sure a docker engine answers: if `docker info` fails, starts
#     `dockerd --iptables=false` detached (setsid + nohup, log in
#     /tmp/slimify-dockerd.log) and waits up to 60 s for it;
#   * mounts binfmt_misc if needed and registers qemu-aarch64 (from
#     qemu-user-static) with the F (fix-binary) flag, so arm64 programs run on
#     this amd64 host, in mmdebstrap chroots and inside containers alike.
# Idempotent: a second run changes nothing. Prints one line per action.
set -euo pipefail

# docker-registry, apache2-utils (htpasswd -B) and openssl serve tests/util/registry.rs,
# which starts its own /usr/bin/docker-registry per test on a free loopback
# port; the package's own service (:5000) is neither needed nor used.
REQUIRED=(docker.io skopeo umoci mmdebstrap pax-utils zstd python3 curl gcc-aarch64-linux-gnu libc6-dev-arm64-cross
    docker-registry apache2-utils openssl)
# qemu-user-static: arm64 images of scripts/multiarch-fixture.sh (binfmt below).
REQUIRED+=(qemu-user-static)
# arch-test: mmdebstrap refuses a foreign --architecture without it.
REQUIRED+=(arch-test)
# time: /usr/bin/time -f %M (max RSS) in `scripts/bench.sh batch`.
REQUIRED+=(time)
# podman: containers-storage: sources and targets (tests/podman.rs), rootful,
# its store in /var/lib/containers/storage.
REQUIRED+=(podman)
# python3-venv: scripts/sbom-tools.sh puts the SBOM validators and the
# package scanners tests/sbom.rs runs into a virtualenv.
REQUIRED+=(python3-venv)
OPTIONAL=(hyperfine)
DOCKERD_LOG=/tmp/slimify-dockerd.log
DOCKERD_WAIT=60

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, dockerd)"
export DEBIAN_FRONTEND=noninteractive

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=0
apt_update() {
    if [[ $apt_updated -eq 0 ]]; then
        log "apt-get update"
        apt-get update -qq </dev/null >/dev/null
        apt_updated=1
    fi
}

missing=()
for p in "${REQUIRED[@]}"; do
    if installed "$p"; then
        log "ok: $p already installed"
    else
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    apt_update
    log "apt-get install ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

for p in "${OPTIONAL[@]}"; do
    if installed "$p"; then
        log "ok: $p already installed"
        continue
    fi
    apt_update
    if apt-cache show "$p" >/dev/null 2>&1 \
        && apt-get install -y -qq --no-install-recommends "$p" </dev/null >/dev/null 2>&1; then
        log "installed optional $p"
    else
        log "skipped optional $p (not available)"
    fi
done

command -v docker >/dev/null || die "no docker client on PATH after installing docker.io"

if docker info >/dev/null 2>&1; then
    log "ok: docker engine is running ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
else
    command -v dockerd >/dev/null || die "dockerd not found"
    log "starting dockerd --iptables=false (log: $DOCKERD_LOG)"
    # setsid + nohup: own session, survives this script and its terminal/CI step.
    setsid nohup dockerd --iptables=false </dev/null >>"$DOCKERD_LOG" 2>&1 &
    for ((i = 0; i < DOCKERD_WAIT; i++)); do
        if docker info >/dev/null 2>&1; then
            break
        fi
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        tail -n 30 "$DOCKERD_LOG" >&2 || true
        die "docker engine did not answer within ${DOCKERD_WAIT}s"
    fi
    log "docker engine is up after ${i}s ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
fi

driver=$(docker info -f '{{.Driver}}' 2>/dev/null || echo '?')
if [[ $driver == overlay2 ]]; then
    log "ok: storage driver overlay2"
else
    log "warning: storage driver is '$driver', fixtures are meant for overlay2"
fi

# qemu-aarch64 through binfmt_misc. F (fix-binary) makes the kernel open the
# interpreter at registration time, so it also runs arm64 binaries inside
# containers, whose filesystem has no qemu. No systemd-binfmt/binfmt-support
# here: the Debian conf line is written to the register file directly.
BINFMT=/proc/sys/fs/binfmt_misc
BINFMT_CONF=/usr/lib/binfmt.d/qemu-aarch64.conf
if [[ ! -e $BINFMT/register ]]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT" || die "cannot mount binfmt_misc on $BINFMT"
    log "mounted binfmt_misc on $BINFMT"
fi
if [[ $(cat "$BINFMT/status") != enabled ]]; then
    echo 1 >"$BINFMT/status"
    log "enabled binfmt_misc"
fi
binfmt_flags() { sed -n 's/^flags: *//p' "$BINFMT/qemu-aarch64" 2>/dev/null; }
if [[ -e $BINFMT/qemu-aarch64 ]] && grep -qx enabled "$BINFMT/qemu-aarch64" \
    && [[ $(binfmt_flags) == *F* ]]; then
    log "ok: binfmt qemu-aarch64 registered (flags $(binfmt_flags))"
else
    [[ -r $BINFMT_CONF ]] || die "$BINFMT_CONF missing (qemu-user-static not installed?)"
    # A disabled registration, or one without F, is replaced.
    if [[ -e $BINFMT/qemu-aarch64 ]]; then echo -1 >"$BINFMT/qemu-aarch64"; fi
    grep -v '^[#;]' "$BINFMT_CONF" | sed '/^$/d' | head -n 1 >"$BINFMT/register" \
        || die "cannot register qemu-aarch64 from $BINFMT_CONF"
    [[ $(binfmt_flags) == *F* ]] || die "qemu-aarch64 registered without the F flag"
    log "registered binfmt qemu-aarch64 (flags $(binfmt_flags))"
fi
