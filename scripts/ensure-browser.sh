#!/bin/sh
# Make sure a Chromium is there for Playwright: a forced path, Playwright's bundled browser, or a
# system Chromium; on Debian as root, install the `chromium` package when none is found.
set -eu
PY=${1:-python3}
found=$("$PY" -c 'from monitor.browser import find_browser; print(find_browser() or "")')
if [ -n "$found" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "no Chromium found: installing Debian's chromium package" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
    exit 0
fi
echo "no Chromium found: trying Playwright's own download" >&2
"$PY" -m playwright install chromium || {
    echo "rdv-monitor: no browser. Install Chromium (Debian: apt-get install chromium) or set RDV_MONITOR_BROWSER_PATH" >&2
    exit 1
}
