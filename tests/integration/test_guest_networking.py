"""Every interface kind of libvirt's domain XML format documentation through virt.libvirt.domain, on real
guests of the local daemon: user (SLIRP), network, bridge, ethernet (a tap and a script), server and client (a
TCP tunnel on 127.0.0.1), and mcast (defined and checked, never started: its multicast group would leave the
machine). The running guests' live XML shows each interface as declared.

The guests have no disk and boot from it, so they sit in firmware and send nothing."""
from __future__ import annotations

import os
import socket
import stat
import subprocess

import pytest
from lxml import etree

from tests.support.harness import run_module
from tests.support.source_documents import fix_format_mac_quote, format_interfaces

pytestmark = pytest.mark.integration


def free_tcp_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tcp_states(port):
    """The states of loopback TCP sockets on ``port`` (/proc/net/tcp: 0A listen, 01 established)."""
    states = []
    with open("/proc/net/tcp") as stream:
        for line in stream.readlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if local.endswith(":%04X" % port) or remote.endswith(":%04X" % port):
                states.append(state)
    return states


def live_interfaces(connection, name):
    document = etree.fromstring(connection.lookupByName(name).XMLDesc(0))
    return {element.find("mac").get("address"): element for element in document.findall("devices/interface")}


def master_of(device):
    return os.path.basename(os.readlink("/sys/class/net/%s/master" % device))


