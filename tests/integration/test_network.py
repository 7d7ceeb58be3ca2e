"""virt.libvirt.network against the real daemon: isolated and NAT networks with a real bridge and dnsmasq,
static DHCP hosts changed live (a real guest's firmware takes the lease), check and diff mode, idempotence,
restart, stop, undefine, the default network adopted unchanged, and bad input that changes nothing.

Every network uses this run's prefix, its own bridge and a /24 of 10.231.0.0/16 that nothing on the host
uses; traffic stays on those bridges."""
from __future__ import annotations

import ipaddress
import os
import subprocess
import time

import pytest

from tests.support.harness import run_module
from tests.support.libvirt_api import free_subnets, libvirt_binding

pytestmark = pytest.mark.integration

DNSMASQ_DIR = "/var/lib/libvirt/dnsmasq"
PID_DIR = "/run/libvirt/network"


@pytest.fixture(scope="module")
def subnets(qemu_uri):
    """Six /24 networks of 10.231.0.0/16 that no libvirt network or host interface overlaps."""
    return free_subnets(qemu_uri, "10.231", 6)


def host(subnet, number):
    return str(subnet.network_address + number)


def live_xml(connection, name):
    return connection.networkLookupByName(name).XMLDesc(0)


def persistent_xml(connection, name):
    libvirt = libvirt_binding()
    return connection.networkLookupByName(name).XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)


def network_names(connection):
    return [network.name() for network in connection.listAllNetworks()]


def dnsmasq_pid(name):
    with open(os.path.join(PID_DIR, name + ".pid")) as stream:
        pid = int(stream.read().strip())
    assert os.path.exists("/proc/%d" % pid), "dnsmasq of %s is not running" % name
    return pid


def hostsfile(name):
    with open(os.path.join(DNSMASQ_DIR, name + ".hostsfile")) as stream:
        return stream.read().split()


def ifindex(bridge):
    with open("/sys/class/net/%s/ifindex" % bridge) as stream:
        return int(stream.read())


def nat_rules():
    return subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def cleanup_networks(qemu_uri):
    names = []
    yield names
    for name in names:
        run_module("network", {"uri": qemu_uri, "name": name, "state": "absent"})


