#!/bin/sh
# `make browser`: Debian's chromium for the PNG products (maps, briefing first page) and the browser tests.
# Non-interactive as root, or as another user through passwordless sudo (`sudo -n`, never a prompt).
# When it cannot install, it prints ONE warning line and exits 0: PNGs are optional products (the verbs
# then write HTML and PDF and say "PNG skipped"), unless CI is set, where a missing browser fails the build.
set -u

have_chromium() {
    { [ -n "${WORKBENCH_CHROMIUM:-}" ] && [ -x "${WORKBENCH_CHROMIUM}" ]; } || command -v chromium >/dev/null 2>&1
}

give_up() {
    echo "warning: chromium not installed ($1); PNG maps and briefings will be skipped, browser tests too" >&2
    if [ -n "${CI:-}" ]; then exit 1; fi
    exit 0
}

have_chromium && exit 0

. "${0%/*}/apt_install.sh"
apt_install "PNG maps and briefings, browser tests" "chromium fonts-dejavu-core" \
    "no apt-get: install chromium and set WORKBENCH_CHROMIUM to it"
have_chromium || give_up "apt-get installed chromium but it is not on PATH"
