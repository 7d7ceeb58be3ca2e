#!/usr/bin/env bash
# make demo: converge the demo inventory (a KVM host and a stand-in Xen host, both this machine) with
# playbooks/provision.yml twice, and show that the second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections"
export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-}"
playbook=.venv/bin/ansible-playbook
inventory=playbooks/inventory.demo

# The test driver (the stand-in Xen host) keeps its guests only while a client is connected.
virsh -c test+unix:///default event --all --loop >/dev/null 2>&1 &
holder=$!
trap 'kill $holder 2>/dev/null || true' EXIT
sleep 0.5

# The base image the demo uploads once into its pool: a small empty qcow2 (the guests need not boot from it).
mkdir -p .build/demo
[ -f .build/demo/demo-base.qcow2 ] || qemu-img create -q -f qcow2 .build/demo/demo-base.qcow2 64M

echo "=== first run: converge the demo fleet ==="
"$playbook" -i "$inventory" playbooks/provision.yml
echo
echo "=== second run: the same inventory again; every host must report changed=0 ==="
# Kept in a file while shown: tee to /dev/stderr would reopen, and so truncate, a log that stderr goes to.
second=$(mktemp)
trap 'kill $holder 2>/dev/null || true; rm -f "$second"' EXIT
"$playbook" -i "$inventory" playbooks/provision.yml | tee "$second"
recap=$(sed -n '/PLAY RECAP/,$p' "$second")
if grep -E 'changed=[1-9]|failed=[1-9]' <<<"$recap"; then
    echo "demo: the second run changed something" >&2
    exit 1
fi
echo
echo "demo: the second run changed nothing."
virsh -c qemu:///system list --all | grep -E 'Id|demo-' || true
virsh -c qemu:///system vol-list vlib-demo --details || true
# demo-pxe's firmware asks for its static lease over DHCP; give it a few seconds.
for _ in $(seq 1 30); do
    virsh -c qemu:///system net-dhcp-leases vlib-demo | grep -q demo-pxe && break
    sleep 1
done
virsh -c qemu:///system net-dhcp-leases vlib-demo || true
echo
echo "=== the guests as Ansible hosts (inventory plugin virt.libvirt.libvirt_guests) ==="
.venv/bin/ansible-inventory -i playbooks/inventory.guests/demo.libvirt_guests.yml --graph
.venv/bin/ansible-inventory -i playbooks/inventory.guests/demo.libvirt_guests.yml --host demo-pxe \
    | grep -E '"(ansible_host|libvirt_state|libvirt_type|libvirt_uri)"' || true
echo "The KVM guests, network and storage stay for you to look at; 'make demo-clean' removes them."
echo "(The stand-in Xen host's guests live in libvirt's test driver and vanish when this script ends.)"
