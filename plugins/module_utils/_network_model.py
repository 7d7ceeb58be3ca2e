# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Typed objects over libvirt's network XML (NAT, routed, open, isolated and host-bridge networks).

Addresses are normalised with the ``ipaddress`` module (``10.0.0.01`` is not an address, IPv6 is
compressed and lower-case), so comparing a declared network with libvirt's stored one is field by field.
"""
from __future__ import annotations

import copy
import ipaddress
import re

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._errors import ModelError
from ansible_collections.virt.libvirt.plugins.module_utils._options import Option
from ansible_collections.virt.libvirt.plugins.module_utils._options import labels as option_labels

# libvirt's <forward mode=...>; "none" is the module's word for no <forward> at all (an isolated network).
FORWARD_MODES = ("nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev")
FORWARD_CHOICES = FORWARD_MODES + ("none",)
# Modes where the network is a host bridge or a host NIC: libvirt creates no bridge, runs no dnsmasq, and
# refuses <ip>, <domain>, <dns>, <mac> and the bridge's stp/delay.
HOST_MODES = ("bridge", "private", "vepa", "passthrough", "hostdev")
# Modes where libvirt creates and owns the bridge (and runs dnsmasq when there is an <ip>).
IP_FAMILIES = ("ipv4", "ipv6")

# The kernel's IFNAMSIZ is 16 bytes with the terminating NUL: an interface name has at most 15.
IFNAMSIZ = 15
_DNS_NAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_DUID = re.compile(r"^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){3,}$")
_RUNTIME_ATTRIBUTES = ("connections",)


# ----------------------------------------------------------------------------------------------
# Codecs
# ----------------------------------------------------------------------------------------------

class IpAddressCodec(xm.TextCodec):
    """An IPv4 or IPv6 address (``family`` restricts it), in ipaddress' canonical spelling."""

    def __init__(self, family=None):
        super().__init__()
        self.family = family

    def decode(self, raw, element):
        try:
            return str(ipaddress.ip_address(raw.strip()))
        except ValueError:
            return raw.strip()

    def normalize(self, value, option):
        text = super().normalize(value, option)
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise ModelError("%r is not an IP address" % text, option=option) from None
        if self.family == "ipv4" and address.version != 4:
            raise ModelError("%s is not an IPv4 address" % text, option=option)
        if self.family == "ipv6" and address.version != 6:
            raise ModelError("%s is not an IPv6 address" % text, option=option)
        return str(address)


class NetmaskCodec(xm.TextCodec):
    """A contiguous IPv4 netmask such as 255.255.255.0."""

    def decode(self, raw, element):
        return raw.strip()

    def normalize(self, value, option):
        text = super().normalize(value, option)
        try:
            ipaddress.IPv4Address(text)
            ipaddress.IPv4Network("0.0.0.0/%s" % text)
        except ValueError:
            raise ModelError("%r is not an IPv4 netmask (contiguous ones, such as 255.255.255.0)" % text,
                             option=option) from None
        return str(ipaddress.IPv4Address(text))


class DeviceNameCodec(xm.TextCodec):
    """A host network interface name: at most 15 characters (IFNAMSIZ), no '/', ':' or whitespace."""

    def normalize(self, value, option):
        text = super().normalize(value, option)
        if len(text) > IFNAMSIZ:
            raise ModelError("%r is %d characters long; the kernel allows at most %d in an interface name (IFNAMSIZ)"
                             % (text, len(text), IFNAMSIZ), option=option)
        if text in (".", "..") or re.search(r"[/:\s]", text):
            raise ModelError("%r is not a valid interface name (no '/', ':' or whitespace)" % text, option=option)
        return text


class DnsNameCodec(xm.TextCodec):
    """A DNS name (letters, digits, '-', '.', '_'), as dnsmasq takes it."""

    def normalize(self, value, option):
        text = super().normalize(value, option)
        if len(text) > 253 or not _DNS_NAME.match(text) or ".." in text:
            raise ModelError("%r is not a DNS name (letters, digits, '-', '.' and '_' only)" % text, option=option)
        return text


class DuidCodec(xm.TextCodec):
    """A DHCPv6 client DUID as colon separated hex octets, leading zeros dropped as libvirt's tests write them."""

    def decode(self, raw, element):
        text = raw.strip().lower()
        return self._canonical(text) if _DUID.match(text) else text

    @staticmethod
    def _canonical(text):
        return ":".join("%x" % int(octet, 16) for octet in text.split(":"))

    def normalize(self, value, option):
        text = super().normalize(value, option).lower()
        if not _DUID.match(text):
            raise ModelError("%r is not a DHCPv6 DUID (hex octets separated by colons, such as "
                             "0:3:0:1:52:54:0:12:34:56)" % text, option=option)
        return self._canonical(text)


