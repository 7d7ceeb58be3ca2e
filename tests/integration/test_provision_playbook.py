"""playbooks/provision.yml and decommission.yml end to end on this machine: a KVM host (the real daemon,
with a NAT network) and a stand-in Xen host (the test driver), both reached with a local connection."""
from __future__ import annotations

import sys

import pytest
import yaml

from tests.support.harness import REPO, run_playbook

pytestmark = pytest.mark.integration

PROVISION = REPO / "playbooks" / "provision.yml"
DECOMMISSION = REPO / "playbooks" / "decommission.yml"


def write_inventory(directory, kvm_vars, xen_vars):
    (directory / "host_vars").mkdir(exist_ok=True)
    hosts = {"all": {"children": {"hypervisors": {
        "hosts": {"kvmhost": None, "xenhost": None},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    (directory / "host_vars" / "kvmhost.yml").write_text(yaml.safe_dump(kvm_vars))
    (directory / "host_vars" / "xenhost.yml").write_text(yaml.safe_dump(xen_vars))
    return directory


@pytest.fixture
def fleet(tmp_path, run_prefix, qemu_uri, test_driver_uri):
    network, bridge = "%s-prov" % run_prefix, "%sp" % run_prefix
    subnet = "10.234.%d" % int(run_prefix[-2:], 16)  # another run on the same machine picks another one
    kvm_vars = {
        "libvirt_uri": qemu_uri,
        "libvirt_networks": [{
            "name": network, "state": "active", "bridge": {"name": bridge}, "forward": {"mode": "nat"},
            "ips": [{"address": subnet + ".1", "prefix": 24,
                     "dhcp": {"range": {"start": subnet + ".100", "end": subnet + ".150"},
                              "hosts": [{"mac": "52:54:00:34:31:01", "name": "web", "ip": subnet + ".11"}]}}]}],
        "libvirt_domains": [
            # QEMU TCG for the running guest: with no OS it network-boots, and iPXE under this nested host's KVM
            # stops with an emulation failure that pauses the guest (an environment limit; see docs/testing.md).
            {"name": "%s-prov-web" % run_prefix, "state": "running", "type": "qemu", "memory": "64MiB",
             "os": {"type": "hvm", "boot": ["hd"]},
             "interfaces": [{"type": "network", "network": network, "mac": "52:54:00:34:31:01"}]},
            {"name": "%s-prov-db" % run_prefix, "memory": "64MiB", "os": {"type": "hvm"},
             "type": "{{ 'kvm' if libvirt_capabilities.kvm else 'qemu' }}",
             "interfaces": [{"type": "network", "network": network}]},
        ],
    }
    xen_vars = {
        "libvirt_uri": test_driver_uri,
        "libvirt_host_install": False,
        "libvirt_domains": [{"name": "%s-prov-pv" % run_prefix, "state": "running", "type": "xen",
                             "memory": 131072, "os": {"type": "linux", "kernel": "/boot/vmlinuz"},
                             "disks": [{"source": "/u/pv.img", "target": "xvda"}]}],
    }
    yield tmp_path, kvm_vars, xen_vars
    run_playbook(DECOMMISSION, inventory=write_inventory(tmp_path, kvm_vars, xen_vars))


def summary(run, host):
    return run.task("Summary of %s" % host, host)["msg"]


def test_provision_twice_then_decommission(fleet, run_prefix, libvirt_connection, qemu_uri):
    directory, kvm_vars, xen_vars = fleet
    inventory = write_inventory(directory, kvm_vars, xen_vars)

    predicted = run_playbook(PROVISION, inventory=inventory, check=True)
    assert predicted.returncode == 0, predicted.stdout[-5000:]
    assert "Converge the host's guests" in predicted.changed_tasks()
    assert "%s-prov" % run_prefix not in libvirt_connection(qemu_uri).listNetworks()

    first = run_playbook(PROVISION, inventory=inventory)
    assert first.returncode == 0, first.stdout[-5000:]
    kvm = summary(first, "kvmhost")
    assert kvm["guests_running"] == ["%s-prov-web" % run_prefix]
    assert int(kvm["guests_defined"]) == 2 and kvm["networks_active"] == ["%s-prov" % run_prefix]
    assert sorted(kvm["guests_changed"]) == sorted(d["name"] for d in kvm_vars["libvirt_domains"])
    assert summary(first, "xenhost")["guests_running"] == ["%s-prov-pv" % run_prefix]

    second = run_playbook(PROVISION, inventory=inventory)
    assert second.returncode == 0, second.stdout[-5000:]
    assert second.changed_tasks() == []
    assert summary(second, "kvmhost")["guests_changed"] == [] and summary(second, "kvmhost")["failed"] == []

    # one bad item: the others are still converged, the summary names it, then the host fails
    kvm_vars["libvirt_domains"].append({"name": "%s-prov-bad" % run_prefix, "memory": "lots"})
    kvm_vars["libvirt_domains"][1]["vcpu"] = 2
    third = run_playbook(PROVISION, inventory=write_inventory(directory, kvm_vars, xen_vars))
    assert third.returncode != 0
    kvm = summary(third, "kvmhost")
    assert kvm["failed"] == ["%s-prov-bad" % run_prefix] and kvm["guests_changed"] == ["%s-prov-db" % run_prefix]
    failure = third.task("Fail the host when a network or guest failed", "kvmhost")
    assert "%s-prov-bad: domains[2].memory: 'lots' is not a size" % run_prefix in failure["msg"]
    assert third.task("Summary of xenhost", "xenhost")  # the other host went on
    assert "<vcpu placement='static'>2</vcpu>" in libvirt_connection(qemu_uri).lookupByName(
        "%s-prov-db" % run_prefix).XMLDesc(0)

    kvm_vars["libvirt_domains"].pop()
    removed = run_playbook(DECOMMISSION, inventory=write_inventory(directory, kvm_vars, xen_vars))
    assert removed.returncode == 0, removed.stdout[-5000:]
    conn = libvirt_connection(qemu_uri)
    assert not [d for d in conn.listAllDomains() if d.name().startswith("%s-prov" % run_prefix)]
    assert "%s-prov" % run_prefix not in conn.listNetworks() + conn.listDefinedNetworks()
