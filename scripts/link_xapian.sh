#!/usr/bin/env bash
# Make Debian's Xapian bindings (python3-xapian, built for the system CPython 3.11) importable
# in the project's virtualenv, by a .pth file naming the one folder that holds them.
# Usage: scripts/link_xapian.sh [VENV]   (default: .venv beside this script's project)
# Exit 0 when `import xapian` works in the venv afterwards, 1 when the bindings are absent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv}"
PY="$VENV/bin/python"
if "$PY" -c 'import xapian' 2>/dev/null; then
    exit 0
fi
found=""
for dir in /usr/lib/python3/dist-packages /usr/lib/python3.11/dist-packages; do
    if [ -f "$dir/xapian/__init__.py" ]; then found="$dir"; break; fi
done
if [ -z "$found" ]; then
    echo "python3-xapian is not installed (apt-get install python3-xapian xapian-tools)" >&2
    exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "Debian's xapian module is built for CPython 3.11; $PY is $("$PY" -V 2>&1)" >&2
    exit 1
fi
# a folder of its own, so only xapian (not every Debian package) becomes importable
link="$VENV/xapian-debian"
mkdir -p "$link"
ln -sfn "$found/xapian" "$link/xapian"
site="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$link" > "$site/debian-xapian.pth"
"$PY" -c 'import xapian' 2>/dev/null