IP_ADDRESS = IpAddressCodec()
ON_OFF = xm.BoolCodec(true="on", false="off")


# ----------------------------------------------------------------------------------------------
# Address helpers
# ----------------------------------------------------------------------------------------------

def family_of(address):
    """'ipv4' or 'ipv6' for an address string (None when it is not one)."""
    try:
        return "ipv%d" % ipaddress.ip_address(address).version
    except ValueError:
        return None


def classful_prefix(address):
    """libvirt's prefix for an IPv4 <ip> without netmask or prefix (class A/B/C), 64 for IPv6."""
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return 64
    first = int(str(parsed).split(".", maxsplit=1)[0])
    if first < 128:
        return 8
    if first < 192:
        return 16
    if first < 224:
        return 24
    return None


def declared_prefix_length(values):
    """The prefix length an address' options declare (``prefix``, or ``netmask``), None when neither."""
    if values["netmask"]:
        return netmask_to_prefix(values["netmask"])
    return values["prefix"]


def netmask_to_prefix(netmask):
    return ipaddress.IPv4Network("0.0.0.0/%s" % netmask).prefixlen


def prefix_to_netmask(prefix):
    return str(ipaddress.IPv4Network("0.0.0.0/%d" % prefix).netmask)


def subnet_of(address, prefix):
    return ipaddress.ip_interface("%s/%d" % (address, prefix)).network


def element_signature(element):
    """A comparable form of an element (tag, attributes, text, children), whitespace aside."""
    children = tuple(element_signature(child) for child in element if isinstance(child.tag, str))
    return (element.tag, tuple(sorted(element.attrib.items())), (element.text or "").strip(), children)


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------

class DhcpRange(xm.XMLModel):
    TAG = "range"
    CHILD_ORDER = {"": ["lease"]}
    # A range is its bounds (as Device.IDENTITY, alternatives of fields): a range that differs is another one.
    IDENTITY = (("start", "end"),)
    # A range built from a task's options (from_options): its option (``ips[0].dhcp.ranges[1]``), for messages.
    option = None

    start = xm.Field("", attr="start", codec=IP_ADDRESS)
    end = xm.Field("", attr="end", codec=IP_ADDRESS)

    @classmethod
    def from_options(cls, values, option):
        """A range built from its options (``start``, ``end``, already normalised)."""
        dhcp_range = cls()
        dhcp_range.start, dhcp_range.end = values["start"], values["end"]
        dhcp_range.option = option
        return dhcp_range

    def key(self):
        return tuple(getattr(self, name) for name in self.IDENTITY[0])

    def describe(self):
        return "%s - %s" % (self.start, self.end)


class DhcpHost(xm.XMLModel):
    """A static DHCP lease: ``<host mac= name= ip=/>`` (IPv4) or ``<host id= name= ip=/>`` (IPv6)."""

    TAG = "host"
    CHILD_ORDER = {"": ["lease"]}
    ATTRIBUTES = ("mac", "id", "name", "ip")
    # What names a static lease, tried in order: the MAC (IPv4), else the DUID (IPv6), else the host name.
    IDENTITY = (("mac",), ("id",), ("name",))
    # A host built from a task's options (from_options): the declared values, normalised (None: not
    # declared), and the option they came from (``ips[0].dhcp.hosts[1]``), for messages.
    options = None
    option = None

    mac = xm.Field("", attr="mac", codec=xm.MAC)
    id = xm.Field("", attr="id", codec=DuidCodec())
    name = xm.Field("", attr="name", codec=DnsNameCodec())
    ip = xm.Field("", attr="ip", codec=IP_ADDRESS)

    @classmethod
    def from_options(cls, values, option):
        """A host built from its options (``mac``, ``id``, ``name``, ``ip``, already normalised), remembering
        them: ``stored.apply_options(declared.options, ...)`` lays them over a host the network has."""
        host = cls()
        host.options = values
        host.option = option
        host.set_entry(values)
        return host

    def apply_options(self, values, tracker, label):
        """Take the declared values when they differ from this host's, recorded in ``tracker`` as ``label``."""
        if self.entry() != values:
            tracker.add(label, self.describe(), describe_host(values))
            self.set_entry(values)

    def entry(self):
        """The modelled attributes as a dict (None where absent), as declared hosts are shaped."""
        return {name: getattr(self, name) for name in self.ATTRIBUTES}

    def set_entry(self, entry):
        for name in self.ATTRIBUTES:
            setattr(self, name, entry[name])

    def identity(self):
        return host_identity(self.options if self.options is not None else self.entry())

    def describe(self):
        return describe_host(self.entry())


