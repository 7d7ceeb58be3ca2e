#!/usr/bin/env bash
# Installs and starts the real libvirt this project is tested against (Debian), idempotently.
# Run as root. Safe to run again: it only installs what is missing and starts what is not running.
set -euo pipefail

packages=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config
          qemu-system-x86 dnsmasq-base libvirt-daemon-config-network iptables
          rpm dnf python3-dnf createrepo-c iproute2 procps ipxe-qemu
          qemu-utils ovmf  # disk images (qemu-img) and UEFI firmware for the guests the tests start
          virtinst         # virt-install --print-xml: the documents real users have (test_client_documents.py)
          python3-libvirt python3-lxml python3-pycdlib  # the modules' libraries for the system Python (the SSH fleet)
          shellcheck   # ansible-test sanity's shellcheck test
          dpkg-dev)    # dpkg-source, for scripts/fetch-libvirt-tests.sh

# shellcheck source=scripts/apt-install-missing.sh
. "$(dirname "$0")/apt-install-missing.sh"
apt_install_missing setup-host "${packages[@]}"

getent group kvm >/dev/null || groupadd --system kvm
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
id libvirt-qemu >/dev/null 2>&1 || useradd --system --no-create-home -g libvirt-qemu -G kvm libvirt-qemu
mkdir -p /var/log/libvirt /var/lib/libvirt/images /run/libvirt
if [ -e /dev/kvm ]; then chgrp kvm /dev/kvm || true; chmod 0660 /dev/kvm || true; fi

pgrep -x virtlogd >/dev/null || virtlogd -d
if ! pgrep -x libvirtd >/dev/null; then
    libvirtd -d
fi
# Wait until the daemon answers.
for _ in $(seq 1 50); do
    virsh -c qemu:///system version >/dev/null 2>&1 && break
    sleep 0.2
done
virsh -c qemu:///system version >/dev/null
echo "setup-host: libvirtd answers on qemu:///system"
