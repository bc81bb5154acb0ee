"""slimify batch-app N: one of the 20 small apps of `scripts/bench.sh batch`.

The build replaces the @N@ below with the app's number (see Dockerfile)."""
import hashlib
import json
import sys

N = int("@N@")
report = {"app": "batch-app", "n": N, "python": list(sys.version_info[:2])}
text = json.dumps(report, sort_keys=True)
print("report:", text)
print("sha256:", hashlib.sha256(text.encode()).hexdigest())
print("done")
