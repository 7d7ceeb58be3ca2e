# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Typed objects over libvirt's network XML (NAT, routed, open, isolated and host-bridge networks).

Addresses are normalised with the ``ipaddress`` module (``10.0.0.01`` is not an address, IPv6 is
compressed and lower-case), so comparing a declared network with libvirt's stored one is field by field.
"""
from __future__ import annotations

import ipaddress
import re

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
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

    start = xm.Field("", attr="start", codec=IP_ADDRESS)
    end = xm.Field("", attr="end", codec=IP_ADDRESS)

    def key(self):
        return (self.start, self.end)

    def describe(self):
        return "%s - %s" % (self.start, self.end)


class DhcpHost(xm.XMLModel):
    """A static DHCP lease: ``<host mac= name= ip=/>`` (IPv4) or ``<host id= name= ip=/>`` (IPv6)."""

    TAG = "host"
    CHILD_ORDER = {"": ["lease"]}
    ATTRIBUTES = ("mac", "id", "name", "ip")

    mac = xm.Field("", attr="mac", codec=xm.MAC)
    id = xm.Field("", attr="id", codec=DuidCodec())
    name = xm.Field("", attr="name", codec=DnsNameCodec())
    ip = xm.Field("", attr="ip", codec=IP_ADDRESS)

    def entry(self):
        """The modelled attributes as a dict (None where absent), as declared hosts are shaped."""
        return {name: getattr(self, name) for name in self.ATTRIBUTES}

    def describe(self):
        return describe_host(self.entry())


def host_identity(host):
    """What names a static lease: the MAC (IPv4), else the DUID (IPv6), else the host name."""
    if host.get("mac"):
        return "mac", host["mac"]
    if host.get("id"):
        return "id", host["id"]
    return "name", (host.get("name") or "").lower()


def describe_host(host):
    return " ".join("%s=%s" % (name, host[name]) for name in DhcpHost.ATTRIBUTES if host.get(name))


class IpAddress(xm.XMLModel):
    """``<ip address= prefix|netmask= family=>`` with its ``<dhcp>`` ranges and static hosts."""

    TAG = "ip"
    CHILD_ORDER = {"": ["tftp", "dhcp"], "dhcp": ["range", "host", "bootp"]}

    address = xm.Field("", attr="address", codec=IP_ADDRESS)
    netmask = xm.Field("", attr="netmask", codec=NetmaskCodec())
    prefix = xm.Field("", attr="prefix", codec=xm.IntCodec(minimum=0, maximum=128))
    family = xm.Field("", attr="family", codec=xm.EnumCodec(IP_FAMILIES))

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