def host_identity(host):
    """What names a static lease (an entry, as ``DhcpHost.entry`` shapes it): the first of
    ``DhcpHost.IDENTITY`` it sets; a host name in any case."""
    for (name,) in DhcpHost.IDENTITY[:-1]:
        if host.get(name):
            return name, host[name]
    return "name", (host.get("name") or "").lower()


def host_identity_label(host):
    """How ``changes`` names a static lease: its MAC, DUID or name as written."""
    kind, value = host_identity(host)
    return value if kind != "name" else host.get("name")


def describe_host(host):
    return " ".join("%s=%s" % (name, host[name]) for name in DhcpHost.ATTRIBUTES if host.get(name))


class IpAddress(xm.XMLModel):
    """``<ip address= prefix|netmask= family=>`` with its ``<dhcp>`` ranges and static hosts."""

    TAG = "ip"
    CHILD_ORDER = {"": ["tftp", "dhcp"], "dhcp": ["range", "host", "bootp"]}
    # A network has one <ip> per address.
    IDENTITY = (("address",),)
    # An address built from a task's options (from_options): the declared values (``address``, ``prefix``,
    # ``netmask``, ``family``, ``dhcp`` with its ``ranges`` and ``hosts`` as DhcpRange and DhcpHost objects;
    # None: not declared), the option they came from (``ips[0]``), and ``document``, the same address' element
    # in the ``xml`` base when there is one (what it says beyond the fields, TFTP or BOOTP, is laid over a
    # stored address too).
    options = None
    option = None
    document = None

    address = xm.Field("", attr="address", codec=IP_ADDRESS)
    netmask = xm.Field("", attr="netmask", codec=NetmaskCodec())
    prefix = xm.Field("", attr="prefix", codec=xm.IntCodec(minimum=0, maximum=128))
    family = xm.Field("", attr="family", codec=xm.EnumCodec(IP_FAMILIES))

    @classmethod
    def from_options(cls, values, option, document=None):
        """A new address built from its options (already normalised), over a copy of ``document`` when
        given, remembering them: ``stored.apply_options(declared.options, ...)`` lays them over an address
        the network has."""
        ip = cls(copy.deepcopy(document)) if document is not None else cls()
        ip.options, ip.option, ip.document = values, option, document
        ip.address = values["address"]
        # libvirt needs family='ipv6' on an IPv6 address; an IPv4 one keeps it only when declared.
        family = family_of(values["address"])
        if family == "ipv6" or values["family"]:
            ip.family = family
        length = declared_prefix_length(values)
        if length is not None:
            ip.set_prefix_length(length, "netmask" if values["netmask"] else "prefix")
        ip.apply_dhcp(values["dhcp"], DifferenceTracker(), "")
        return ip

    def key(self):
        return tuple(getattr(self, name) for name in self.IDENTITY[0])

    def apply_options(self, values, tracker, prefix=""):
        """Set the declared prefix, DHCP ranges and static hosts where they differ, recording each in
        ``tracker`` under ``prefix``. Returns the labels of the static hosts it changed (libvirt changes
        those on a running network)."""
        length = declared_prefix_length(values)
        if length is not None and self.prefix_length != length:
            tracker.add(prefix + "prefix", self.prefix_length, length)
            self.set_prefix_length(length, "netmask" if values["netmask"] else "prefix")
        return self.apply_dhcp(values["dhcp"], tracker, prefix)

    def apply_dhcp(self, dhcp, tracker, prefix):
        if dhcp is None:
            return []
        host_labels = []
        if dhcp["ranges"] is not None:
            self.apply_ranges(dhcp["ranges"], tracker, prefix + "dhcp.ranges")
        if dhcp["hosts"] is not None:
            host_labels = self.apply_hosts(dhcp["hosts"], tracker, prefix + "dhcp.hosts")
        self.prune_dhcp()
        return host_labels

    def apply_ranges(self, ranges, tracker, label):
        """The declared ranges (DhcpRange objects) replace this address' ranges, as one change."""
        wanted = [dhcp_range.key() for dhcp_range in ranges]
        existing = self.ranges
        before = [dhcp_range.key() for dhcp_range in existing]
        if sorted(before) == sorted(wanted):
            return
        tracker.add(label, ["%s - %s" % key for key in before], ["%s - %s" % key for key in wanted])
        for dhcp_range in existing:
            if dhcp_range.key() not in wanted:
                dhcp_range.element.getparent().remove(dhcp_range.element)
        kept = {dhcp_range.key() for dhcp_range in self.ranges}
        for dhcp_range in ranges:
            if dhcp_range.key() not in kept:
                self.add_range(dhcp_range.copy())

    def apply_hosts(self, hosts, tracker, label):
        """The declared hosts (DhcpHost objects) matched with this address' hosts by identity: each laid over
        its match or added, and hosts not declared removed; each change recorded as ``label[identity]``.
        Returns those labels."""
        existing = self.hosts
        by_identity = {host.identity(): host for host in existing}
        matched = set()
        labels = []

        def record(host, before, after):
            labels.append("%s[%s]" % (label, host_identity_label(host)))
            tracker.add(labels[-1], before, after)

        for declared_host in hosts:
            host = by_identity.get(declared_host.identity())
            if host is None:
                self.add_host(declared_host.copy())
                record(declared_host.options, None, describe_host(declared_host.options))
                continue
            matched.add(id(host.element))
            if host.entry() != declared_host.options:
                record(declared_host.options, host.describe(), describe_host(declared_host.options))
                host.set_entry(declared_host.options)
        for host in existing:
            if id(host.element) not in matched:
                record(host.entry(), host.describe(), None)
                host.element.getparent().remove(host.element)
        return labels

    @property
    def effective_family(self):
        return self.family or family_of(self.address or "") or "ipv4"

    @property
    def prefix_length(self):
        """The prefix as libvirt computes it: prefix, else netmask, else the class of the address."""
        if isinstance(self.prefix, int):
            return self.prefix
        if self.netmask:
            try:
                return netmask_to_prefix(self.netmask)
            except ValueError:
                return None
        if self.address and family_of(self.address):
            return classful_prefix(self.address)
        return None

    def set_prefix_length(self, length, spelling=None):
        """Write the prefix as ``prefix`` or ``netmask`` (IPv4 only); default: the spelling already used."""
        if spelling is None:
            spelling = "netmask" if self.netmask and self.effective_family == "ipv4" else "prefix"
        if spelling == "netmask":
            self.prefix = None
            self.netmask = prefix_to_netmask(length)
        else:
            self.netmask = None
            self.prefix = length

    @property
    def subnet(self):
        """The address' subnet, or None when the address or its prefix is not valid (a user's document
        is refused with the option named by validate_raw and the module's checks, not here)."""
        length = self.prefix_length
        if not self.address or not isinstance(length, int) or not family_of(self.address):
            return None
        try:
            return subnet_of(self.address, length)
        except ValueError:  # a prefix outside 0-32 (IPv4) or 0-128 (IPv6)
            return None

    @property
    def ranges(self):
        return self.children("dhcp", "range", DhcpRange)

    @property
    def hosts(self):
        return self.children("dhcp", "host", DhcpHost)

    def add_range(self, dhcp_range):
        self.append_child("dhcp", dhcp_range)

    def add_host(self, host):
        self.append_child("dhcp", host)

    @property
    def serves_dhcp(self):
        """libvirt serves DHCP on an address with a range or a static host (and drops an empty <dhcp/>)."""
        return bool(self.ranges or self.hosts)

    def prune_dhcp(self):
        """Remove a <dhcp> left without ranges, hosts or anything else, as libvirt would."""
        self.prune(("dhcp",))

    def summary(self):
        """Everything about this address a restart would change (static hosts are updated live)."""
        return {"address": self.address, "family": self.effective_family, "prefix": self.prefix_length,
                "ranges": sorted(r.key() for r in self.ranges)}

    def describe(self):
        return "%s/%s" % (self.address, self.prefix_length)


