#!/usr/bin/env bash
# The end-to-end tests drive Debian's chromium with Playwright (Playwright cannot download
# its own browsers here). Install chromium when it is missing and we may (root + apt).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium for the browser tests (apt-get)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed and cannot be installed here; browser tests will be skipped" >&2
fi
