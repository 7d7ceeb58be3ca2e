"""virt.libvirt.libvirt_guests run by ansible-inventory and ansible-playbook against the real daemon.

The lab: an isolated libvirt network with DHCP (a reserved address for one MAC), QEMU guests that boot
from the network so QEMU's iPXE ROM really takes a DHCP lease (they need no OS), one of them paused after
its lease, a shut-off KVM guest, and a Xen PV guest on libvirt's test driver (Xen cannot run here).
The leasing guests run under TCG (type qemu): on this nested-virtualization host iPXE stops KVM with an
"emulation failure", and TCG boots it in seconds.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ansible_collections.virt.libvirt.plugins.module_utils._guests_inventory import safe_group_name
from tests.support.harness import ansible_env, run_module, run_playbook
from tests.support.libvirt_api import libvirt_binding

pytestmark = pytest.mark.integration

ANSIBLE_INVENTORY = str(Path(sys.executable).parent / "ansible-inventory")
LEASE_WAIT_SECONDS = 90


def _create_isolated_network(connection, name, bridge, reserved_mac, rng_seed):
    """A transient isolated network in a free /24 of 10.232.0.0/16 (parallel runs pick different ones)."""
    libvirt = libvirt_binding()
    candidates = random.Random(rng_seed).sample(range(256), 20)
    last_error = None
    for third in candidates:
        subnet = "10.232.{}".format(third)
        document = (
            "<network><name>%s</name><bridge name='%s' stp='on' delay='0'/>"
            "<ip address='%s.1' netmask='255.255.255.0'><dhcp><range start='%s.100' end='%s.199'/>"
            "<host mac='%s' ip='%s.50'/></dhcp></ip></network>"
        ) % (name, bridge, subnet, subnet, subnet, reserved_mac, subnet)
        try:
            return connection.networkCreateXML(document), subnet
        except libvirt.libvirtError as error:
            last_error = error  # most likely the subnet is in use by another run; try the next one
    raise AssertionError("no free subnet in 10.232.0.0/16 for the test network: %s" % last_error)


def _wait_for_leases(network, macs):
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    while True:
        leases = {lease["mac"].lower(): lease["ipaddr"] for lease in network.DHCPLeases()}
        if all(mac in leases for mac in macs):
            return leases
        if time.monotonic() > deadline:
            raise AssertionError("guests %s took no DHCP lease within %d s; leases: %s"
                                 % (macs, LEASE_WAIT_SECONDS, leases))
        time.sleep(1)


@pytest.fixture(scope="module")
def lab(run_prefix, qemu_uri, test_driver_uri, kvm_domain_type):
    """The guests and network every test here reads; removed afterwards."""
    libvirt = libvirt_binding()
    connection = libvirt.open(qemu_uri)
    octets = (run_prefix[3:5], run_prefix[5:7], run_prefix[7:9])

    def mac(number):
        """This run's MAC address number ``number``."""
        return "52:54:%s:%s:%s:%02x" % (octets + (number,))

    net_name = "%s-inv" % run_prefix
    bridge = "%si" % run_prefix
    network, subnet = _create_isolated_network(connection, net_name, bridge, mac(1), run_prefix)
    prefix = "%s-inv-" % run_prefix
    names = {"leased": "%s-inv-leased" % run_prefix, "paused": "%s-inv-paused" % run_prefix,
             "off": "%s-inv-off" % run_prefix, "xen": "%s-inv-xen" % run_prefix}
    guests = []

    def qemu_guest(label, domain_type, mac_address, state):
        args = {"uri": qemu_uri, "name": names[label], "type": domain_type, "memory": "64MiB", "vcpu": 1,
                "os": {"type": "hvm", "boot": ["network"]},
                "interfaces": [{"type": "network", "network": net_name, "mac": mac_address, "model": "virtio"}],
                "state": state}
        guests.append((qemu_uri, names[label]))
        result = run_module("domain", args)
        assert result.changed, result.get("msg")

    try:
        qemu_guest("leased", "qemu", mac(1), "running")
        qemu_guest("paused", "qemu", mac(2), "running")
        qemu_guest("off", kvm_domain_type, mac(3), "present")
        guests.append((test_driver_uri, names["xen"]))
        xen = run_module("domain", {
            "uri": test_driver_uri, "name": names["xen"], "type": "xen", "memory": "128MiB", "vcpu": 2,
            "os": {"type": "linux", "kernel": "/boot/vmlinuz", "root": "/dev/xvda1"},
            "interfaces": [{"type": "bridge", "bridge": "xenbr0", "mac": mac(4)}], "state": "running"})
        assert xen.changed, xen.get("msg")
        leases = _wait_for_leases(network, [mac(1), mac(2)])
        assert leases[mac(1)] == subnet + ".50"  # the reservation, so the guest's address is known
        connection.lookupByName(names["paused"]).suspend()
        yield {"prefix": prefix, "names": names, "mac": mac, "leases": leases, "network": net_name,
               "subnet": subnet, "bridge": bridge, "kvm_type": kvm_domain_type, "qemu_uri": qemu_uri,
               "test_uri": test_driver_uri, "hypervisor": connection.getHostname()}
    finally:
        for uri, name in guests:
            run_module("domain", {"uri": uri, "name": name, "state": "absent"})
        network.destroy()
        connection.close()


