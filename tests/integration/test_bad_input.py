"""Bad input, refused clearly: every module and role, run as Ansible runs them, against the real daemon.

One table of bad inputs. Each must fail the task with a message naming the option (or role variable), without
a Python traceback, and must leave the existing guests and network it aims at exactly as they were: their
persistent and live XML byte for byte, their power state and autostart flag.
"""
from __future__ import annotations

import collections
import json
import os
import re
import sys
import textwrap

import pytest

from tests.support.harness import run_module, run_playbook
from tests.support.libvirt_api import free_subnets, libvirt_binding
from tests.support.source_documents import format_domains

pytestmark = pytest.mark.integration

FORMAT_XEN_PV = format_domains()[0]

Case = collections.namedtuple("Case", "id form category option build fragment check")

# The categories of bad input the table covers; test_every_category_is_covered holds the table to them.
WRONG_TYPE = "wrong type"
OUT_OF_RANGE = "out-of-range number"
BAD_MAC = "malformed MAC"
BAD_UUID = "malformed UUID"
BAD_IP = "malformed IP"
BAD_MEMORY = "malformed memory"
UNKNOWN_ENUM = "unknown enum value"
CONFLICT = "conflicting options"
DUPLICATE = "duplicate device target"
BAD_NAME = "name with / or control characters"
NOT_WELL_FORMED = "XML not well formed"
WRONG_ROOT = "XML with another root element"
DEAD_URI = "uri that does not answer"
OTHER = "other"

DEAD_SOCKET_URI = "qemu+unix:///system?socket=/nonexistent/sock"


def case(id, form, category, option, build, fragment=None, check=False):
    return Case(id, form, category, option, build, fragment, check)


# -- argument builders: `s` is the Subjects fixture (names and URIs of the existing objects) --------
def kvm(s, **options):
    return dict({"uri": s.qemu_uri, "name": s.kvm}, **options)


def xen(s, **options):
    return dict({"uri": s.test_uri, "name": s.xen}, **options)


def net(s, **options):
    return dict({"uri": s.qemu_uri, "name": s.net}, **options)


def kvm_bulk(s, *items, **options):
    return dict({"uri": s.qemu_uri, "domains": [dict({"name": s.kvm}, **item) for item in items]}, **options)


def net_bulk(s, *items, **options):
    return dict({"uri": s.qemu_uri, "networks": [dict({"name": s.net}, **item) for item in items]}, **options)


def pool(s, **options):
    return dict({"uri": s.qemu_uri, "name": s.pool}, **options)


def volume(s, **options):
    return dict({"uri": s.qemu_uri, "pool": s.pool, "name": s.volume}, **options)


def dhcp_ip(s, **dhcp):
    return [{"address": s.net_ip(1), "prefix": 24, "dhcp": dhcp}]


