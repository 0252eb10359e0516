#!/usr/bin/env bash
# Installs promtool (Prometheus' rule checker and rule unit-test runner) for test/alert-rules.test.ts.
# Debian ships it in the `prometheus` package. Idempotent: does nothing when promtool already runs.
# Needs root (or sudo) for apt-get; the package's service is not started (policy-rc.d in containers,
# and nothing here enables it).
set -euo pipefail

if promtool --version >/dev/null 2>&1; then
  echo "promtool present: $(promtool --version 2>&1 | head -n 1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-promtool.sh: apt-get not found; install promtool (from the Prometheus release of your platform) and put it on PATH" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-promtool.sh: needs root (or sudo) to run apt-get" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null

if ! promtool --version >/dev/null 2>&1; then
  echo "install-promtool.sh: the prometheus package installed, but promtool still does not run" >&2
  exit 1
fi
echo "promtool installed: $(promtool --version 2>&1 | head -n 1)"