def run_inventory(tmp_path, config, *extra, env=None, label="lab"):
    """ansible-inventory --list on a config file; returns (process, parsed output or None)."""
    path = tmp_path / ("%s.libvirt_guests.yml" % label)
    path.write_text(yaml.safe_dump(dict({"plugin": "virt.libvirt.libvirt_guests"}, **config)))
    output = tmp_path / ("%s.json" % label)
    if output.exists():
        output.unlink()
    # Unparsed sources fail the command (by default Ansible only warns and lists nothing). The listing
    # goes to a file, so -vvv logging on stdout does not mix with it.
    process = subprocess.run([ANSIBLE_INVENTORY, "-i", str(path), "--list", "--output", str(output)] + list(extra),
                             capture_output=True, text=True, timeout=300, check=False,
                             env=ansible_env(ANSIBLE_INVENTORY_UNPARSED_FAILED="1", **(env or {})))
    assert "Traceback" not in process.stderr + process.stdout, process.stderr
    listed = json.loads(output.read_text()) if process.returncode == 0 else None
    return process, listed


def hosts_of(listed, group):
    return sorted(listed.get(group, {}).get("hosts", []))


def lab_config(lab, **options):
    # Only this lab's guests: other tests (and other runs) have guests of their own on the same daemon.
    config = {"uris": [lab["qemu_uri"], lab["test_uri"]], "include_names": [lab["prefix"] + "*"]}
    config.update(options)
    return config


def test_groups_hostvars_and_leased_addresses(lab, tmp_path):
    process, listed = run_inventory(tmp_path, lab_config(lab))
    assert process.returncode == 0, process.stderr
    assert "WARNING" not in process.stderr, process.stderr  # no agent in the KVM guests: quietly no addresses
    names = lab["names"]
    everyone = sorted(names.values())
    assert hosts_of(listed, "libvirt_guests") == everyone
    assert hosts_of(listed, safe_group_name("libvirt_host", lab["hypervisor"])) == everyone
    by_type = {}
    for label, domain_type in (("leased", "qemu"), ("paused", "qemu"), ("off", lab["kvm_type"]), ("xen", "xen")):
        by_type.setdefault(domain_type, []).append(names[label])
    for domain_type, guests in by_type.items():
        assert hosts_of(listed, "libvirt_type_" + domain_type) == sorted(guests)
    assert hosts_of(listed, "libvirt_state_running") == sorted([names["leased"], names["xen"]])
    assert hosts_of(listed, "libvirt_state_paused") == [names["paused"]]
    assert hosts_of(listed, "libvirt_state_shutoff") == [names["off"]]

    hostvars = listed["_meta"]["hostvars"]
    libvirt = libvirt_binding()
    connection = libvirt.openReadOnly(lab["qemu_uri"])
    try:
        leased_uuid = connection.lookupByName(names["leased"]).UUIDString()
    finally:
        connection.close()
    leased = hostvars[names["leased"]]
    reserved = lab["subnet"] + ".50"
    assert leased["ansible_host"] == reserved and leased["libvirt_addresses"] == [reserved]
    assert (leased["libvirt_name"], leased["libvirt_uuid"]) == (names["leased"], leased_uuid)
    assert leased["libvirt_state"] == "running"
    assert (leased["libvirt_memory_kib"], leased["libvirt_vcpu"], leased["libvirt_type"]) == (65536, 1, "qemu")
    assert (leased["libvirt_uri"], leased["libvirt_hypervisor"]) == (lab["qemu_uri"], lab["hypervisor"])
    assert isinstance(leased["libvirt_id"], int) and leased["libvirt_persistent"] is True
    (nic,) = leased["libvirt_interfaces"]
    assert (nic["mac"], nic["type"], nic["source"]) == (lab["mac"](1), "network", lab["network"])
    assert nic["model"] == "virtio" and nic["target"]
    assert nic["addresses"] == [{"address": reserved, "prefix": 24, "family": "ipv4", "source": "lease"}]

    # A paused guest keeps its lease (and is not asked through the agent).
    paused = hostvars[names["paused"]]
    assert paused["ansible_host"] == lab["leases"][lab["mac"](2)] and paused["libvirt_state"] == "paused"
    assert paused["ansible_host"].startswith(lab["subnet"] + ".1")  # from the dynamic range .100-.199

    off = hostvars[names["off"]]
    assert "ansible_host" not in off and off["libvirt_addresses"] == [] and off["libvirt_id"] is None
    assert off["libvirt_state"] == "shutoff" and off["libvirt_interfaces"][0]["target"] is None

    xen = hostvars[names["xen"]]
    assert (xen["libvirt_type"], xen["libvirt_os_type"], xen["libvirt_uri"]) == ("xen", "linux", lab["test_uri"])
    assert (xen["libvirt_memory_kib"], xen["libvirt_vcpu"]) == (131072, 2)