def test_isolated_network_from_creation_to_removal(qemu_uri, run_prefix, unique_name, subnets, libvirt_connection,
                                                   cleanup_networks):
    conn = libvirt_connection(qemu_uri)
    name, bridge, subnet = unique_name("iso"), run_prefix + "n1", subnets[0]
    cleanup_networks.append(name)
    v6 = "fd00:231:%x::" % subnet.network_address.packed[2]
    hosts = [{"mac": "52:54:00:23:01:01", "name": "alpha", "ip": host(subnet, 11)},
             {"mac": "52:54:00:23:01:02", "name": "beta", "ip": host(subnet, 12)}]
    params = {"uri": qemu_uri, "name": name, "state": "active", "bridge": {"name": bridge},
              "forward": {"mode": "none"}, "domain": "lab.test",
              "ips": [{"address": host(subnet, 1), "prefix": 24,
                       "dhcp": {"range": {"start": host(subnet, 100), "end": host(subnet, 150)}, "hosts": hosts}},
                      {"address": v6 + "1", "family": "ipv6", "prefix": 64,
                       "dhcp": {"range": {"start": v6 + "100", "end": v6 + "1ff"},
                                "hosts": [{"id": "0:3:0:1:52:54:0:23:1:1", "name": "alpha6", "ip": v6 + "11"}]}}]}

    predicted = run_module("network", params, check_mode=True, diff=True)
    assert predicted.changed and predicted["changes"] == ["network", "state"], predicted
    assert predicted["network"]["active"] and predicted["network"]["bridge"] == bridge
    assert predicted["diff"]["before"] == "" and "<name>%s</name>" % name in predicted["diff"]["after"]
    assert name not in network_names(conn) and not os.path.exists("/sys/class/net/" + bridge)

    created = run_module("network", params, diff=True)
    assert created.changed and not created.failed, created
    info = created["network"]
    assert (info["name"], info["active"], info["persistent"], info["autostart"], info["bridge"]) == (
        name, True, True, False, bridge)
    assert info["uuid"] == conn.networkLookupByName(name).UUIDString()
    assert created["diff"]["before"] == "" and "lab.test" in created["diff"]["after"]
    bridge_index, pid = ifindex(bridge), dnsmasq_pid(name)
    assert "52:54:00:23:01:01,%s,alpha" % host(subnet, 11) in hostsfile(name)
    assert "id:0:3:0:1:52:54:0:23:1:1,alpha6,[%s11]" % v6 in hostsfile(name)
    assert str(subnet) not in nat_rules()  # isolated: no masquerading

    for again in (run_module("network", params), run_module("network", params, check_mode=True)):
        assert not again.changed and again["changes"] == [] and not again["restart_required"], again

    # Static hosts change live: one moves, one goes, one comes, the IPv6 one is renamed.
    changed_hosts = [{"mac": "52:54:00:23:01:01", "name": "alpha", "ip": host(subnet, 21)},
                     {"mac": "52:54:00:23:01:03", "name": "gamma", "ip": host(subnet, 13)}]
    params["ips"][0]["dhcp"]["hosts"] = changed_hosts
    params["ips"][1]["dhcp"]["hosts"][0]["name"] = "alpha-six"
    live_before = live_xml(conn, name)
    predicted = run_module("network", params, check_mode=True, diff=True)
    assert predicted.changed and not predicted["restart_required"]
    assert [u["command"] for u in predicted["live_updates"]] == ["delete", "modify", "add", "modify"]
    assert host(subnet, 21) in predicted["diff"]["after"] and host(subnet, 21) not in predicted["diff"]["before"]
    assert live_xml(conn, name) == live_before and host(subnet, 21) not in persistent_xml(conn, name)

    updated = run_module("network", params)
    assert updated.changed and not updated["restart_required"], updated
    assert updated["changes"] == [
        "ips[%s].dhcp.hosts[52:54:00:23:01:01]" % host(subnet, 1), "ips[%s].dhcp.hosts[52:54:00:23:01:03]" % host(subnet, 1),
        "ips[%s].dhcp.hosts[52:54:00:23:01:02]" % host(subnet, 1), "ips[%s1].dhcp.hosts[0:3:0:1:52:54:0:23:1:1]" % v6]
    for document in (live_xml(conn, name), persistent_xml(conn, name)):
        assert "ip='%s'" % host(subnet, 21) in document and "name='gamma'" in document
        assert "beta" not in document and "alpha-six" in document
    assert "52:54:00:23:01:01,%s,alpha" % host(subnet, 21) in hostsfile(name)
    assert "52:54:00:23:01:03,%s,gamma" % host(subnet, 13) in hostsfile(name)
    assert not [line for line in hostsfile(name) if "beta" in line]
    # Neither the bridge nor dnsmasq was restarted: dnsmasq re-read its hosts file.
    assert (ifindex(bridge), dnsmasq_pid(name)) == (bridge_index, pid)
    assert not run_module("network", params).changed

    # Anything else is written to the definition and waits for a restart.
    params["ips"][0]["dhcp"]["range"] = {"start": host(subnet, 100), "end": host(subnet, 199)}
    ranged = run_module("network", params)
    assert ranged.changed and ranged["restart_required"]
    assert ranged["changes"] == ["ips[%s].dhcp.ranges" % host(subnet, 1)]
    assert host(subnet, 199) in persistent_xml(conn, name) and host(subnet, 199) not in live_xml(conn, name)
    pending = run_module("network", params)
    assert not pending.changed and pending["restart_required"]  # still true: the running network differs
    predicted = run_module("network", dict(params, restart=True), check_mode=True)
    assert predicted.changed and predicted["changes"] == ["state"] and dnsmasq_pid(name) == pid
    restarted = run_module("network", dict(params, restart=True))
    assert restarted.changed and not restarted["restart_required"]
    assert host(subnet, 199) in live_xml(conn, name) and dnsmasq_pid(name) != pid
    assert not run_module("network", dict(params, restart=True)).changed

    stopped = run_module("network", dict(params, state="inactive"))
    assert stopped.changed and stopped["changes"] == ["state"] and not stopped["network"]["active"]
    assert not conn.networkLookupByName(name).isActive() and not os.path.exists("/sys/class/net/" + bridge)
    # A static host on a stopped network: only the definition changes.
    params["ips"][0]["dhcp"]["hosts"].append({"mac": "52:54:00:23:01:04", "ip": host(subnet, 14)})
    offline = run_module("network", dict(params, state="inactive"))
    assert offline.changed and offline["live_updates"] == [] and not offline["restart_required"]
    assert host(subnet, 14) in persistent_xml(conn, name)
    assert not run_module("network", dict(params, state="inactive")).changed

    removed = run_module("network", {"uri": qemu_uri, "name": name, "state": "absent"}, diff=True)
    assert removed.changed and removed["diff"]["after"] == "" and host(subnet, 14) in removed["diff"]["before"]
    assert name not in network_names(conn)
    assert not run_module("network", {"uri": qemu_uri, "name": name, "state": "absent"}).changed


