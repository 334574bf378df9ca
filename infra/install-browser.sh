#!/usr/bin/env bash
# Debian's Chromium, for the browser test that opens the Temporal UI (tests/integration/test_console.py).
# Only `make test` needs it; `make run` does not.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is missing: install Debian's 'chromium' package (the browser test needs it)." >&2
  exit 1
fi
echo "Installing Chromium from Debian's packages (for the browser test)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