DOMAIN_CASES = [
    case("domain-vcpu-text", "domain", WRONG_TYPE, "vcpu", lambda s: kvm(s, vcpu="many"), check=True),
    case("domain-os-text", "domain", WRONG_TYPE, "os", lambda s: kvm(s, os="hvm")),
    case("domain-disks-of-text", "domain", WRONG_TYPE, "disks", lambda s: kvm(s, disks=["vda"])),
    case("domain-memory-list", "domain", WRONG_TYPE, "memory", lambda s: kvm(s, memory=[65536])),
    case("domain-autostart-text", "domain", WRONG_TYPE, "autostart", lambda s: kvm(s, autostart="perhaps")),
    case("domain-vcpu-negative", "domain", OUT_OF_RANGE, "vcpu", lambda s: kvm(s, vcpu=-2), "at least 1",
         check=True),
    case("domain-vcpu-zero", "domain", OUT_OF_RANGE, "vcpu", lambda s: kvm(s, vcpu=0)),
    case("domain-vcpu-huge", "domain", OUT_OF_RANGE, "vcpu", lambda s: kvm(s, vcpu=100000)),
    case("domain-graphics-port", "domain", OUT_OF_RANGE, "graphics[0].port",
         lambda s: kvm(s, graphics=[{"type": "vnc", "port": 70000}])),
    case("domain-interface-port", "domain", OUT_OF_RANGE, "interfaces[0].port",
         lambda s: kvm(s, interfaces=[{"type": "server", "address": "127.0.0.1", "port": 0}])),
    case("domain-console-port", "domain", OUT_OF_RANGE, "consoles[0].target_port",
         lambda s: kvm(s, consoles=[{"type": "pty", "target_port": -1}])),
    case("domain-shutdown-timeout", "domain", OUT_OF_RANGE, "shutdown_timeout",
         lambda s: kvm(s, shutdown_timeout=-1)),
    case("domain-memory-unit", "domain", BAD_MEMORY, "memory", lambda s: kvm(s, memory="12XB"), "12XB",
         check=True),
    case("domain-memory-negative", "domain", BAD_MEMORY, "memory", lambda s: kvm(s, memory=-1)),
    case("domain-memory-fraction", "domain", BAD_MEMORY, "memory", lambda s: kvm(s, memory="1.5GiB")),
    case("domain-memory-space", "domain", BAD_MEMORY, "memory", lambda s: kvm(s, memory="2 GB"),
         "write 2GB (GB is 1000^3 bytes) or 2GiB", check=True),
    case("domain-current-memory-space", "domain", BAD_MEMORY, "current_memory",
         lambda s: kvm(s, current_memory="64 MiB"), "write 64MiB"),
    case("domain-memory-huge", "domain", BAD_MEMORY, "memory", lambda s: kvm(s, memory="99999999999EiB")),
    case("domain-current-memory-text", "domain", BAD_MEMORY, "current_memory",
         lambda s: kvm(s, current_memory="lots")),
    case("domain-mac-letters", "domain", BAD_MAC, "interfaces[0].mac",
         lambda s: kvm(s, interfaces=[{"type": "user", "mac": "52:54:00:zz:00:01"}]), check=True),
    case("domain-mac-multicast", "domain", BAD_MAC, "interfaces[0].mac",
         lambda s: kvm(s, interfaces=[{"type": "user", "mac": "01:00:5e:00:00:01"}])),
    case("domain-mac-short", "domain", BAD_MAC, "interfaces[0].mac",
         lambda s: kvm(s, interfaces=[{"type": "user", "mac": "52:54:00:00:01"}])),
    case("domain-uuid-text", "domain", BAD_UUID, "uuid", lambda s: kvm(s, uuid="not-a-uuid"), check=True),
    case("domain-uuid-short", "domain", BAD_UUID, "uuid", lambda s: kvm(s, uuid="4dea22b31d52d8f3")),
    case("domain-interface-ip", "domain", BAD_IP, "interfaces[0].ip",
         lambda s: kvm(s, interfaces=[{"type": "user", "ip": "10.237.0.300"}]), check=True),
    case("domain-mcast-not-multicast", "domain", BAD_IP, "interfaces[0].address",
         lambda s: kvm(s, interfaces=[{"type": "mcast", "address": "10.0.0.1", "port": 5558}])),
    case("domain-client-address", "domain", BAD_IP, "interfaces[0].address",
         lambda s: kvm(s, interfaces=[{"type": "client", "address": "10.0.0.1.1", "port": 5558}])),
    case("domain-type", "domain", UNKNOWN_ENUM, "type", lambda s: kvm(s, type="xen3"), "xen3", check=True),
    case("domain-state", "domain", UNKNOWN_ENUM, "state", lambda s: kvm(s, state="up"), "up"),
    case("domain-os-type", "domain", UNKNOWN_ENUM, "os", lambda s: kvm(s, os={"type": "windows"}), "windows"),
    case("domain-disk-bus", "domain", UNKNOWN_ENUM, "disks", lambda s: kvm(s, disks=[{"target": "vdb", "bus": "nvme0"}]),
         "nvme0"),
    case("domain-interface-type", "domain", UNKNOWN_ENUM, "interfaces",
         lambda s: kvm(s, interfaces=[{"type": "wifi"}]), "wifi"),
    case("domain-on-crash", "domain", UNKNOWN_ENUM, "on_crash", lambda s: kvm(s, on_crash="explode"), "explode"),
    case("domain-boot-device", "domain", UNKNOWN_ENUM, "os", lambda s: kvm(s, os={"boot": ["usb"]}), "usb"),
    case("domain-name-and-domains", "domain", CONFLICT, "name", lambda s: kvm(s, domains=[{"name": s.kvm}]),
         "domains"),
    case("domain-xml-other-name", "domain", CONFLICT, "xml",
         lambda s: kvm(s, xml="<domain type='kvm'><name>other</name><memory>65536</memory></domain>"), "other",
         check=True),
    case("domain-autoport-and-port", "domain", CONFLICT, "graphics[0].autoport",
         lambda s: kvm(s, graphics=[{"type": "vnc", "autoport": True, "port": 5905}])),
    case("domain-uuid-changed", "domain", CONFLICT, "uuid",
         lambda s: kvm(s, uuid="00000000-0000-0000-0000-0000000000b1"), "cannot be changed", check=True),
    case("domain-current-over-memory", "domain", CONFLICT, "current_memory",
         lambda s: kvm(s, memory="64MiB", current_memory="1GiB"), check=True),
    case("domain-absent-with-bad-definition", "domain", BAD_MEMORY, "memory",
         lambda s: kvm(s, state="absent", memory="12XB"), check=True),
    case("domain-absent-xml-other-name", "domain", CONFLICT, "xml",
         lambda s: kvm(s, state="absent", xml="<domain type='kvm'><name>other</name></domain>"), check=True),
    case("domain-network-without-network", "domain", CONFLICT, "interfaces[0].network",
         lambda s: kvm(s, interfaces=[{"type": "network"}])),
    case("domain-vnc-password-long", "domain", OUT_OF_RANGE, "graphics[0].password",
         lambda s: kvm(s, graphics=[{"type": "vnc", "password": "ninechars"}])),
    case("domain-disk-target-twice", "domain", DUPLICATE, "disks",
         lambda s: kvm(s, disks=[{"source": s.image, "target": "vdb"}, {"source": s.image, "target": "vdb"}]),
         "vdb", check=True),
    case("domain-mac-twice", "domain", DUPLICATE, "interfaces",
         lambda s: kvm(s, interfaces=[{"type": "user", "mac": "52:54:00:AA:00:01"},
                                      {"type": "user", "mac": "52-54-00-aa-00-01"}]), "52:54:00:aa:00:01"),
    case("domain-xml-disk-target-twice", "domain", DUPLICATE, "xml",
         lambda s: kvm(s, xml=s.kvm_xml_with("<disk type='file'><source file='/a.img'/><target dev='vdc'/></disk>"
                                             "<disk type='file'><source file='/b.img'/><target dev='vdc'/></disk>")),
         "vdc", check=True),
    case("domain-xml-mac-twice", "domain", DUPLICATE, "xml",
         lambda s: kvm(s, xml=s.kvm_xml_with("<interface type='user'><mac address='52:54:00:aa:00:02'/></interface>"
                                             "<interface type='user'><mac address='52:54:00:AA:00:02'/></interface>")),
         "52:54:00:aa:00:02"),
    case("domain-name-slash", "domain", BAD_NAME, "name", lambda s: kvm(s, name=s.kvm + "/x"), check=True),
    case("domain-name-newline", "domain", BAD_NAME, "name", lambda s: kvm(s, name=s.kvm + "\nx")),
    case("domain-name-nul", "domain", BAD_NAME, "name", lambda s: kvm(s, name=s.kvm + "\x00")),
    case("domain-absent-name-slash", "domain", BAD_NAME, "name", lambda s: kvm(s, name=s.kvm + "/", state="absent")),
    case("domain-disk-source-control", "domain", BAD_NAME, "disks[0].source",
         lambda s: kvm(s, disks=[{"source": "/tmp/x\x01.img", "target": "vdb"}])),
    case("domain-cmdline-nul", "domain", BAD_NAME, "os.cmdline", lambda s: kvm(s, os={"cmdline": "quiet\x00"})),
    case("domain-feature-space", "domain", BAD_NAME, "features", lambda s: kvm(s, features=["pae acpi"])),
    case("domain-disk-target-space", "domain", BAD_NAME, "disks[0].target",
         lambda s: kvm(s, disks=[{"source": s.image, "target": "vd b"}])),
    case("domain-interface-target-generated", "domain", BAD_NAME, "interfaces[0].target",
         lambda s: kvm(s, interfaces=[{"type": "user", "target": "vnet7"}])),
    case("domain-xml-not-well-formed", "domain", NOT_WELL_FORMED, "xml",
         lambda s: kvm(s, xml="<domain type='kvm'><name>%s</name>" % s.kvm), "well-formed", check=True),
    case("domain-xml-entity", "domain", NOT_WELL_FORMED, "xml",
         lambda s: kvm(s, xml="<!DOCTYPE domain [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
                              "<domain type='kvm'><name>%s</name><description>&e;</description></domain>" % s.kvm)),
    case("domain-xml-root", "domain", WRONG_ROOT, "xml",
         lambda s: kvm(s, xml="<network><name>%s</name></network>" % s.kvm), "<network>", check=True),
    case("domain-uri-dead-socket", "domain", DEAD_URI, "uri", lambda s: kvm(s, uri=DEAD_SOCKET_URI), "/nonexistent/sock",
         check=True),
    case("domain-uri-unknown-driver", "domain", DEAD_URI, "uri", lambda s: kvm(s, uri="nosuchdriver:///system")),
    case("domain-unknown-option", "domain", OTHER, "memroy", lambda s: kvm(s, memroy="64MiB")),
    case("domain-disk-without-target", "domain", OTHER, "target", lambda s: kvm(s, disks=[{"source": s.image}]),
         "disks"),
    # Xen-shaped guests, on libvirt's test driver
    case("xen-disk-target-twice", "domain", DUPLICATE, "disks",
         lambda s: xen(s, disks=[{"source": "/u/a.img", "target": "sda1"}, {"source": "/u/b.img", "target": "sda1"}]),
         "sda1", check=True),
    case("xen-mac", "domain", BAD_MAC, "interfaces[0].mac",
         lambda s: xen(s, interfaces=[{"type": "bridge", "bridge": "xenbr0", "mac": "aa:00:00:00:00"}])),
    case("xen-xml-other-name", "domain", CONFLICT, "xml", lambda s: xen(s, xml=FORMAT_XEN_PV), "fc4"),
    case("xen-memory", "domain", BAD_MEMORY, "memory", lambda s: xen(s, memory="12XB")),
    case("xen-os-type", "domain", UNKNOWN_ENUM, "os", lambda s: xen(s, os={"type": "pv"}), "pv"),
    case("xen-bridge-slash", "domain", BAD_NAME, "interfaces[0].bridge",
         lambda s: xen(s, interfaces=[{"type": "bridge", "bridge": "xen/br0"}])),
]