def wait_for_lease(connection, name, mac, address, timeout=90):
    deadline = time.monotonic() + timeout
    leases = []
    while time.monotonic() < deadline:
        leases = connection.networkLookupByName(name).DHCPLeases()
        if any(lease["mac"] == mac and lease["ipaddr"] == address for lease in leases):
            return leases
        time.sleep(1)
    raise AssertionError("no lease of %s for %s on %s within %ds: %s" % (address, mac, name, timeout, leases))


def test_nat_network_gives_a_real_guest_its_static_lease(qemu_uri, run_prefix, unique_name, subnets,
                                                         libvirt_connection, cleanup_networks):
    """A guest's iPXE firmware takes its static lease; the lease is moved live and the guest, booted again,
    takes the new address from the same dnsmasq.

    The guest is QEMU TCG: under this host's (nested) KVM the option ROM never sends a packet, under TCG
    iPXE does DHCP within seconds."""
    conn = libvirt_connection(qemu_uri)
    name, bridge, subnet = unique_name("nat"), run_prefix + "n2", subnets[1]
    cleanup_networks.append(name)
    guest_mac = "52:54:00:23:02:01"
    params = {"uri": qemu_uri, "name": name, "state": "active", "autostart": True, "bridge": {"name": bridge},
              "forward": {"mode": "nat"},
              "ips": [{"address": host(subnet, 1), "netmask": "255.255.255.0",
                       "dhcp": {"range": {"start": host(subnet, 100), "end": host(subnet, 150)},
                                "hosts": [{"mac": guest_mac, "name": "pxe", "ip": host(subnet, 10)}]}}]}
    created = run_module("network", params)
    assert created.changed and created["network"]["active"] and created["network"]["autostart"], created
    assert "-s %s ! -d %s -j MASQUERADE" % (subnet, subnet) in nat_rules()
    assert not run_module("network", params).changed

    guest = {"uri": qemu_uri, "name": unique_name("pxe"), "type": "qemu", "memory": "64MiB", "vcpu": 1,
             "os": {"type": "hvm", "boot": ["network"]}, "state": "running",
             "interfaces": [{"type": "network", "network": name, "mac": guest_mac, "model": "virtio"}]}
    try:
        started = run_module("domain", guest)
        assert started.changed and started["domain"]["state"] == "running", started
        wait_for_lease(conn, name, guest_mac, host(subnet, 10))

        pid = dnsmasq_pid(name)
        params["ips"][0]["dhcp"]["hosts"][0]["ip"] = host(subnet, 20)
        moved = run_module("network", params)
        assert moved.changed and not moved["restart_required"] and moved["live_updates"][0]["command"] == "modify"
        assert dnsmasq_pid(name) == pid
        run_module("domain", dict(guest, state="destroyed"))
        run_module("domain", dict(guest, state="running"))
        wait_for_lease(conn, name, guest_mac, host(subnet, 20))
    finally:
        run_module("domain", {"uri": qemu_uri, "name": guest["name"], "state": "absent"})