def test_agent_source_and_read_only(lab, tmp_path):
    """The test driver answers the agent source (on read-write connections); the KVM guests have no agent."""
    libvirt = libvirt_binding()
    connection = libvirt.open(lab["test_uri"])
    try:
        answer = connection.lookupByName(lab["names"]["xen"]).interfaceAddresses(
            libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT)
    finally:
        connection.close()
    expected = [a["addr"] for entry in answer.values() for a in entry["addrs"]]
    assert expected

    process, listed = run_inventory(tmp_path, lab_config(lab, address_sources=["agent"]))
    assert process.returncode == 0, process.stderr
    hostvars = listed["_meta"]["hostvars"]
    xen = hostvars[lab["names"]["xen"]]
    assert xen["libvirt_addresses"] == expected and xen["ansible_host"] == expected[0]
    assert {a["source"] for nic in xen["libvirt_interfaces"] for a in nic["addresses"]} == {"agent"}
    assert hostvars[lab["names"]["leased"]]["libvirt_addresses"] == []  # no agent channel: no addresses, no error

    process, listed = run_inventory(tmp_path, lab_config(lab, address_sources=["agent", "lease"], read_only=True))
    assert process.returncode == 0, process.stderr
    hostvars = listed["_meta"]["hostvars"]
    # read-only: libvirt forbids the agent, so the test driver's agent addresses are not there; leases are
    assert hostvars[lab["names"]["leased"]]["ansible_host"] == lab["subnet"] + ".50"
    assert all(a["source"] == "lease" for nic in hostvars[lab["names"]["xen"]]["libvirt_interfaces"]
               for a in nic["addresses"])


def test_arp_source_or_libvirt_refusing_it(lab, tmp_path):
    """The host's ARP table, with a permanent neighbour entry for the leased guest. Where libvirt cannot
    read the table (libvirt 9.0 on newer kernels fails with "wrong nlmsg len") the source gives nothing,
    quietly, and -vvv says why."""
    libvirt = libvirt_binding()
    arp_address = lab["subnet"] + ".60"
    subprocess.run(["ip", "neigh", "replace", arp_address, "lladdr", lab["mac"](1), "dev", lab["bridge"],
                    "nud", "permanent"], check=True)
    connection = libvirt.openReadOnly(lab["qemu_uri"])
    try:
        try:
            answer = connection.lookupByName(lab["names"]["leased"]).interfaceAddresses(
                libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP)
            refusal = None
        except libvirt.libvirtError as error:
            answer, refusal = None, error.get_error_message()
    finally:
        connection.close()

    process, listed = run_inventory(tmp_path, lab_config(lab, address_sources=["lease", "arp"]), "-vvv")
    assert process.returncode == 0, process.stderr
    leased = listed["_meta"]["hostvars"][lab["names"]["leased"]]
    if refusal is not None:
        assert leased["libvirt_addresses"] == [lab["subnet"] + ".50"]
        assert "no addresses from arp for %s: %s" % (lab["names"]["leased"], refusal) in process.stdout + process.stderr
    else:
        arp_addresses = [a["addr"] for entry in answer.values() for a in entry["addrs"]]
        assert arp_address in arp_addresses
        assert leased["libvirt_addresses"][0] == lab["subnet"] + ".50" and arp_address in leased["libvirt_addresses"]