DOMAINS_CASES = [
    case("domains-text", "domains", WRONG_TYPE, "domains", lambda s: {"uri": s.qemu_uri, "domains": "guests"}),
    case("domains-vcpu-text", "domains", WRONG_TYPE, "domains[0]", lambda s: kvm_bulk(s, {"vcpu": "many"}), "vcpu"),
    case("domains-item-not-dict", "domains", WRONG_TYPE, "domains",
         lambda s: {"uri": s.qemu_uri, "domains": [[s.kvm]]}),
    case("domains-vcpu-zero", "domains", OUT_OF_RANGE, "domains[0].vcpu", lambda s: kvm_bulk(s, {"vcpu": 0})),
    case("domains-memory-unit", "domains", BAD_MEMORY, "domains[0].memory", lambda s: kvm_bulk(s, {"memory": "12XB"}),
         check=True),
    case("domains-mac", "domains", BAD_MAC, "domains[0].interfaces[0].mac",
         lambda s: kvm_bulk(s, {"interfaces": [{"type": "user", "mac": "52:54:00:00:00:0g"}]})),
    case("domains-uuid", "domains", BAD_UUID, "domains[0].uuid", lambda s: kvm_bulk(s, {"uuid": "xyz"})),
    case("domains-interface-ip", "domains", BAD_IP, "domains[0].interfaces[0].ip",
         lambda s: kvm_bulk(s, {"interfaces": [{"type": "user", "ip": "fe80::zz"}]})),
    case("domains-on-reboot", "domains", UNKNOWN_ENUM, "domains[0]", lambda s: kvm_bulk(s, {"on_reboot": "explode"}),
         "explode"),
    case("domains-name-twice", "domains", CONFLICT, "domains", lambda s: kvm_bulk(s, {}, {}), "more than once",
         check=True),
    case("domains-unknown-option", "domains", CONFLICT, "domains[0]", lambda s: kvm_bulk(s, {"bogus": 1}),
         "domains[0]: unsupported parameter: bogus. Supported parameters include: "),
    case("domains-memory-space", "domains", BAD_MEMORY, "domains[0].memory", lambda s: kvm_bulk(s, {"memory": "2 GiB"}),
         "write 2GiB"),
    case("domains-absent-bad-definition", "domains", BAD_MEMORY, "domains[0].memory",
         lambda s: kvm_bulk(s, {"memory": "12XB"}, state="absent"), check=True),
    case("domains-disk-target-twice", "domains", DUPLICATE, "domains[0].disks",
         lambda s: kvm_bulk(s, {"disks": [{"source": s.image, "target": "vdb"}, {"source": s.image, "target": "vdb"}]})),
    case("domains-name-slash", "domains", BAD_NAME, "domains[0].name", lambda s: kvm_bulk(s, {"name": "a/b"})),
    case("domains-name-control", "domains", BAD_NAME, "domains[0].name", lambda s: kvm_bulk(s, {"name": "a\tb"})),
    case("domains-xml-not-well-formed", "domains", NOT_WELL_FORMED, "domains[0].xml",
         lambda s: kvm_bulk(s, {"xml": "<domain"})),
    case("domains-xml-root", "domains", WRONG_ROOT, "domains[0].xml",
         lambda s: kvm_bulk(s, {"xml": "<capabilities/>"}), "<capabilities>"),
    case("domains-uri-dead-socket", "domains", DEAD_URI, "uri", lambda s: kvm_bulk(s, {}, uri=DEAD_SOCKET_URI)),
    case("domains-without-name", "domains", OTHER, "domains[0]",
         lambda s: {"uri": s.qemu_uri, "domains": [{"memory": "64MiB"}]}, "name"),
]

NETWORK_CASES = [
    case("network-mtu-text", "network", WRONG_TYPE, "mtu", lambda s: net(s, mtu="big"), check=True),
    case("network-stp-text", "network", WRONG_TYPE, "stp", lambda s: net(s, bridge={"stp": "sometimes"}), "bridge"),
    case("network-ips-text", "network", WRONG_TYPE, "ips", lambda s: net(s, ips=[s.net_ip(1)])),
    case("network-mtu-negative", "network", OUT_OF_RANGE, "mtu", lambda s: net(s, mtu=-1), check=True),
    case("network-mtu-huge", "network", OUT_OF_RANGE, "mtu", lambda s: net(s, mtu=700000)),
    case("network-bridge-delay", "network", OUT_OF_RANGE, "bridge.delay", lambda s: net(s, bridge={"delay": -3})),
    case("network-prefix", "network", OUT_OF_RANGE, "ips[0].prefix",
         lambda s: net(s, ips=[{"address": s.net_ip(1), "prefix": 33}])),
    case("network-bridge-name-long", "network", OUT_OF_RANGE, "bridge.name",
         lambda s: net(s, bridge={"name": "a-far-too-long-name"})),
    case("network-mac-letters", "network", BAD_MAC, "mac", lambda s: net(s, mac="52:54:00:zz:00:01"), check=True),
    case("network-mac-multicast", "network", BAD_MAC, "mac", lambda s: net(s, mac="01:00:5e:00:00:01")),
    case("network-host-mac", "network", BAD_MAC, "ips[0].dhcp.hosts[0].mac",
         lambda s: net(s, ips=dhcp_ip(s, hosts=[{"mac": "52:54:00:37", "ip": s.net_ip(9)}]))),
    case("network-uuid", "network", BAD_UUID, "uuid", lambda s: net(s, uuid="1234-5678"), check=True),
    case("network-address", "network", BAD_IP, "ips[0].address",
         lambda s: net(s, ips=[{"address": s.net_ip(300), "prefix": 24}]), check=True),
    case("network-netmask", "network", BAD_IP, "ips[0].netmask",
         lambda s: net(s, ips=[{"address": s.net_ip(1), "netmask": "255.0.255.0"}])),
    case("network-host-outside-subnet", "network", BAD_IP, "ips[0].dhcp.hosts[0].ip",
         lambda s: net(s, ips=dhcp_ip(s, hosts=[{"mac": "52:54:00:37:00:09", "ip": "10.238.0.9"}])), "outside",
         check=True),
    case("network-range-outside-subnet", "network", BAD_IP, "ips[0].dhcp.range",
         lambda s: net(s, ips=dhcp_ip(s, range={"start": s.net_ip(100), "end": "10.238.0.200"})), "outside"),
    case("network-host-ip-text", "network", BAD_IP, "ips[0].dhcp.hosts[0].ip",
         lambda s: net(s, ips=dhcp_ip(s, hosts=[{"mac": "52:54:00:37:00:09", "ip": "ten"}]))),
    case("network-forward-mode", "network", UNKNOWN_ENUM, "forward", lambda s: net(s, forward={"mode": "tunnel"}),
         "tunnel", check=True),
    case("network-state", "network", UNKNOWN_ENUM, "state", lambda s: net(s, state="up"), "up"),
    case("network-family", "network", UNKNOWN_ENUM, "family",
         lambda s: net(s, ips=[{"address": s.net_ip(1), "prefix": 24, "family": "ipx"}]), "ipx"),
    case("network-prefix-and-netmask", "network", CONFLICT, "ips[0].netmask",
         lambda s: net(s, ips=[{"address": s.net_ip(1), "prefix": 24, "netmask": "255.255.255.0"}])),
    case("network-family-mismatch", "network", CONFLICT, "ips[0].family",
         lambda s: net(s, ips=[{"address": s.net_ip(1), "prefix": 24, "family": "ipv6"}])),
    case("network-xml-other-name", "network", CONFLICT, "xml",
         lambda s: net(s, xml="<network><name>other</name></network>"), "other", check=True),
    case("network-name-and-networks", "network", CONFLICT, "name", lambda s: net(s, networks=[{"name": s.net}]),
         "networks"),
    case("network-isolated-forward-dev", "network", CONFLICT, "forward.dev",
         lambda s: net(s, forward={"mode": "none", "dev": "eth0"})),
    case("network-dhcp-off-with-hosts", "network", CONFLICT, "ips[0].dhcp.enabled",
         lambda s: net(s, ips=dhcp_ip(s, enabled=False, hosts=[{"mac": "52:54:00:37:00:09", "ip": s.net_ip(9)}]))),
    case("network-range-reversed", "network", CONFLICT, "ips[0].dhcp.range",
         lambda s: net(s, ips=dhcp_ip(s, range={"start": s.net_ip(200), "end": s.net_ip(100)}))),
    case("network-absent-bad-definition", "network", BAD_IP, "ips[0].address",
         lambda s: net(s, state="absent", ips=[{"address": s.net_ip(300), "prefix": 24}]), check=True),
    case("network-host-mac-twice", "network", DUPLICATE, "ips[0].dhcp.hosts[1].mac",
         lambda s: net(s, ips=dhcp_ip(s, hosts=[{"mac": "52:54:00:37:00:09", "ip": s.net_ip(9)},
                                                {"mac": "52:54:00:37:00:09", "ip": s.net_ip(10)}])), check=True),
    case("network-host-ip-twice", "network", DUPLICATE, "ips[0].dhcp.hosts[1]",
         lambda s: net(s, ips=dhcp_ip(s, hosts=[{"mac": "52:54:00:37:00:09", "ip": s.net_ip(9)},
                                                {"mac": "52:54:00:37:00:0a", "ip": s.net_ip(9)}]))),
    case("network-address-twice", "network", DUPLICATE, "ips[1].address",
         lambda s: net(s, ips=[{"address": s.net_ip(1), "prefix": 24}, {"address": s.net_ip(1), "prefix": 24}])),
    case("network-name-slash", "network", BAD_NAME, "name", lambda s: net(s, name=s.net + "/x"), check=True),
    case("network-name-newline", "network", BAD_NAME, "name", lambda s: net(s, name=s.net + "\nx")),
    case("network-name-nul", "network", BAD_NAME, "name", lambda s: net(s, name="\x00" + s.net)),
    case("network-bridge-name-slash", "network", BAD_NAME, "bridge.name", lambda s: net(s, bridge={"name": "br/0"})),
    case("network-domain-name", "network", BAD_NAME, "domain", lambda s: net(s, domain="bad domain!")),
    case("network-xml-not-well-formed", "network", NOT_WELL_FORMED, "xml",
         lambda s: net(s, xml="<network><name>%s</name></netwrk>" % s.net), "well-formed", check=True),
    case("network-xml-root", "network", WRONG_ROOT, "xml", lambda s: net(s, xml="<domain><name>x</name></domain>"),
         "<domain>", check=True),
    case("network-uri-dead-socket", "network", DEAD_URI, "uri", lambda s: net(s, uri=DEAD_SOCKET_URI), check=True),
    case("network-without-address", "network", OTHER, "address", lambda s: net(s, ips=[{"prefix": 24}]), "ips"),
]

