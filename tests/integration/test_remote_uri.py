"""The modules from the controller against a host over libvirt's ssh transport: a play over an inventory host
that cannot run modules (its Python does not exist) delegates domain, network and capabilities_facts to
localhost with qemu+ssh://root@127.0.0.1:2222/system, through the real sshd of scripts/setup-sshd.sh and its
known_hosts entry, to this machine's own libvirtd. A guest and a network converge, a second run changes
nothing, and a host that does not answer, a key it refuses or a host key not known fails the task naming uri."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.integration.test_xenpv_role import changed_tasks, task_record, task_result
from tests.support.harness import run_playbook
from tests.support.libvirt_api import free_subnets

pytestmark = pytest.mark.integration

NO_PYTHON = "/nonexistent/remote/bin/python"


def ssh_uri(sshd, key=None, port=None):
    return "qemu+ssh://root@%s:%d/system?keyfile=%s" % (sshd["host"], port or sshd["port"], key or sshd["key"])


def write_play(tmp_path, tasks, name="remote.json"):
    """A play over the host "kvm01" whose tasks all run on the controller (delegate_to: localhost)."""
    for task in tasks:
        task["delegate_to"] = "localhost"
    path = tmp_path / name
    path.write_text(json.dumps([{"hosts": "kvm01", "gather_facts": False, "tasks": tasks}]))
    return path


@pytest.fixture
def inventory(tmp_path, sshd):
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"all": {"hosts": {"kvm01": {
        "ansible_connection": "ssh", "ansible_host": sshd["host"], "ansible_port": sshd["port"],
        "ansible_user": "root", "ansible_ssh_private_key_file": sshd["key"],
        "ansible_python_interpreter": NO_PYTHON}}}}))
    return str(path)


@pytest.fixture
def declared(unique_name, qemu_uri, kvm_domain_type, sshd):
    """A network and a guest on it, as the controller declares them over ssh; removed afterwards."""
    subnet = free_subnets(qemu_uri, "10.235", 1)[0]
    network_name, guest_name = unique_name("sshnet"), unique_name("sshvm")
    network = {"uri": ssh_uri(sshd), "name": network_name, "state": "active",
               "bridge": {"name": network_name.replace("-sshnet-", "s")[:15]},
               "ips": [{"address": str(subnet.network_address + 1), "prefix": 24,
                        "dhcp": {"range": {"start": str(subnet.network_address + 100),
                                           "end": str(subnet.network_address + 199)}}}]}
    guest = {"uri": ssh_uri(sshd), "name": guest_name, "type": kvm_domain_type, "memory": "64MiB", "vcpu": 1,
             "os": {"type": "hvm", "boot": ["hd"]}, "state": "running",
             "interfaces": [{"type": "network", "network": network_name}]}
    yield network, guest
    for module, args in (("virt.libvirt.domain", guest), ("virt.libvirt.network", network)):
        subprocess.run(["virsh", "-c", "qemu:///system", "destroy" if "domain" in module else "net-destroy",
                        args["name"]], capture_output=True, check=False)
        subprocess.run(["virsh", "-c", "qemu:///system", "undefine" if "domain" in module else "net-undefine",
                        args["name"]], capture_output=True, check=False)


def test_domain_network_and_capabilities_converge_over_ssh(tmp_path, inventory, declared, qemu_uri,
                                                           libvirt_connection):
    network, guest = declared
    play = write_play(tmp_path, [
        {"name": "capabilities", "virt.libvirt.capabilities_facts": {"uri": guest["uri"]}},
        {"name": "network", "virt.libvirt.network": network},
        {"name": "guest", "virt.libvirt.domain": guest},
    ])
    first = run_playbook(play, inventory=inventory)
    assert first.returncode == 0, first.stdout[-4000:]
    assert changed_tasks(first) == ["network", "guest"]
    local = libvirt_connection(qemu_uri)
    assert local.networkLookupByName(network["name"]).isActive()
    domain = local.lookupByName(guest["name"])
    assert domain.isActive() and network["name"] in domain.XMLDesc(0)
    facts = task_result(first, "capabilities")["ansible_facts"]["libvirt_capabilities"]
    assert facts["host"]["arch"] == local.getInfo()[0] and facts["hvm"]

    again = run_playbook(play, inventory=inventory)
    assert again.returncode == 0 and changed_tasks(again) == [], changed_tasks(again)

    removed = run_playbook(write_play(tmp_path, [
        {"name": "guest", "virt.libvirt.domain": {"uri": guest["uri"], "name": guest["name"], "state": "absent"}},
        {"name": "network", "virt.libvirt.network": {"uri": network["uri"], "name": network["name"],
                                                     "state": "absent"}},
    ], name="absent.json"), inventory=inventory)
    assert removed.returncode == 0 and changed_tasks(removed) == ["guest", "network"], removed.stdout[-3000:]
    assert guest["name"] not in [d.name() for d in local.listAllDomains()]


def test_an_unreachable_host_or_a_refused_key_fails_naming_uri(tmp_path, inventory, sshd, unique_name):
    other_key = tmp_path / "not_authorised_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True)
    name = unique_name("sshbad")
    uris = {"unreachable": ssh_uri(sshd, port=1), "refused": ssh_uri(sshd, key=str(other_key))}
    # The same sshd under a name whose host key root's known_hosts does not hold (unless a run accepted it).
    unknown = "[localhost]:%d" % sshd["port"]
    if subprocess.run(["ssh-keygen", "-F", unknown], capture_output=True, check=False).returncode != 0:
        uris["unknown host key"] = ssh_uri(sshd).replace("@%s:" % sshd["host"], "@localhost:")
    tasks = []
    for label, uri in uris.items():
        tasks += [
            {"name": "%s capabilities" % label, "virt.libvirt.capabilities_facts": {"uri": uri}},
            {"name": "%s network" % label, "virt.libvirt.network": {"uri": uri, "name": name}},
            {"name": "%s guest" % label,
             "virt.libvirt.domain": {"uri": uri, "name": name, "memory": "64MiB", "os": {"type": "hvm"}}},
        ]
    for task in tasks:
        task["ignore_errors"] = True
    run = run_playbook(write_play(tmp_path, tasks), inventory=inventory, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    for task in tasks:
        record = task_record(run, task["name"])
        result = record["result"]
        assert record["status"] == "failed" and result.get("option") == "uri", (task["name"], result)
        assert result["msg"].startswith("uri: cannot connect to libvirt at uri 'qemu+ssh://root@"), result
        assert "Traceback" not in json.dumps(result)
    assert "Connection refused" in task_result(run, "unreachable guest")["msg"]
    assert "Permission denied (publickey)" in task_result(run, "refused guest")["msg"]
    if "unknown host key" in uris:
        assert "Host key verification failed" in task_result(run, "unknown host key network")["msg"]
