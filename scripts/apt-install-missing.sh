# shellcheck shell=bash
# Sourced by the set-up scripts (bash): apt_install_missing TAG PACKAGE... installs, as root, the Debian
# packages that are not installed yet, and nothing when all are; TAG names the script in its one message.
apt_install_missing() {
    local tag=$1 missing=() p
    shift
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "$tag: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}