def test_naming_filters_and_constructed_options(lab, tmp_path):
    names = lab["names"]
    config = lab_config(
        lab, states=["running", "paused"], exclude_names=["*-paused"], host_naming="hypervisor_and_name",
        host_name_separator="/", group_prefix="lv_", ansible_host_address="none",
        compose={"ansible_host": "libvirt_addresses[0]", "guest_ram_mib": "libvirt_memory_kib // 1024"},
        groups={"small_guests": "libvirt_memory_kib < 100000"},
        keyed_groups=[{"key": "libvirt_os_type", "prefix": "os"}])
    process, listed = run_inventory(tmp_path, config)
    assert process.returncode == 0, process.stderr
    leased, xen = ("%s/%s" % (lab["hypervisor"], names[label]) for label in ("leased", "xen"))
    assert hosts_of(listed, "lv_guests") == sorted([leased, xen])  # off by state, paused by name
    assert hosts_of(listed, "lv_state_running") == sorted([leased, xen]) and "libvirt_guests" not in listed
    assert hosts_of(listed, "small_guests") == [leased]
    assert hosts_of(listed, "os_hvm") == [leased] and hosts_of(listed, "os_linux") == [xen]
    hostvars = listed["_meta"]["hostvars"]
    assert str(hostvars[leased]["guest_ram_mib"]) == "64"
    assert hostvars[leased]["ansible_host"] == lab["subnet"] + ".50"  # set by compose, not by the plugin

    process, listed = run_inventory(tmp_path, lab_config(lab, host_naming="uuid", states=["shutoff"]))
    assert process.returncode == 0, process.stderr
    ((uuid, variables),) = listed["_meta"]["hostvars"].items()
    assert variables["libvirt_uuid"] == uuid and variables["libvirt_name"] == names["off"]


def test_the_same_name_on_two_uris_fails_unless_named_apart(lab, tmp_path):
    clash = run_module("domain", {"uri": lab["test_uri"], "name": lab["names"]["off"], "type": "test",
                                  "memory": "64MiB", "vcpu": 1, "os": {"type": "hvm"}})
    assert clash.changed, clash.get("msg")
    try:
        process, _output = run_inventory(tmp_path, lab_config(lab))
        assert process.returncode != 0
        message = " ".join(process.stderr.split())
        assert "host_naming: the host name '%s' would be given to the guest" % lab["names"]["off"] in message
        assert lab["qemu_uri"] in message and lab["test_uri"] in message
        process, listed = run_inventory(tmp_path, lab_config(lab, host_naming="uuid"))
        assert process.returncode == 0, process.stderr
        assert sorted(v["libvirt_uri"] for v in listed["_meta"]["hostvars"].values()
                      if v["libvirt_name"] == lab["names"]["off"]) == sorted([lab["qemu_uri"], lab["test_uri"]])
    finally:
        run_module("domain", {"uri": lab["test_uri"], "name": lab["names"]["off"], "state": "absent"})


def test_a_uri_that_fails(lab, tmp_path, run_prefix):
    broken = "qemu+unix:///system?socket=/nonexistent/%s.sock" % run_prefix
    process, _output = run_inventory(tmp_path, lab_config(lab, uris=[lab["qemu_uri"], broken]))
    assert process.returncode != 0
    message = " ".join(process.stderr.split())
    assert "uris: cannot connect to libvirt at uri '%s'" % broken in message
    assert "/nonexistent/%s.sock" % run_prefix in message and "on_uri_error: warn" in message

    process, listed = run_inventory(tmp_path, lab_config(lab, uris=[lab["qemu_uri"], broken], on_uri_error="warn"))
    assert process.returncode == 0, process.stderr
    assert "skipped %s: cannot connect to libvirt" % broken in " ".join(process.stderr.split())
    assert lab["names"]["leased"] in hosts_of(listed, "libvirt_guests")


