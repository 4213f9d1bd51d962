#!/usr/bin/env bash
# The runc tutorial with pyrunc: a busybox bundle from the host's busybox-static,
# `pyrunc spec`, an env var and a bind mount added, then `pyrunc run`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYRUNC=${PYRUNC:-$PWD/.venv/bin/pyrunc}
work=$(mktemp -d /tmp/pyrunc-tutorial.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin" "$work/share"
cp /bin/busybox "$work/bundle/rootfs/bin/"
for applet in $("$work/bundle/rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$work/bundle/rootfs/bin/$applet"
done
echo "hello from the host" > "$work/share/greeting"

cd "$work/bundle"
"$PYRUNC" spec
# Not interactive here (the terminal comes with `pyrunc run` in a real shell),
# one more variable, and a bind mount of a host directory at /app.
python3 - "$work/share" <<'PY'
import json, sys
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "echo ABC=$ABC; cat /app/greeting; hostname; id"]
c["process"]["env"].append("ABC=EFG")
c["mounts"].append({"destination": "/app", "type": "bind", "source": sys.argv[1], "options": ["rbind", "rw"]})
json.dump(c, open("config.json", "w"), indent="\t")
PY
echo "+ pyrunc run tutorial-$$"
"$PYRUNC" run "tutorial-$$"
echo "+ exit status $?"