NETWORKS_CASES = [
    case("networks-text", "networks", WRONG_TYPE, "networks",
         lambda s: {"uri": s.qemu_uri, "networks": [s.net]}),
    case("networks-mtu-text", "networks", WRONG_TYPE, "networks[0]", lambda s: net_bulk(s, {"mtu": "big"}), "mtu"),
    case("networks-prefix", "networks", OUT_OF_RANGE, "networks[0].ips[0].prefix",
         lambda s: net_bulk(s, {"ips": [{"address": s.net_ip(1), "prefix": 0}]})),
    case("networks-mac", "networks", BAD_MAC, "networks[0].mac", lambda s: net_bulk(s, {"mac": "52:54:00"})),
    case("networks-uuid", "networks", BAD_UUID, "networks[0].uuid", lambda s: net_bulk(s, {"uuid": "g" * 32})),
    case("networks-address", "networks", BAD_IP, "networks[0].ips[0].address",
         lambda s: net_bulk(s, {"ips": [{"address": "10.237", "prefix": 24}]}), check=True),
    case("networks-forward-mode", "networks", UNKNOWN_ENUM, "networks[0]",
         lambda s: net_bulk(s, {"forward": {"mode": "tunnel"}}), "tunnel"),
    case("networks-name-twice", "networks", CONFLICT, "networks", lambda s: net_bulk(s, {}, {}), "more than once",
         check=True),
    case("networks-host-mac-twice", "networks", DUPLICATE, "networks[0].ips[0].dhcp.hosts[1].mac",
         lambda s: net_bulk(s, {"ips": dhcp_ip(s, hosts=[{"mac": "52:54:00:37:00:09", "ip": s.net_ip(9)},
                                                         {"mac": "52:54:00:37:00:09", "ip": s.net_ip(10)}])})),
    case("networks-name-newline", "networks", BAD_NAME, "networks[0].name",
         lambda s: net_bulk(s, {"name": "a\nb"})),
    case("networks-xml-root", "networks", WRONG_ROOT, "networks[0].xml",
         lambda s: net_bulk(s, {"xml": "<domain/>"})),
    case("networks-xml-not-well-formed", "networks", NOT_WELL_FORMED, "networks[0].xml",
         lambda s: net_bulk(s, {"xml": "<network><name>x</name>"})),
    case("networks-uri-dead-socket", "networks", DEAD_URI, "uri", lambda s: net_bulk(s, {}, uri=DEAD_SOCKET_URI)),
    case("networks-unknown-option", "networks", OTHER, "networks[0]", lambda s: net_bulk(s, {"mtuu": 1500}),
         "networks[0]: unsupported parameter: mtuu. Supported parameters include: "),
]

CAPABILITIES_CASES = [
    case("capabilities-read-only-text", "capabilities_facts", WRONG_TYPE, "read_only",
         lambda s: {"uri": s.qemu_uri, "read_only": "maybe"}),
    case("capabilities-domain-capabilities-text", "capabilities_facts", WRONG_TYPE, "domain_capabilities",
         lambda s: {"uri": s.qemu_uri, "domain_capabilities": "x86_64"}, check=True),
    case("capabilities-virttype", "capabilities_facts", UNKNOWN_ENUM, "virttype",
         lambda s: {"uri": s.qemu_uri, "domain_capabilities": {"virttype": "hyperkit"}}, "hyperkit"),
    case("capabilities-arch", "capabilities_facts", UNKNOWN_ENUM, "domain_capabilities",
         lambda s: {"uri": s.qemu_uri, "domain_capabilities": {"arch": "sparc128"}}, "sparc128"),
    case("capabilities-machine", "capabilities_facts", UNKNOWN_ENUM, "domain_capabilities",
         lambda s: {"uri": s.qemu_uri, "domain_capabilities": {"arch": "x86_64", "machine": "nosuchmachine"}}),
    case("capabilities-read-only-and-domain-capabilities", "capabilities_facts", CONFLICT, "read_only",
         lambda s: {"uri": s.qemu_uri, "read_only": True, "domain_capabilities": {}}, "domain_capabilities"),
    case("capabilities-arch-slash", "capabilities_facts", BAD_NAME, "domain_capabilities.arch",
         lambda s: {"uri": s.qemu_uri, "domain_capabilities": {"arch": "x86/64"}}),
    case("capabilities-uri-dead-socket", "capabilities_facts", DEAD_URI, "uri",
         lambda s: {"uri": DEAD_SOCKET_URI}, "/nonexistent/sock", check=True),
    case("capabilities-unknown-option", "capabilities_facts", OTHER, "bogus",
         lambda s: {"uri": s.qemu_uri, "bogus": 1}),
]