@pytest.fixture
def lab(qemu_uri, run_prefix, unique_name, image_dir):
    """An isolated network without addresses, a host bridge, and an ethernet script; all removed after."""
    network, host_bridge = unique_name("gnet"), run_prefix + "gb"
    created = run_module("network", {"uri": qemu_uri, "name": network, "state": "active",
                                     "bridge": {"name": run_prefix + "g1"}, "forward": {"mode": "none"}})
    assert created.changed and not created.failed, created
    subprocess.run(["ip", "link", "add", host_bridge, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", host_bridge, "up"], check=True)
    script = os.path.join(image_dir, run_prefix + "-ifup.sh")
    marker = os.path.join(image_dir, run_prefix + "-ifup.ran")
    with open(script, "w") as stream:
        # libvirt creates the tap, then runs the script with its name; this one only brings it up.
        stream.write('#!/bin/sh\nip link set "$1" up\necho "$1" >> %s\n' % marker)
    os.chmod(script, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    guests = []
    yield {"network": network, "network_bridge": run_prefix + "g1", "host_bridge": host_bridge, "script": script,
           "marker": marker, "guests": guests}
    for guest in guests:
        run_module("domain", {"uri": qemu_uri, "name": guest, "state": "absent"})
    run_module("network", {"uri": qemu_uri, "name": network, "state": "absent"})
    subprocess.run(["ip", "link", "delete", host_bridge], capture_output=True, check=False)


def guest_options(qemu_uri, kvm_domain_type, name, interfaces, state="running"):
    return {"uri": qemu_uri, "name": name, "type": kvm_domain_type, "memory": "64MiB", "vcpu": 1,
            "os": {"type": "hvm", "boot": ["hd"]}, "interfaces": interfaces, "state": state}


def test_every_interface_kind_on_running_guests(lab, qemu_uri, run_prefix, unique_name, kvm_domain_type,
                                                libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    port = free_tcp_port()
    bridge_tap, ethernet_tap = run_prefix + "gt", run_prefix + "ge"
    server_interfaces = [
        {"type": "user", "mac": "52:54:00:23:10:01", "model": "virtio"},
        {"type": "network", "network": lab["network"], "mac": "52:54:00:23:10:02", "model": "virtio"},
        {"type": "bridge", "bridge": lab["host_bridge"], "target": bridge_tap, "mac": "52:54:00:23:10:03",
         "model": "e1000"},
        {"type": "ethernet", "target": ethernet_tap, "script": lab["script"], "mac": "52:54:00:23:10:04",
         "model": "virtio"},
        {"type": "server", "address": "127.0.0.1", "port": port, "mac": "52:54:00:23:10:05", "model": "virtio"},
    ]
    server = guest_options(qemu_uri, kvm_domain_type, unique_name("srv"), server_interfaces)
    client = guest_options(qemu_uri, kvm_domain_type, unique_name("cli"), [
        {"type": "client", "address": "127.0.0.1", "port": port, "mac": "52:54:00:23:10:06", "model": "virtio"}])
    lab["guests"].extend([server["name"], client["name"]])

    started = run_module("domain", server)
    assert started.changed and started["domain"]["state"] == "running", started
    assert not run_module("domain", server).changed
    live = live_interfaces(conn, server["name"])
    assert sorted(live) == ["52:54:00:23:10:0%d" % n for n in range(1, 6)]

    user = live["52:54:00:23:10:01"]
    assert user.get("type") == "user" and user.find("model").get("type") == "virtio"

    network = live["52:54:00:23:10:02"]
    assert network.get("type") == "network" and network.find("source").get("network") == lab["network"]
    assert network.find("source").get("bridge") == lab["network_bridge"]
    assert master_of(network.find("target").get("dev")) == lab["network_bridge"]

    bridge = live["52:54:00:23:10:03"]
    assert bridge.get("type") == "bridge" and bridge.find("source").get("bridge") == lab["host_bridge"]
    assert bridge.find("target").get("dev") == bridge_tap and bridge.find("model").get("type") == "e1000"
    assert master_of(bridge_tap) == lab["host_bridge"]

    ethernet = live["52:54:00:23:10:04"]
    assert ethernet.get("type") == "ethernet" and ethernet.find("target").get("dev") == ethernet_tap
    assert ethernet.find("script").get("path") == lab["script"]
    with open(lab["marker"]) as stream:
        assert ethernet_tap in stream.read().split()  # libvirt ran the script with the tap's name
    with open("/sys/class/net/%s/operstate" % ethernet_tap) as stream:
        assert stream.read().strip() in ("up", "unknown")  # a tap with a guest behind it reports unknown

    tunnel = live["52:54:00:23:10:05"]
    assert tunnel.get("type") == "server"
    assert (tunnel.find("source").get("address"), tunnel.find("source").get("port")) == ("127.0.0.1", str(port))
    assert "0A" in tcp_states(port)  # QEMU listens for the clients

    connected = run_module("domain", client)
    assert connected.changed and connected["domain"]["state"] == "running", connected
    assert not run_module("domain", client).changed
    (client_interface,) = live_interfaces(conn, client["name"]).values()
    assert client_interface.get("type") == "client"
    assert client_interface.find("source").get("port") == str(port)
    assert "01" in tcp_states(port)  # the client guest is connected to the server guest


def test_mcast_guest_is_defined_not_started(lab, qemu_uri, unique_name, kvm_domain_type, libvirt_connection):
    import libvirt
    conn = libvirt_connection(qemu_uri)
    guest = guest_options(qemu_uri, kvm_domain_type, unique_name("mcast"), [
        {"type": "mcast", "address": "230.0.0.1", "port": 5558, "mac": "52:54:00:23:10:07"}], state="present")
    lab["guests"].append(guest["name"])
    defined = run_module("domain", guest)
    assert defined.changed and defined["domain"]["state"] == "shutoff", defined
    assert not run_module("domain", guest).changed
    document = etree.fromstring(conn.lookupByName(guest["name"]).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    (interface,) = document.findall("devices/interface")
    assert interface.get("type") == "mcast"
    assert (interface.find("source").get("address"), interface.find("source").get("port")) == ("230.0.0.1", "5558")
    refused = run_module("domain", dict(guest, interfaces=[{"type": "mcast", "address": "10.231.0.1", "port": 5558}]))
    assert refused.failed and refused["option"] == "interfaces[0].address" and "not a multicast" in refused["msg"]


def test_format_interface_examples_as_xml(lab, qemu_uri, unique_name, kvm_domain_type, libvirt_connection):
    """Each <interface> example of the format documentation, as written there (its broken MAC quote and multicast MAC
    repaired), defines a guest and a second run changes nothing - including the reserved vnet7 tap name,
    which libvirt drops from a definition."""
    conn = libvirt_connection(qemu_uri)
    examples = format_interfaces()
    assert len(examples) >= 12
    for index, snippet in enumerate(examples):
        snippet = fix_format_mac_quote(snippet).replace('"11:22:33:44:55:66:"', "'52:54:00:23:11:%02x'" % index)
        name = unique_name("doc")
        lab["guests"].append(name)
        document = ("<domain type='%s'><name>%s</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>"
                    "<devices>%s</devices></domain>" % (kvm_domain_type, name, snippet))
        task = {"uri": qemu_uri, "name": name, "xml": document}
        first = run_module("domain", task)
        assert first.changed and not first.failed, (snippet, first)
        again = run_module("domain", task)
        assert not again.changed, (snippet, again["changes"])
        interface = etree.fromstring(conn.lookupByName(name).XMLDesc(0)).find("devices/interface")
        assert interface.get("type") == etree.fromstring(snippet).get("type")
        if "vnet7" in snippet:
            assert interface.find("target") is None


def test_reserved_tap_name_is_refused(qemu_uri, unique_name, kvm_domain_type, libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    name = unique_name("vnet")
    refused = run_module("domain", guest_options(qemu_uri, kvm_domain_type, name, [
        {"type": "user"}, {"type": "ethernet", "target": "vnet7"}], state="present"))
    assert refused.failed and refused["option"] == "interfaces[1].target", refused
    assert "libvirt keeps for the names it generates" in refused["msg"]
    assert name not in [domain.name() for domain in conn.listAllDomains()]


def test_ethernet_script_that_cannot_run(lab, qemu_uri, run_prefix, unique_name, kvm_domain_type):
    """libvirt runs the script when the guest starts; a missing one fails the start with libvirt's words."""
    guest = guest_options(qemu_uri, kvm_domain_type, unique_name("noscript"), [
        {"type": "ethernet", "target": run_prefix + "gx", "script": "/etc/qemu-ifup-mynet"}])
    lab["guests"].append(guest["name"])
    failed = run_module("domain", guest)
    assert failed.failed and "/etc/qemu-ifup-mynet" in failed["libvirt_message"], failed
    assert not os.path.exists("/sys/class/net/" + run_prefix + "gx")
