# Sourced by scripts/install_chromium.sh and scripts/install_java.sh (needs only sh, id and apt-get):
# apt_install WHAT_FOR "PACKAGES" NO_APT_HINT installs Debian packages non-interactively, as root or through
# passwordless sudo (`sudo -n`, never a prompt); on any failure it calls the sourcing script's give_up REASON.

apt_install() {
    if [ "$(id -u)" = 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        give_up "not root and no passwordless sudo: run 'sudo apt-get install $2'"
    fi
    command -v apt-get >/dev/null 2>&1 || give_up "$3"
    echo "Installing Debian $2 ($1)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null \
        || give_up "apt-get update failed"
    # shellcheck disable=SC2086  # $2 is a list of package names
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $2 </dev/null >/dev/null \
        || give_up "apt-get install $2 failed"
}