XENPV_CASES = [
    case("xenpv-arch-text", "xenpv_drivers", WRONG_TYPE, "arch", lambda s: {"guests": [{"os": "xp-sp3", "arch": "sixty"}]},
         "guests"),
    case("xenpv-guests-text", "xenpv_drivers", WRONG_TYPE, "guests", lambda s: {"guests": "xp-sp3"}),
    case("xenpv-arch", "xenpv_drivers", OUT_OF_RANGE, "arch", lambda s: {"guests": [{"os": "xp-sp3", "arch": 48}]},
         "guests", check=True),
    case("xenpv-free-space", "xenpv_drivers", OUT_OF_RANGE, "guests[0].free_space_mb",
         lambda s: {"guests": [{"os": "xp-sp3", "free_space_mb": -5}]}),
    case("xenpv-os", "xenpv_drivers", UNKNOWN_ENUM, "guests[0].os", lambda s: {"guests": [{"os": "Ubuntu 22.04"}]},
         check=True),
    case("xenpv-os-arch-disagree", "xenpv_drivers", CONFLICT, "guests[0]",
         lambda s: {"guests": [{"os": "xp-sp3", "arch": 64}]}, "declared 64-bit"),
    case("xenpv-package-name", "xenpv_drivers", BAD_NAME, "package_names.xenpv-win-32bit",
         lambda s: {"package_names": {"xenpv-win-32bit": "bad name;rm"}}),
    case("xenpv-package-unknown", "xenpv_drivers", UNKNOWN_ENUM, "package_names",
         lambda s: {"package_names": {"xenpv-win-128bit": "x"}}),
    case("xenpv-package-twice", "xenpv_drivers", DUPLICATE, "package_names",
         lambda s: {"package_names": {"xenpv-win-32bit": "same", "xenpv-win-64bit": "same"}}),
    case("xenpv-guest-name-slash", "xenpv_drivers", BAD_NAME, "guests[0].name",
         lambda s: {"uri": s.test_uri, "guests": [{"name": s.xen + "/x", "os": "xp-sp3"}]}),
    case("xenpv-installroot", "xenpv_drivers", OTHER, "installroot", lambda s: {"installroot": "/nonexistent/root"}),
    case("xenpv-uri-dead-socket", "xenpv_drivers", DEAD_URI, "uri",
         lambda s: {"uri": DEAD_SOCKET_URI, "guests": [{"name": s.xen, "os": "xp-sp3"}]}, check=True),
    case("xenpv-without-os", "xenpv_drivers", OTHER, "os", lambda s: {"guests": [{"arch": 32}]}, "guests"),
]

POOL_CASES = [
    case("pool-target-text", "pool", WRONG_TYPE, "target", lambda s: pool(s, target="/srv/x"), check=True),
    case("pool-build-text", "pool", WRONG_TYPE, "build", lambda s: pool(s, build="sometimes")),
    case("pool-port", "pool", OUT_OF_RANGE, "source.port",
         lambda s: pool(s, source={"host": "nfs.example.test", "port": 70000})),
    case("pool-mode", "pool", OUT_OF_RANGE, "target.permissions.mode",
         lambda s: pool(s, target={"path": s.pool_path, "permissions": {"mode": "0999"}}), "octal", check=True),
    case("pool-uuid", "pool", BAD_UUID, "uuid", lambda s: pool(s, uuid="nope")),
    case("pool-type", "pool", UNKNOWN_ENUM, "type", lambda s: pool(s, type="nfs"), "nfs", check=True),
    case("pool-state", "pool", UNKNOWN_ENUM, "state", lambda s: pool(s, state="running")),
    case("pool-type-changed", "pool", CONFLICT, "type", lambda s: pool(s, type="netfs"), "cannot be changed",
         check=True),
    case("pool-overwrite-without-build", "pool", CONFLICT, "overwrite", lambda s: pool(s, overwrite=True)),
    case("pool-delete-not-empty", "pool", CONFLICT, "force", lambda s: pool(s, state="absent", delete=True),
         "holds 1 volume", check=True),
    case("pool-new-without-type", "pool", OTHER, "type", lambda s: pool(s, name=s.pool + "-new")),
    case("pool-dir-relative", "pool", OTHER, "target.path",
         lambda s: pool(s, name=s.pool + "-new", type="dir", target={"path": "images"}), "absolute"),
    case("pool-name-slash", "pool", BAD_NAME, "name", lambda s: pool(s, name="a/b")),
    case("pool-xml-not-well-formed", "pool", NOT_WELL_FORMED, "xml", lambda s: pool(s, xml="<pool type='dir'>"),
         "well-formed", check=True),
    case("pool-xml-other-root", "pool", WRONG_ROOT, "xml", lambda s: pool(s, xml="<volume/>"), "<pool>"),
    case("pool-uri-dead-socket", "pool", DEAD_URI, "uri", lambda s: pool(s, uri=DEAD_SOCKET_URI), check=True),
    case("pools-item-text", "pools", WRONG_TYPE, "pools", lambda s: {"uri": s.qemu_uri, "pools": [s.pool]}),
    case("pools-name-twice", "pools", DUPLICATE, "pools",
         lambda s: {"uri": s.qemu_uri, "pools": [{"name": s.pool}, {"name": s.pool}]}, check=True),
    case("pools-type", "pools", UNKNOWN_ENUM, "pools[0]",
         lambda s: {"uri": s.qemu_uri, "pools": [{"name": s.pool, "type": "floppy"}]}, "floppy"),
]

