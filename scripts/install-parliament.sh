#!/usr/bin/env bash
# Installs parliament (Duo Labs' IAM policy linter: unknown actions, actions scoped to resources they
# cannot apply to, malformed conditions) for test/parliament.test.ts, from PyPI at a pinned version
# into a virtual environment in a per-user cache; prints its Python's path. Idempotent: a cached
# environment with that version is reused.
set -euo pipefail

version=1.6.4
dir="${XDG_CACHE_HOME:-$HOME/.cache}/platform-tools/parliament-$version"
python="$dir/bin/python"

if [ -x "$python" ] && "$python" -c "import importlib.metadata as m; assert m.version('parliament') == '$version'" 2>/dev/null; then
  echo "$python"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "install-parliament.sh: Python 3 is not installed; install it (with venv) or put parliament $version in $dir" >&2
  exit 1
fi
rm -rf "$dir"
python3 -m venv "$dir" >&2
"$dir/bin/pip" install --quiet --disable-pip-version-check "parliament==$version" >&2
echo "$python"