def test_bad_options_are_named(lab, tmp_path):
    process, _output = run_inventory(tmp_path, lab_config(lab, host_naming="hypervisor_and_name", host_name_separator=","))
    assert process.returncode != 0
    assert "host_name_separator: must be non-empty and contain no whitespace" in " ".join(process.stderr.split())
    process, _output = run_inventory(tmp_path, lab_config(lab, states=["asleep"]))
    assert process.returncode != 0 and "asleep" in process.stderr and "states" in process.stderr


def test_missing_libvirt_python_names_the_package(tmp_path):
    # libvirt-python is installed here; a module that fails to import stands in for its absence, in the
    # real ansible-inventory process.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "libvirt.py").write_text("raise ImportError(\"No module named 'libvirt'\")\n")
    env = ansible_env()
    process, _output = run_inventory(tmp_path, {}, env={"PYTHONPATH": "%s:%s" % (shadow, env["PYTHONPATH"])})
    assert process.returncode != 0
    message = " ".join(process.stderr.split())
    assert "needs libvirt-python (Python module 'libvirt') installed in the Python that runs Ansible" in message


def test_cache_is_used_until_flushed_or_the_fetch_options_change(test_driver_uri, tmp_path, run_prefix):
    uri = test_driver_uri
    name = "%s-inv-cached" % run_prefix
    assert run_module("domain", {"uri": uri, "name": name, "type": "test", "memory": "64MiB", "vcpu": 1,
                                 "os": {"type": "hvm"}, "state": "running"}).changed
    config = {"uris": [uri], "include_names": [name], "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
              "cache_connection": str(tmp_path / "cache"), "cache_timeout": 3600}
    libvirt = libvirt_binding()
    connection = libvirt.open(uri)
    try:
        def state_listed(**options):
            process, listed = run_inventory(tmp_path, dict(config, **options), label="cached")
            assert process.returncode == 0, process.stderr
            return listed["_meta"]["hostvars"][name]["libvirt_state"]

        assert state_listed() == "running"
        connection.lookupByName(name).destroy()
        assert state_listed() == "running"  # from the cache
        # ansible-inventory has no --flush-cache; ansible-playbook has.
        inventory = tmp_path / "cached.libvirt_guests.yml"
        playbook = tmp_path / "state.yml"
        playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "state", "ansible.builtin.debug": {"msg": "{{ hostvars['%s'].libvirt_state }}" % name}}]}]))
        flushed = run_playbook(playbook, inventory=str(inventory), args=["--flush-cache"])
        assert flushed.returncode == 0, flushed.stdout[-3000:]
        assert flushed.task("state")["msg"] == "shutoff"
        assert state_listed() == "shutoff"  # the flush refreshed the cache
        connection.lookupByName(name).create()
        # The cache says shutoff, but it was read without a state filter: it is read again.
        assert state_listed(states=["running"]) == "running"
    finally:
        connection.close()
        run_module("domain", {"uri": uri, "name": name, "state": "absent"})


def test_a_play_over_the_inventory(lab, tmp_path):
    """The use the plugin is for: a play over the listed guests, managing each on its own hypervisor."""
    inventory = tmp_path / "play.libvirt_guests.yml"
    inventory.write_text(yaml.safe_dump(dict({"plugin": "virt.libvirt.libvirt_guests"}, **lab_config(lab))))
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "libvirt_state_running", "gather_facts": False,
        "tasks": [
            {"name": "address", "ansible.builtin.debug": {"msg": "{{ ansible_host | default('none') }}"}},
            {"name": "still running", "delegate_to": "localhost",
             "virt.libvirt.domain": {"uri": "{{ libvirt_uri }}", "name": "{{ libvirt_name }}", "state": "running"}},
        ]}]))
    run = run_playbook(playbook, inventory=str(inventory))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    leased, xen = lab["names"]["leased"], lab["names"]["xen"]
    assert run.task("address", host=leased)["msg"] == lab["subnet"] + ".50"
    assert run.task("address", host=xen)["msg"] != "none"
    for host in (leased, xen):
        result = run.task("still running", host=host)
        assert not result.get("changed") and not result.get("failed"), result
    assert {r["host"] for r in run.records} == {leased, xen}  # the paused and shut-off guests are not targeted