def test_default_network_is_adopted_unchanged(qemu_uri, run_prefix, unique_name, subnets, libvirt_connection,
                                              cleanup_networks):
    conn = libvirt_connection(qemu_uri)
    libvirt = libvirt_binding()
    if "default" in network_names(conn):
        # The host's own default network: only read (a run and a check-mode run), never written.
        before = persistent_xml(conn, "default")
        address = ipaddress.ip_address(before.split("<ip address='")[1].split("'")[0])
        assert not run_module("network", {"uri": qemu_uri, "name": "default"}).changed
        predicted = run_module("network", {"uri": qemu_uri, "name": "default", "ips": [
            {"address": str(address), "dhcp": {"hosts": [{"mac": "52:54:00:23:03:09", "ip": str(address + 9)}]}}]},
            check_mode=True)
        assert predicted.changed
        assert persistent_xml(conn, "default") == before

    # A copy of it, defined the way `virsh net-define` would, adopted with state and autostart only.
    subnet = subnets[2]
    name, bridge = unique_name("default"), run_prefix + "n3"
    cleanup_networks.append(name)
    stock = ("<network><name>%s</name><forward mode='nat'/><bridge name='%s' stp='on' delay='0'/>"
             "<ip address='%s' netmask='255.255.255.0'><dhcp><range start='%s' end='%s'/></dhcp></ip>"
             "<dns><host ip='%s'><hostname>router</hostname></host></dns></network>"
             % (name, bridge, host(subnet, 1), host(subnet, 2), host(subnet, 254), host(subnet, 1)))
    conn.networkDefineXML(stock)
    defined = persistent_xml(conn, name)
    adopted = run_module("network", {"uri": qemu_uri, "name": name, "state": "active", "autostart": True})
    assert adopted.changed and adopted["changes"] == ["state", "autostart"], adopted
    assert persistent_xml(conn, name) == defined  # not rewritten
    assert conn.networkLookupByName(name).isActive() and conn.networkLookupByName(name).autostart()
    # One static lease added: the only difference in the definition.
    lease = {"uri": qemu_uri, "name": name, "ips": [
        {"address": host(subnet, 1), "dhcp": {"hosts": [{"mac": "52:54:00:23:03:01", "ip": host(subnet, 9)}]}}]}
    added = run_module("network", lease)
    assert added.changed and not added["restart_required"]
    expected = defined.replace("</dhcp>", "  <host mac='52:54:00:23:03:01' ip='%s'/>\n    </dhcp>" % host(subnet, 9))
    assert persistent_xml(conn, name) == expected
    assert not run_module("network", lease).changed
    assert conn.networkLookupByName(name).XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE).count("<hostname>router") == 1


BAD_INPUT = [
    ({"ips": [{"address": "{net}.0", "prefix": 24}]}, "ips[0].address", "is the network address of"),
    ({"ips": [{"address": "{net}.1", "prefix": 24, "dhcp": {"range": {"start": "{net}.100", "end": "10.231.255.5"}}}]},
     "ips[0].dhcp.range.end", "is outside the subnet"),
    ({"ips": [{"address": "{net}.1", "prefix": 24, "dhcp": {"hosts": [
        {"mac": "52:54:00:23:04:01", "ip": "{net}.5"}, {"mac": "52:54:00:23:04:01", "ip": "{net}.6"}]}}]},
     "ips[0].dhcp.hosts[1].mac", "is already used by hosts[0]"),
    ({"bridge": {"name": "{prefix}-far-too-long"}}, "bridge.name", "the kernel allows at most 15"),
    ({"forward": {"mode": "bridge"}, "bridge": {"name": "{prefix}n4"}}, "ips",
     "carries no IP addresses"),
]


