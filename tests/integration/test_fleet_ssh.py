"""A fleet over real SSH, the way users run it: playbooks/provision.yml against three inventory hosts reached
through sshd on 127.0.0.1:2222 (scripts/setup-sshd.sh, run by `make test`), as the non-root user vltssh with
become, pipelining on and three forks, each host with its own guests, network name and free subnet. Then the
same run again (nothing changes) and playbooks/decommission.yml. Ansible's engine spreads the work over the
hosts; the collection must behave under it as under `connection: local`.

The three hosts are one machine: the libvirt_host role's package step finds python3-libvirt and python3-lxml
already installed by scripts/setup-host.sh, since three apt runs at once on one machine contend for dpkg's lock
(which separate hosts never do)."""
from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.support.harness import REPO, run_playbook
from tests.support.libvirt_api import free_subnets

pytestmark = pytest.mark.integration

PROVISION = REPO / "playbooks" / "provision.yml"
DECOMMISSION = REPO / "playbooks" / "decommission.yml"
# scripts/setup-sshd.sh's interface
SSH_PORT = 2222
SSH_USER = "vltssh"
SSH_KEY = "/root/.ssh/virt_libvirt_test_ed25519"
HOSTS = ("fleet1", "fleet2", "fleet3")
# Three forks, pipelining, host keys checked against known_hosts (setup-sshd.sh filled it).
ENGINE = {"ANSIBLE_FORKS": "3", "ANSIBLE_PIPELINING": "1", "ANSIBLE_HOST_KEY_CHECKING": "1"}


@pytest.fixture(scope="module")
def sshd():
    """The test sshd answers and lets vltssh become root; without it the test fails and says how to start it."""
    probe = subprocess.run(["ssh", "-p", str(SSH_PORT), "-i", SSH_KEY, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                            "%s@127.0.0.1" % SSH_USER, "sudo", "-n", "true"],
                           capture_output=True, text=True, timeout=60, check=False)
    if probe.returncode != 0:
        pytest.fail("no sshd for the fleet on 127.0.0.1:%d (run scripts/setup-sshd.sh as root; `make test` does): %s"
                    % (SSH_PORT, probe.stderr.strip()))


def host_vars(run_prefix, index, subnet):
    prefix = "%s-f%d" % (run_prefix, index)
    network = "%s-net" % prefix
    return {
        "ansible_host": "127.0.0.1",
        "libvirt_uri": "qemu:///system",
        "libvirt_networks": [{
            "name": network, "state": "active", "bridge": {"name": "%sf%d" % (run_prefix, index)},
            "forward": {"mode": "nat"},
            "ips": [{"address": subnet + ".1", "prefix": 24,
                     "dhcp": {"range": {"start": subnet + ".100", "end": subnet + ".150"}}}]}],
        "libvirt_domains": [
            {"name": "%s-web" % prefix, "state": "running", "memory": "64MiB",
             "type": "{{ 'kvm' if libvirt_capabilities.kvm else 'qemu' }}", "os": {"type": "hvm", "boot": ["hd"]},
             "interfaces": [{"type": "network", "network": network, "mac": "52:54:00:5f:00:%02x" % index}]},
            {"name": "%s-db" % prefix, "memory": "64MiB", "os": {"type": "hvm"},
             "type": "{{ 'kvm' if libvirt_capabilities.kvm else 'qemu' }}",
             "interfaces": [{"type": "network", "network": network}]},
        ],
    }


@pytest.fixture
def fleet(tmp_path, run_prefix, qemu_uri, sshd):
    subnets = [str(subnet.network_address).rsplit(".", 1)[0] for subnet in free_subnets(qemu_uri, "10.235", len(HOSTS))]
    inventory = {"all": {"children": {"hypervisors": {
        "hosts": {host: host_vars(run_prefix, index, subnet)
                  for index, (host, subnet) in enumerate(zip(HOSTS, subnets), 1)},
        "vars": {"ansible_connection": "ssh", "ansible_port": SSH_PORT, "ansible_user": SSH_USER,
                 "ansible_ssh_private_key_file": SSH_KEY, "ansible_become": True,
                 # the managed host's own Python, found by Ansible as on any host
                 "ansible_python_interpreter": "auto_silent"}}}}}
    path = tmp_path / "fleet.yml"
    path.write_text(yaml.safe_dump(inventory))
    yield path
    run_playbook(DECOMMISSION, inventory=path, env=ENGINE)


def by_host(run, task):
    return {record["host"]: record for record in run.records if record["task"] == task}


def test_fleet_over_ssh_provisions_reruns_unchanged_and_decommissions(fleet, run_prefix, libvirt_connection, qemu_uri):
    first = run_playbook(PROVISION, inventory=fleet, env=ENGINE)
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]

    facts = by_host(first, "Gathering Facts")
    assert sorted(facts) == sorted(HOSTS)
    for host, record in facts.items():  # reached over SSH as vltssh, running as root through sudo
        assert record["result"]["ansible_facts"]["ansible_env"].get("SUDO_USER") == SSH_USER, host
        assert record["result"]["ansible_facts"]["ansible_user_id"] == "root", host

    for index, host in enumerate(HOSTS, 1):
        summary = first.task("Summary of %s" % host, host)["msg"]
        assert summary["guests_running"] == ["%s-f%d-web" % (run_prefix, index)], summary
        assert int(summary["guests_defined"]) == 2 and summary["failed"] == [], summary
        assert summary["networks_active"] == ["%s-f%d-net" % (run_prefix, index)], summary

    # three forks: every host's guests task was under way before the first host's result came back
    guests = by_host(first, "Converge the host's guests")
    assert max(r["started"] for r in guests.values()) < min(r["ended"] for r in guests.values()), guests

    connection = libvirt_connection(qemu_uri)
    for index in range(1, len(HOSTS) + 1):
        assert connection.lookupByName("%s-f%d-web" % (run_prefix, index)).isActive()
        assert not connection.lookupByName("%s-f%d-db" % (run_prefix, index)).isActive()
        assert connection.networkLookupByName("%s-f%d-net" % (run_prefix, index)).isActive()

    again = run_playbook(PROVISION, inventory=fleet, env=ENGINE)
    assert again.returncode == 0, again.stdout[-6000:]
    assert again.changed_tasks() == []
    assert sorted(by_host(again, "Converge the host's guests")) == sorted(HOSTS)

    removed = run_playbook(DECOMMISSION, inventory=fleet, env=ENGINE)
    assert removed.returncode == 0, removed.stdout[-6000:]
    removed_guests = by_host(removed, "Remove the host's guests")
    assert sorted(host for host, record in removed_guests.items() if record["result"].get("changed")) == sorted(HOSTS)
    left = [d.name() for d in connection.listAllDomains() if d.name().startswith("%s-f" % run_prefix)]
    left += [n.name() for n in connection.listAllNetworks() if n.name().startswith("%s-f" % run_prefix)]
    assert left == []
