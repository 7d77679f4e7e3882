#!/usr/bin/env bash
# Shared by scripts/run and scripts/test: a virtualenv in .venv with the project installed.
# Usage: source scripts/setup.sh [EXTRAS]   e.g. "dev"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Relief Index needs Python 3.11 or newer (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [ ! -x "$ROOT/.venv/bin/python" ]; then
    "$PY" -m venv "$ROOT/.venv"
fi
extras="${1:-}"
stamp="$ROOT/.venv/.relief-installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$ROOT/.venv/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT${extras:+[$extras]}"
    touch "$stamp"
fi
# Xapian's Python module comes from Debian (python3-xapian), not PyPI: link it in when present
if [ -f /usr/lib/python3/dist-packages/xapian/__init__.py ]; then
    bash "$ROOT/scripts/link_xapian.sh" "$ROOT/.venv" >/dev/null 2>&1 || true
fi