VOLUME_CASES = [
    case("volume-capacity-list", "volume", WRONG_TYPE, "capacity", lambda s: volume(s, capacity=[1])),
    case("volume-backing-text", "volume", WRONG_TYPE, "backing", lambda s: volume(s, backing="base.qcow2")),
    case("volume-capacity-unit", "volume", BAD_MEMORY, "capacity", lambda s: volume(s, capacity="12XB"), "12XB",
         check=True),
    case("volume-capacity-huge", "volume", BAD_MEMORY, "capacity", lambda s: volume(s, capacity="99999999EiB")),
    case("volume-shrink", "volume", OUT_OF_RANGE, "capacity", lambda s: volume(s, capacity="1MiB"), "never shrunk",
         check=True),
    case("volume-owner-negative", "volume", OUT_OF_RANGE, "permissions.owner",
         lambda s: volume(s, permissions={"owner": -5})),
    case("volume-format", "volume", UNKNOWN_ENUM, "format", lambda s: volume(s, format="qcow3"), "qcow3"),
    case("volume-format-changed", "volume", CONFLICT, "format", lambda s: volume(s, format="raw"), "cannot convert",
         check=True),
    case("volume-backing-and-clone", "volume", CONFLICT, "clone",
         lambda s: volume(s, backing={"path": "/a.qcow2"}, clone={"volume": "b"}), "backing"),
    case("volume-backing-volume-and-path", "volume", CONFLICT, "backing",
         lambda s: volume(s, backing={"volume": "a", "path": "/a.qcow2"})),
    case("volume-seed-with-capacity", "volume", CONFLICT, "capacity",
         lambda s: volume(s, name="cidata.iso", cloud_init={"user_data": "#cloud-config\n"}, capacity="1MiB")),
    case("volume-in-use", "volume", CONFLICT, "force", lambda s: volume(s, state="absent"), "disk vdb",
         check=True),
    case("volume-new-without-capacity", "volume", OTHER, "capacity", lambda s: volume(s, name="new.img"),
         check=True),
    case("volume-upload-missing", "volume", OTHER, "upload",
         lambda s: volume(s, name="new.img", upload="/nonexistent/base.qcow2")),
    case("volume-backing-missing", "volume", OTHER, "backing.volume",
         lambda s: volume(s, name="new.qcow2", backing={"volume": "nothing.qcow2"}), "nothing.qcow2"),
    case("volume-pool-missing", "volume", OTHER, "pool", lambda s: volume(s, pool=s.pool + "-none"),
         "does not exist"),
    case("volume-without-pool", "volume", OTHER, "pool", lambda s: {"uri": s.qemu_uri, "name": s.volume}),
    case("volume-name-slash", "volume", BAD_NAME, "name", lambda s: volume(s, name="../escape.img")),
    case("volume-xml-not-well-formed", "volume", NOT_WELL_FORMED, "xml",
         lambda s: volume(s, name="new.img", xml="<volume><name>new.img</name>")),
    case("volume-xml-other-root", "volume", WRONG_ROOT, "xml", lambda s: volume(s, name="new.img", xml="<pool/>"),
         "<volume>"),
    case("volume-uri-dead-socket", "volume", DEAD_URI, "uri", lambda s: volume(s, uri=DEAD_SOCKET_URI)),
    case("volumes-capacity", "volumes", BAD_MEMORY, "volumes[0].capacity",
         lambda s: {"uri": s.qemu_uri, "pool": s.pool, "volumes": [{"name": s.volume, "capacity": "lots"}]},
         check=True),
    case("volumes-name-twice", "volumes", DUPLICATE, "volumes",
         lambda s: {"uri": s.qemu_uri, "pool": s.pool, "volumes": [{"name": s.volume}, {"name": s.volume}]}),
    case("volumes-item-text", "volumes", WRONG_TYPE, "volumes",
         lambda s: {"uri": s.qemu_uri, "pool": s.pool, "volumes": ["x.img"]}),
    case("domain-disk-volume-missing", "domain", OTHER, "disks[1].volume",
         lambda s: kvm(s, disks=[{"source": s.image, "target": "vda"},
                                 {"volume": "nothing.qcow2", "pool": s.pool, "target": "vdc"}]), "nothing.qcow2"),
    case("domain-disk-volume-without-pool", "domain", CONFLICT, "disks[0].pool",
         lambda s: kvm(s, disks=[{"volume": s.volume, "target": "vdc"}])),
    case("domain-disk-volume-and-source", "domain", CONFLICT, "disks[0].source",
         lambda s: kvm(s, disks=[{"volume": s.volume, "pool": s.pool, "source": s.image, "target": "vdc"}])),
]

MODULE_CASES = (DOMAIN_CASES + DOMAINS_CASES + NETWORK_CASES + NETWORKS_CASES + CAPABILITIES_CASES + XENPV_CASES
                + POOL_CASES + VOLUME_CASES)
BULK_FORMS = ("domains", "networks", "pools", "volumes")

# xenpv_drivers runs through its action plugin in a play, which reads a host that cannot run the module with
# commands: the option that chooses, and what only that way refuses (test_bad_input_through_the_action_plugin).
ACTION_CASES = [
    case("xenpv-gather", "xenpv_drivers", UNKNOWN_ENUM, "gather", lambda s: {"gather": "sometimes"}, "sometimes"),
    case("xenpv-raw-release-file-relative", "xenpv_drivers", OTHER, "release_file",
         lambda s: {"gather": "raw", "release_file": "etc/redhat-release"}, "absolute path"),
    case("xenpv-raw-installroot-home", "xenpv_drivers", OTHER, "installroot",
         lambda s: {"gather": "raw", "installroot": "~/rpmroot"}, "absolute path"),
    case("xenpv-raw-uri-password", "xenpv_drivers", CONFLICT, "uri",
         lambda s: {"gather": "raw", "uri": "test+tcp://admin:Pw9vltsecret@127.0.0.1:1/default",
                    "guests": [{"name": s.xen, "os": "xp-sp3"}]}, "password"),
]

# Roles: bad variables are refused by meta/argument_specs.yml before any task runs.
ROLE_CASES = [
    case("libvirt_host-hypervisor", "libvirt_host", UNKNOWN_ENUM, "libvirt_host_hypervisor",
         lambda s: {"libvirt_host_hypervisor": "vmware"}, "vmware"),
    case("libvirt_host-service-manager", "libvirt_host", UNKNOWN_ENUM, "libvirt_host_service_manager",
         lambda s: {"libvirt_host_service_manager": "upstart"}, "upstart"),
    case("libvirt_host-wait-timeout-text", "libvirt_host", WRONG_TYPE, "libvirt_host_wait_timeout",
         lambda s: {"libvirt_host_wait_timeout": "soon"}),
    case("libvirt_host-extra-packages-dict", "libvirt_host", WRONG_TYPE, "libvirt_host_extra_packages",
         lambda s: {"libvirt_host_extra_packages": {"qemu-utils": True}}),
    case("libvirt_host-wait-timeout-negative", "libvirt_host", OUT_OF_RANGE, "libvirt_host_wait_timeout",
         lambda s: {"libvirt_host_wait_timeout": -5}, "1 second or more"),
    case("libvirt_host-python-bindings-text", "libvirt_host", WRONG_TYPE, "libvirt_host_python_bindings",
         lambda s: {"libvirt_host_python_bindings": "perhaps"}),
    case("xenpv_win-state", "xenpv_win", UNKNOWN_ENUM, "xenpv_win_state", lambda s: {"xenpv_win_state": "installed"},
         "installed"),
    case("xenpv_win-package-manager", "xenpv_win", UNKNOWN_ENUM, "xenpv_win_package_manager",
         lambda s: {"xenpv_win_package_manager": "apt"}),
    case("xenpv_win-guest-arch", "xenpv_win", OUT_OF_RANGE, "arch",
         lambda s: {"xenpv_win_guests": [{"os": "xp-sp3", "arch": 48}]}, "xenpv_win_guests"),
    case("xenpv_win-guest-without-os", "xenpv_win", OTHER, "os", lambda s: {"xenpv_win_guests": [{"arch": 32}]},
         "xenpv_win_guests"),
    case("xenpv_win-guests-text", "xenpv_win", WRONG_TYPE, "xenpv_win_guests",
         lambda s: {"xenpv_win_guests": "xp-sp3"}),
    case("xenpv_win-media-key", "xenpv_win", OUT_OF_RANGE, "xenpv_win_media",
         lambda s: {"xenpv_win_media": {"48": "/srv/drivers.iso"}}, "keys 32 and 64"),
    case("xenpv_win-debug-text", "xenpv_win", WRONG_TYPE, "xenpv_win_debug", lambda s: {"xenpv_win_debug": "maybe"}),
]

ALL_CASES = MODULE_CASES + ROLE_CASES


# -- the existing objects every case aims at -----------------------------------------------------