def test_bad_input_changes_nothing(qemu_uri, run_prefix, unique_name, subnets, libvirt_connection, cleanup_networks):
    conn = libvirt_connection(qemu_uri)
    name, subnet = unique_name("bad"), subnets[3]
    cleanup_networks.append(name)
    net = str(subnet.network_address).rsplit(".", 1)[0]
    base = {"uri": qemu_uri, "name": name, "state": "active", "bridge": {"name": run_prefix + "n4"},
            "ips": [{"address": net + ".1", "prefix": 24,
                     "dhcp": {"hosts": [{"mac": "52:54:00:23:04:01", "ip": net + ".5"}]}}]}
    assert run_module("network", base).changed
    definition, live = persistent_xml(conn, name), live_xml(conn, name)

    def expand(value):
        if isinstance(value, dict):
            return {key: expand(item) for key, item in value.items()}
        if isinstance(value, list):
            return [expand(item) for item in value]
        return value.replace("{net}", net).replace("{prefix}", run_prefix) if isinstance(value, str) else value

    for overrides, option, message in BAD_INPUT:
        result = run_module("network", dict(base, **expand(overrides)))
        assert result.failed and not result.changed, (overrides, result)
        assert result["msg"].startswith(option + ": ") and message in result["msg"], result["msg"]
        assert result["option"] == option and "Traceback" not in result["_stderr"]
        assert (persistent_xml(conn, name), live_xml(conn, name)) == (definition, live)

    unknown_mode = run_module("network", dict(base, forward={"mode": "tunnel"}))
    assert unknown_mode.failed and "forward" in unknown_mode["msg"] and "tunnel" in unknown_mode["msg"]
    assert persistent_xml(conn, name) == definition

    # libvirt's own refusals keep libvirt's words, and a new network that cannot start is not left behind.
    clash = unique_name("clash")
    cleanup_networks.append(clash)
    same_bridge = run_module("network", {"uri": qemu_uri, "name": clash, "bridge": {"name": run_prefix + "n4"}})
    assert same_bridge.failed and "already in use" in same_bridge["libvirt_message"], same_bridge
    assert clash not in network_names(conn)
    same_subnet = run_module("network", {"uri": qemu_uri, "name": clash, "state": "active",
                                         "bridge": {"name": run_prefix + "n5"},
                                         "ips": [{"address": net + ".2", "prefix": 24}]})
    assert same_subnet.failed and same_subnet["option"] == "state" and same_subnet["libvirt_message"], same_subnet
    assert clash not in network_names(conn)


def test_bulk_form(qemu_uri, run_prefix, unique_name, subnets, libvirt_connection, cleanup_networks):
    conn = libvirt_connection(qemu_uri)
    routed, opened, broken = unique_name("route"), unique_name("open"), unique_name("broken")
    cleanup_networks.extend([routed, opened, broken])
    items = [
        {"name": routed, "forward": {"mode": "route"}, "bridge": {"name": run_prefix + "n6"},
         "ips": [{"address": host(subnets[4], 1), "prefix": 24,
                  "dhcp": {"range": {"start": host(subnets[4], 10), "end": host(subnets[4], 20)}}}]},
        {"name": broken, "ips": [{"address": "10.231.0.1", "prefix": 24,
                                  "dhcp": {"range": {"start": "10.231.1.1", "end": "10.231.1.9"}}}]},
        {"name": opened, "forward": {"mode": "open"}, "bridge": {"name": run_prefix + "n7"},
         "ips": [{"address": host(subnets[5], 1), "prefix": 24}], "state": "present"},
    ]
    task = {"uri": qemu_uri, "state": "active", "networks": items}

    predicted = run_module("network", task, check_mode=True, diff=True)
    assert predicted.failed and [r["changed"] for r in predicted["results"]] == [True, False, True]
    assert [d["after_header"] for d in predicted["diff"]] == [routed, opened]
    assert not {routed, opened} & set(network_names(conn))

    result = run_module("network", task)
    assert result.failed and "1 of 3 networks failed" in result["msg"]
    assert "%s: networks[1].ips[0].dhcp.range.start" % broken in result["msg"]
    assert [(r["name"], r["failed"], r["changed"]) for r in result["results"]] == [
        (routed, False, True), (broken, True, False), (opened, False, True)]
    assert all("xml" not in r.get("network", {}) for r in result["results"])  # not in a failed task's result
    assert [sorted(r["network"]) for r in result["results"] if "network" in r][0] == [
        "active", "autostart", "bridge", "name", "persistent", "uuid"]
    assert conn.networkLookupByName(routed).isActive()  # task-level state
    assert not conn.networkLookupByName(opened).isActive()  # its own state: present
    assert broken not in network_names(conn)

    stopped = run_module("network", dict(task, stop_on_error=True))
    assert stopped.failed and [r["name"] for r in stopped["results"]] == [routed, broken]
    assert "not attempted: stop_on_error" in stopped["msg"]

    good = dict(task, networks=[items[0], items[2]])
    again = run_module("network", good)
    assert not again.failed and not again.changed and again["restart_required"] == []
    assert "<name>%s</name>" % routed in again["results"][0]["network"]["xml"]  # kept on success
    items[0]["ips"][0]["dhcp"]["range"]["end"] = host(subnets[4], 30)
    changed = run_module("network", good)
    assert changed.changed and changed["restart_required"] == [routed]
    assert changed["results"][0]["changes"] == ["ips[%s].dhcp.ranges" % host(subnets[4], 1)]
    assert not changed["results"][1]["changed"]

    absent = run_module("network", {"uri": qemu_uri, "state": "absent", "networks": [{"name": routed}, {"name": opened}]})
    assert absent.changed and not {routed, opened} & set(network_names(conn))


