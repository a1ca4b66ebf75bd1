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

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    give_up "not root and no passwordless sudo: run 'sudo apt-get install chromium fonts-dejavu-core'"
fi
command -v apt-get >/dev/null 2>&1 || give_up "no apt-get: install chromium and set WORKBENCH_CHROMIUM to it"

echo "Installing Debian chromium (PNG maps and briefings, browser tests)"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null \
    || give_up "apt-get update failed"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core </dev/null >/dev/null \
    || give_up "apt-get install chromium failed"
have_chromium || give_up "apt-get installed chromium but it is not on PATH"