class Subjects:
    """The running KVM guest, the Xen PV guest (test driver), the active network, and the storage pool with
    the volume (a disk of the KVM guest) the cases aim at."""

    def __init__(self, qemu_uri, test_uri, prefix, image, subnet):
        self.qemu_uri, self.test_uri = qemu_uri, test_uri
        self.kvm, self.xen, self.net = prefix + "-badin-kvm", prefix + "-badin-xen", prefix + "-badin-net"
        self.pool, self.volume = prefix + "-badin-pool", "badin.qcow2"
        self.pool_path = os.path.join(os.path.dirname(image), self.pool)
        self.bridge = prefix + "bi"
        self.image = image
        self.subnet = subnet
        self.definitions = []  # (module, args) that made each object, to remake one a failed case removed

    def net_ip(self, number):
        """The address ``number`` of the network's /24 (numbers above 255 make a malformed address)."""
        return "%s.%d" % (str(self.subnet.network_address).rsplit(".", 1)[0], number)

    def kvm_xml_with(self, devices):
        """The KVM guest's own definition with ``devices`` added to <devices>."""
        libvirt = libvirt_binding()
        connection = libvirt.open(self.qemu_uri)
        try:
            own = connection.lookupByName(self.kvm).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        finally:
            connection.close()
        return own.replace("</devices>", devices + "</devices>", 1)

    def remake_missing(self):
        """Define again what an earlier failing case removed, so that one failure does not hide the next."""
        libvirt = libvirt_binding()
        for module, args in self.definitions:
            connection = libvirt.open(args["uri"])
            try:
                lookup = {"network": connection.networkLookupByName, "pool": connection.storagePoolLookupByName,
                          "volume": lambda name: connection.storagePoolLookupByName(args["pool"])
                          .storageVolLookupByName(name)}.get(module, connection.lookupByName)
                lookup(args["name"])
                continue
            except libvirt.libvirtError:
                pass
            finally:
                connection.close()
            assert not run_module(module, args).failed

    def snapshot(self):
        """Everything a bad input must leave as it was."""
        libvirt = libvirt_binding()
        state = {}
        for uri, names in ((self.qemu_uri, (self.kvm,)), (self.test_uri, (self.xen,))):
            connection = libvirt.open(uri)
            try:
                for name in names:
                    domain = connection.lookupByName(name)
                    state[name] = (
                        domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE),
                        domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE), domain.state()[0], domain.autostart(),
                        domain.isPersistent())
                if uri == self.qemu_uri:
                    network = connection.networkLookupByName(self.net)
                    state[self.net] = (network.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE), network.XMLDesc(0),
                                       network.isActive(), network.autostart(), network.isPersistent())
                    pool = connection.storagePoolLookupByName(self.pool)
                    # Sizes and timestamps are the file system's state, which other work on the host moves.
                    state[self.pool] = (_without_state(pool.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE)),
                                        pool.isActive(), pool.autostart(), pool.isPersistent(),
                                        sorted(pool.listVolumes()))
                    volume = pool.storageVolLookupByName(self.volume)
                    state[self.volume] = (_without_state(volume.XMLDesc(0)), volume.info())
            finally:
                connection.close()
        return state


def _without_state(xml):
    """A pool's or volume's document without what the file system and libvirt's reading of it move: free
    space, timestamps, and the qcow2 cluster size libvirt reports once a refresh (a read) has read the header."""
    xml = re.sub(r"<(available|allocation|clusterSize)[^>]*>\d+</\1>", "", xml)
    xml = re.sub(r"<timestamps>.*?</timestamps>", "", xml, flags=re.S)
    return re.sub(r"\n\s*(?=\n)", "", xml)


@pytest.fixture(scope="module")
def subjects(qemu_uri, test_driver_uri, run_prefix, kvm_domain_type, image_dir):
    image = os.path.join(image_dir, run_prefix + "-badin.img")
    with open(image, "wb") as stream:
        stream.truncate(8 * 1024 * 1024)
    s = Subjects(qemu_uri, test_driver_uri, run_prefix, image, free_subnets(qemu_uri, "10.237", 1)[0])
    made = [
        ("pool", {"uri": qemu_uri, "name": s.pool, "type": "dir", "target": {"path": s.pool_path}, "build": True,
                  "state": "active"}),
        ("volume", {"uri": qemu_uri, "pool": s.pool, "name": s.volume, "format": "qcow2", "capacity": "8MiB"}),
        ("network", {"uri": qemu_uri, "name": s.net, "state": "active", "bridge": {"name": s.bridge},
                     "ips": dhcp_ip(s, range={"start": s.net_ip(100), "end": s.net_ip(200)},
                                    hosts=[{"mac": "52:54:00:37:00:05", "ip": s.net_ip(5)}])}),
        ("domain", {"uri": qemu_uri, "name": s.kvm, "type": kvm_domain_type, "memory": "64MiB", "vcpu": 1,
                    "os": {"type": "hvm", "boot": ["hd"]}, "state": "running",
                    "disks": [{"type": "file", "device": "disk", "source": image, "target": "vda", "bus": "virtio",
                               "driver_name": "qemu", "driver_type": "raw"},
                              {"volume": s.volume, "pool": s.pool, "target": "vdb", "bus": "virtio"}],
                    "interfaces": [{"type": "network", "network": s.net, "mac": "52:54:00:37:00:05"}],
                    "graphics": [{"type": "vnc", "port": -1, "listen": "127.0.0.1", "password": "s3cret"}]}),
        ("domain", {"uri": test_driver_uri, "name": s.xen, "state": "running",
                    "xml": FORMAT_XEN_PV.replace("<name>fc4</name>", "<name>%s</name>" % s.xen)}),
    ]
    s.definitions = made
    try:
        for module, args in made:
            result = run_module(module, args)
            assert result.changed and not result.failed, result.get("msg")
        yield s
    finally:
        for module, args in reversed(made):
            extra = {"pool": {"delete": True, "force": True}, "volume": {"pool": s.pool}}.get(module, {})
            run_module(module, dict({"uri": args["uri"], "name": args["name"], "state": "absent"}, **extra))
        os.unlink(image)


# -- the assertions --------------------------------------------------------------------------------
def assert_refused(result, case, where=""):
    """Failed, naming the option (and the case's fragment), without a traceback, changing nothing."""
    label = "%s%s: %r" % (case.id, where, dict(result))
    message = result.get("msg") or ""
    assert result.get("failed") is True, label
    assert not result.get("changed"), label
    assert case.option in message, label
    if case.fragment:
        assert case.fragment in message, label
    texts = [message, result.get("_stderr", ""), result.get("stdout", ""), result.get("stderr", ""),
             json.dumps(result.get("results", ""))]
    assert not any("Traceback" in text for text in texts), label
    assert "exception" not in result, label
    assert "module_stderr" not in result, label  # Ansible's word for a module that crashed


@pytest.mark.parametrize("case", MODULE_CASES, ids=[c.id for c in MODULE_CASES])
def test_bad_module_input_is_refused_and_changes_nothing(case, subjects):
    module = case.form[:-1] if case.form in BULK_FORMS else case.form
    args = case.build(subjects)
    subjects.remake_missing()
    before = subjects.snapshot()
    result = run_module(module, args)
    assert_refused(result, case)
    assert result["_rc"] == 1, case.id
    assert subjects.snapshot() == before, case.id
    if case.check:
        predicted = run_module(module, args, check_mode=True, diff=True)
        assert_refused(predicted, case, " (check mode)")
        assert "diff" not in predicted, case.id
        assert subjects.snapshot() == before, case.id


PLAYBOOK_CASES = ["domain-memory-unit", "domain-name-newline", "domain-xml-not-well-formed", "domains-name-twice",
                  "network-host-outside-subnet", "networks-address", "capabilities-uri-dead-socket", "xenpv-arch"]


def test_bad_input_in_a_real_playbook(subjects, tmp_path):
    """A few cases through ansible-playbook: the task fails with the same clear message, the play goes on."""
    by_id = {c.id: c for c in MODULE_CASES}
    tasks = []
    for case_id in PLAYBOOK_CASES:
        bad = by_id[case_id]
        module = bad.form[:-1] if bad.form in BULK_FORMS else bad.form
        tasks.append({"name": case_id, "virt.libvirt.%s" % module: bad.build(subjects), "ignore_errors": True})
    playbook = tmp_path / "bad_input.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    before = subjects.snapshot()
    for check in (False, True):
        run = run_playbook(playbook, check=check, diff=check)
        assert run.returncode == 0, run.stdout[-3000:]  # every failure ignored: the play ran to its end
        assert "Traceback" not in run.stdout + run.stderr
        for case_id in PLAYBOOK_CASES:
            record = [r for r in run.records if r["task"] == case_id][-1]
            assert record["status"] == "failed", record  # the callback's copy of a result drops "failed"
            assert_refused(dict(record["result"], failed=True), by_id[case_id], " (playbook, check=%s)" % check)
        assert subjects.snapshot() == before