def test_host_bridge_network(qemu_uri, run_prefix, unique_name, libvirt_connection, cleanup_networks):
    """forward mode bridge puts guests on a bridge of the host; libvirt creates nothing and the bridge stays."""
    conn = libvirt_connection(qemu_uri)
    name, host_bridge = unique_name("lan"), run_prefix + "hb"
    cleanup_networks.append(name)
    subprocess.run(["ip", "link", "add", host_bridge, "type", "bridge"], check=True)
    try:
        params = {"uri": qemu_uri, "name": name, "state": "active", "forward": {"mode": "bridge"},
                  "bridge": {"name": host_bridge}}
        created = run_module("network", params)
        assert created.changed and created["network"]["bridge"] == host_bridge, created
        assert "<forward mode='bridge'/>" in persistent_xml(conn, name) and "<ip" not in persistent_xml(conn, name)
        assert not run_module("network", params).changed
        assert not os.path.exists(os.path.join(PID_DIR, name + ".pid"))  # no dnsmasq
        refused = run_module("network", dict(params, mac="52:54:00:23:05:01"))
        assert refused.failed and refused["option"] == "mac"
        assert run_module("network", {"uri": qemu_uri, "name": name, "state": "absent"}).changed
        assert os.path.exists("/sys/class/net/" + host_bridge)  # the host's bridge is not libvirt's to remove
    finally:
        subprocess.run(["ip", "link", "delete", host_bridge], capture_output=True, check=False)


def test_transient_network_gets_a_definition(qemu_uri, run_prefix, unique_name, libvirt_connection,
                                             cleanup_networks):
    """A network started with `virsh net-create` has no definition; any state but absent gives it one,
    the running network untouched."""
    conn = libvirt_connection(qemu_uri)
    name = unique_name("transient")
    cleanup_networks.append(name)
    conn.networkCreateXML("<network><name>%s</name><bridge name='%s'/></network>" % (name, run_prefix + "n8"))
    bridge_index = ifindex(run_prefix + "n8")
    params = {"uri": qemu_uri, "name": name, "state": "active"}
    predicted = run_module("network", params, check_mode=True)
    assert predicted.changed and predicted["changes"] == ["persistent"] and predicted["network"]["persistent"]
    assert not conn.networkLookupByName(name).isPersistent()
    defined = run_module("network", params)
    assert defined.changed and defined["network"]["persistent"] and defined["network"]["active"], defined
    assert conn.networkLookupByName(name).isPersistent() and ifindex(run_prefix + "n8") == bridge_index
    assert not run_module("network", params).changed


def test_test_driver_network(test_driver_uri, unique_name):
    """The same module on another driver (libvirt's test driver, as on hosts this machine cannot run):
    its XMLDesc has no INACTIVE flag, and its update API takes static hosts live."""
    import libvirt
    name = unique_name("td")
    params = {"uri": test_driver_uri, "name": name, "state": "active", "forward": {"mode": "route"},
              "ips": [{"address": "10.231.250.1", "prefix": 24,
                       "dhcp": {"range": {"start": "10.231.250.10", "end": "10.231.250.20"},
                                "hosts": [{"mac": "52:54:00:23:06:01", "ip": "10.231.250.5"}]}}]}
    try:
        assert run_module("network", params).changed
        assert not run_module("network", params).changed
        params["ips"][0]["dhcp"]["hosts"][0]["ip"] = "10.231.250.6"
        moved = run_module("network", params)
        assert moved.changed and [u["command"] for u in moved["live_updates"]] == ["modify"]
        assert not moved["restart_required"]
        connection = libvirt.open(test_driver_uri)
        try:
            assert "ip='10.231.250.6'" in connection.networkLookupByName(name).XMLDesc(0)
        finally:
            connection.close()
    finally:
        run_module("network", {"uri": test_driver_uri, "name": name, "state": "absent"})