class Network(xm.XMLModel):
    TAG = "network"
    CHILD_ORDER = {
        "": ["name", "uuid", "metadata", "forward", "bridge", "mtu", "mac", "domain", "dns", "virtualport",
             "bandwidth", "vlan", "port", "ip", "route", "portgroup"],
        "forward": ["nat", "interface", "pf", "address", "driver"],
    }

    name = xm.Field("name", codec=xm.TextCodec(forbid="/"))
    uuid = xm.Field("uuid", codec=xm.UUID)
    forward_mode_attr = xm.Field("forward", attr="mode", codec=xm.EnumCodec(FORWARD_MODES))
    forward_dev = xm.Field("forward", attr="dev", codec=DeviceNameCodec())
    bridge_name = xm.Field("bridge", attr="name", codec=DeviceNameCodec())
    bridge_stp = xm.Field("bridge", attr="stp", codec=ON_OFF)
    bridge_delay = xm.Field("bridge", attr="delay", codec=xm.IntCodec(minimum=0))
    mtu = xm.Field("mtu", attr="size", codec=xm.IntCodec(minimum=68, maximum=65535))
    mac = xm.Field("mac", attr="address", codec=xm.MAC)
    domain_name = xm.Field("domain", attr="name", codec=DnsNameCodec())

    # -- forward mode -----------------------------------------------------------------------------
    @property
    def forward_mode(self):
        """The effective mode: 'none' without <forward> (isolated), 'nat' for a <forward> without mode."""
        forward = self.element.find("forward")
        if forward is None:
            return "none"
        return self.forward_mode_attr or "nat"

    @forward_mode.setter
    def forward_mode(self, mode):
        if mode == "none":
            self.remove_path(("forward",))
            return
        self.forward_mode_attr = mode
        forward = self.element.find("forward")
        if mode != "nat":
            # <nat> (address and port ranges) is only valid in NAT mode; libvirt refuses it elsewhere.
            for nat in forward.findall("nat"):
                forward.remove(nat)

    def set_forward_dev(self, dev):
        """Set (or with None remove) the forward device. libvirt mirrors it as the first
        ``<forward><interface dev=>`` and refuses the two when they differ, so stale copies go."""
        forward = self.element.find("forward")
        if forward is not None:
            for interface in forward.findall("interface"):
                forward.remove(interface)
        if dev is None:
            if forward is not None:
                forward.attrib.pop("dev", None)
            return
        self.forward_dev = dev

    def set_domain_name(self, name):
        if name is None:
            self.remove_path(("domain",))
        else:
            self.domain_name = name

    # -- addresses --------------------------------------------------------------------------------
    @property
    def ips(self):
        return self.children("", "ip", IpAddress)

    def add_ip(self, ip):
        self.append_child("", ip)

    def remove_ip(self, ip):
        self.element.remove(ip.element)

    def ip_index(self, address):
        """The position of the <ip> with ``address`` among all <ip> elements (libvirt's parentIndex)."""
        for index, ip in enumerate(self.ips):
            if ip.address == address:
                return index
        return None

    @property
    def has_dns(self):
        return self.element.find("dns") is not None

    def summary(self):
        """The modelled configuration a restart would apply, static DHCP hosts left out (they go live)."""
        values = {option.field: option.read(self) for option in OPTIONS if option.field != "uuid"}
        values["ips"] = sorted((ip.summary() for ip in self.ips), key=lambda s: (s["family"], s["address"] or ""))
        # DNS records and static routes are applied at start too; libvirt writes them the same live and inactive.
        for tag in ("dns", "route"):
            values[tag] = [element_signature(element) for element in self.element.findall(tag)]
        return values

    # -- documents from users -------------------------------------------------------------------
    @classmethod
    def from_user_xml(cls, text, option="xml"):
        """A network document written by a user (or dumped by virsh): checked, runtime data dropped."""
        network = cls.from_xml(text, option)
        for element in network.element.iter():
            for name in _RUNTIME_ATTRIBUTES:
                element.attrib.pop(name, None)
        network.validate_raw(option)
        for index, ip in enumerate(network.ips):
            where = "%s: ip[%d]" % (option, index + 1)
            ip.validate_raw(where)
            for position, dhcp_range in enumerate(ip.ranges):
                dhcp_range.validate_raw("%s/dhcp/range[%d]" % (where, position + 1))
            for position, host in enumerate(ip.hosts):
                host.validate_raw("%s/dhcp/host[%d]" % (where, position + 1))
        return network


# The network's scalar options, each declared once: what the task spells, its argument spec, the field it sets
# and how it is normalised (see _options.py). The argument spec, the labels in ``changes``, the values read back
# from an ``xml`` base and what a restart applies all come from here.
_DEVICE_NAME = DeviceNameCodec()
OPTIONS = (
    Option("uuid", "uuid", {"type": "str"}),
    Option("bridge.name", "bridge_name", {"type": "str"}, codec=_DEVICE_NAME),
    Option("bridge.stp", "bridge_stp", {"type": "bool"}, codec=xm.BOOL),
    Option("bridge.delay", "bridge_delay", {"type": "int"}),
    Option("forward.mode", "forward_mode", {"type": "str", "choices": list(FORWARD_CHOICES)},
           codec=xm.EnumCodec(FORWARD_CHOICES)),
    Option("forward.dev", "forward_dev", {"type": "str"}, codec=_DEVICE_NAME, removable=True),
    Option("domain", "domain_name", {"type": "str"}, codec=DnsNameCodec(), removable=True),
    Option("mtu", "mtu", {"type": "int"}),
    Option("mac", "mac", {"type": "str"}),
)
Network.OPTION_LABELS = option_labels(OPTIONS)