def test_bad_role_variables_are_refused(subjects, tmp_path):
    """Each role refuses its bad variables, naming them, before any of its tasks runs.

    ``--tags`` with a tag no task has makes sure nothing but the argument validation (tagged always) could
    run, should a case ever pass it: the roles would install packages and start daemons.
    """
    tasks = []
    for index, bad in enumerate(ROLE_CASES):
        tasks.append({
            "name": bad.id, "tags": ["always"],
            "block": [
                {"name": "include " + bad.id, "ansible.builtin.include_role": {"name": "virt.libvirt." + bad.form},
                 "vars": bad.build(subjects)},
                {"name": "passed " + bad.id, "ansible.builtin.set_fact": {"outcomes": "{{ outcomes | combine({%r: 'passed'}) }}" % bad.id}},
            ],
            "rescue": [{"name": "refused " + bad.id, "ansible.builtin.set_fact": {
                "outcomes": "{{ outcomes | combine({%r: ansible_failed_result}) }}" % bad.id}}],
        })
    tasks.append({"name": "report", "tags": ["always"], "ansible.builtin.debug": {"var": "outcomes"}})
    playbook = tmp_path / "bad_roles.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": {"outcomes": {}},
                                     "tasks": tasks}]))
    before = subjects.snapshot()
    for check in (False, True):
        run = run_playbook(playbook, check=check, args=("--tags", "bad-input-nothing-else"))
        assert run.returncode == 0, run.stdout[-3000:]
        assert "Traceback" not in run.stdout + run.stderr
        outcomes = run.task("report")["outcomes"]
        for bad in ROLE_CASES:
            outcome = outcomes[bad.id]
            assert isinstance(outcome, dict), (bad.id, outcome)
            # refused by argument_specs, or by the role's own range checks (assert) that run next
            assert outcome.get("argument_errors") or outcome.get("argument_spec_data") \
                or outcome.get("assertion"), (bad.id, outcome)
            assert_refused(outcome, bad, " (role, check=%s)" % check)
        assert subjects.snapshot() == before


def test_bad_input_through_the_action_plugin(subjects, tmp_path):
    """Every xenpv_drivers case as a play's task, on a host with Python 3 (the action plugin runs the module) and
    on one whose interpreter does not exist (the plugin reads the host with commands and applies the rules on the
    controller): refused the same way, naming the option, normally and in check mode, changing nothing."""
    cases = XENPV_CASES + ACTION_CASES
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {
        "python3": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "nopython": {"ansible_connection": "local", "ansible_python_interpreter": "/nonexistent/bin/python"}}}}))
    tasks = [{"name": bad.id, "virt.libvirt.xenpv_drivers": bad.build(subjects), "ignore_errors": True}
             for bad in cases]
    playbook = tmp_path / "bad_xenpv.yml"
    playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": tasks}]))
    before = subjects.snapshot()
    for check in (False, True):
        run = run_playbook(playbook, inventory=str(inventory), check=check)
        assert run.returncode == 0, run.stdout[-3000:]
        assert "Traceback" not in run.stdout + run.stderr and "Pw9vltsecret" not in run.stdout + json.dumps(run.records)
        for bad in cases:
            for host in ("python3", "nopython"):
                record = [r for r in run.records if r["task"] == bad.id and r["host"] == host][-1]
                assert record["status"] == "failed", record
                assert_refused(dict(record["result"], failed=True), bad, " (%s, check=%s)" % (host, check))
        assert subjects.snapshot() == before


def test_absent_with_a_valid_definition_still_removes(test_driver_uri, qemu_uri, run_prefix):
    """state: absent checks the definition that comes with it, and with a valid one removes as before (the
    decommission playbook sets state: absent on the inventory's full declarations)."""
    guest = {"uri": test_driver_uri, "name": run_prefix + "-badin-gone", "memory": "64MiB", "type": "xen",
             "os": {"type": "hvm"}, "autostart": True, "interfaces": [{"type": "bridge", "bridge": "xenbr0"}]}
    network = {"uri": qemu_uri, "name": run_prefix + "-badin-gone", "bridge": {"name": run_prefix + "bg"}}
    for module, args in (("domain", guest), ("network", network)):
        assert run_module(module, args).changed
        refused = run_module(module, dict(args, state="absent", mtu=-1) if module == "network"
                             else dict(args, state="absent", vcpu=0))
        assert refused.failed and ("mtu" in refused["msg"] or "vcpu" in refused["msg"]), refused
        removed = run_module(module, dict(args, state="absent"))
        assert removed.changed and not removed.failed, removed
        assert not run_module(module, dict(args, state="absent")).changed


def test_every_category_is_covered():
    """The table holds 40+ cases over every module, form and role, in every category."""
    assert len(ALL_CASES) >= 50 and len({c.id for c in ALL_CASES}) == len(ALL_CASES)
    forms = collections.defaultdict(set)
    for bad in ALL_CASES:
        forms[bad.form].add(bad.category)
    assert set(forms) == {"domain", "domains", "network", "networks", "capabilities_facts", "xenpv_drivers",
                          "libvirt_host", "xenpv_win", "pool", "pools", "volume", "volumes"}
    every = {WRONG_TYPE, OUT_OF_RANGE, BAD_MAC, BAD_UUID, BAD_IP, BAD_MEMORY, UNKNOWN_ENUM, CONFLICT, DUPLICATE,
             BAD_NAME, NOT_WELL_FORMED, WRONG_ROOT, DEAD_URI}
    assert every <= forms["domain"], every - forms["domain"]
    assert every - {BAD_MEMORY} <= forms["network"], every - forms["network"]
    assert {WRONG_TYPE, UNKNOWN_ENUM, CONFLICT, DEAD_URI} <= forms["capabilities_facts"]
    assert {WRONG_TYPE, OUT_OF_RANGE, UNKNOWN_ENUM, CONFLICT, DEAD_URI} <= forms["xenpv_drivers"]
    assert {WRONG_TYPE, UNKNOWN_ENUM} <= forms["libvirt_host"] and {WRONG_TYPE, UNKNOWN_ENUM} <= forms["xenpv_win"]
    storage = {WRONG_TYPE, OUT_OF_RANGE, UNKNOWN_ENUM, CONFLICT, BAD_NAME, NOT_WELL_FORMED, WRONG_ROOT, DEAD_URI}
    assert storage | {BAD_UUID} <= forms["pool"] and storage | {BAD_MEMORY} <= forms["volume"]
    assert [c for c in ALL_CASES if c.check]


if __name__ == "__main__":  # the summary docs/reliability.md quotes: python -m tests.integration.test_bad_input
    counts = collections.Counter(c.category for c in ALL_CASES)
    print("%d bad inputs" % len(ALL_CASES))
    for form, total in collections.Counter(c.form for c in ALL_CASES).most_common():
        print("  %-20s %d" % (form, total))
    for category, total in counts.most_common():
        print("  %-36s %d" % (category, total))
    print(textwrap.fill("check mode too: " + ", ".join(c.id for c in ALL_CASES if c.check), 110, break_on_hyphens=False))
