# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Converging one virtual network (or a list of them) on libvirt: the logic behind virt.libvirt.network.

A declared network is compared with the network's persistent definition field by field. Static DHCP
hosts of an active network are changed live with libvirt's network update API (dnsmasq re-reads its
hosts file; the bridge and the guests on it are not touched); every other change to an active network
is written to its definition and reported as ``restart_required`` unless ``restart`` is set.
"""
from __future__ import annotations

import ipaddress
import re

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._bulk import (
    bulk_argument_spec, item_argument_spec,
)
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    is_libvirt_error, libvirt, translate_libvirt_errors, translated_error,
)
from ansible_collections.virt.libvirt.plugins.module_utils._converge import Adapter, run_module
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._network_guests import GuestsOnNetwork
from ansible_collections.virt.libvirt.plugins.module_utils._network_model import (
    HOST_MODES, IP_FAMILIES, OPTIONS, DhcpHost, DhcpRange, DnsNameCodec, DuidCodec, IpAddress, IpAddressCodec, NetmaskCodec,
    Network, classful_prefix, describe_host, family_of, host_identity, host_identity_label,
)
from ansible_collections.virt.libvirt.plugins.module_utils._options import (
    argument_spec, option_of, read_back,
)
from ansible_collections.virt.libvirt.plugins.module_utils._options import normalize as normalize_options

STATES = ("present", "active", "inactive", "absent")

# -- argument spec (the module file and the bulk form's items share it) ----------------------------
_RANGE_SPEC = {
    "start": {"type": "str", "required": True},
    "end": {"type": "str", "required": True},
}
_HOST_SPEC = {
    "mac": {"type": "str"},
    "id": {"type": "str"},
    "name": {"type": "str"},
    "ip": {"type": "str", "required": True},
}
_DHCP_SPEC = {
    "enabled": {"type": "bool", "default": True},
    "range": {"type": "dict", "options": _RANGE_SPEC},
    "ranges": {"type": "list", "elements": "dict", "options": _RANGE_SPEC},
    "hosts": {"type": "list", "elements": "dict", "options": _HOST_SPEC},
}
_IP_SPEC = {
    "address": {"type": "str", "required": True},
    "prefix": {"type": "int"},
    "netmask": {"type": "str"},
    "family": {"type": "str", "choices": list(IP_FAMILIES)},
    "dhcp": {"type": "dict", "options": _DHCP_SPEC},
}
NETWORK_ITEM_SPEC = argument_spec(
    OPTIONS,
    name={"type": "str"},
    state={"type": "str", "default": "present", "choices": list(STATES)},
    autostart={"type": "bool"},
    restart={"type": "bool", "default": False},
    xml={"type": "str"},
    ips={"type": "list", "elements": "dict", "options": _IP_SPEC},
)


def network_argument_spec():
    return bulk_argument_spec(NETWORK_ITEM_SPEC, "networks")


NETWORK_MUTUALLY_EXCLUSIVE = [("name", "networks")]
NETWORK_REQUIRED_ONE_OF = [("name", "networks")]

_DNS_NAME = DnsNameCodec()
_DUID = DuidCodec()
_NETMASK = NetmaskCodec()
_FAMILY = xm.EnumCodec(IP_FAMILIES)
_CODECS_BY_FAMILY = {family: IpAddressCodec(family) for family in IP_FAMILIES}


# -- declared state --------------------------------------------------------------------------------
class DeclaredNetwork:
    """The user's options (and the ``xml`` base under them), validated and normalised.

    Nothing here talks to libvirt: every error in the input is found before the host is touched.
    ``fields`` holds the scalar values (None: not declared; '' for ``forward.dev`` and ``domain``:
    remove it). ``ips`` is None when not declared, else the whole list of addresses (IpAddress objects built
    from their options, ``IpAddress.from_options``, over the same address of the ``xml`` base when it has one).
    """

    def __init__(self, params, prefix=""):
        self.prefix = prefix
        self.state = params.get("state") or "present"
        name = params.get("name")
        if name is None or not str(name).strip():
            raise InputError("is required", option=self._opt("name"))
        self.name = Network.fields()["name"].normalize(name, self._opt("name"))
        self.base = Network.from_user_xml(params["xml"], self._opt("xml")) if params.get("xml") else None
        if self.base is not None and self.base.name and self.base.name != self.name:
            raise InputError("names the network %r but the task's name is %r" % (self.base.name, self.name),
                             option=self._opt("xml"))
        own_fields, own_ips = self._normalize(params, self.prefix)
        if self.base is not None:
            base_fields, base_ips = self._normalize(options_from_document(self.base), self._opt("xml: "))
            documents = {ip.address: ip.element for ip in self.base.ips}
        else:
            base_fields, base_ips, documents = {}, None, {}
        self.fields = xm.overlay(base_fields, own_fields)
        ips = own_ips if own_ips is not None else base_ips
        self.ips = None if ips is None else [
            IpAddress.from_options(values, option, documents.get(values["address"])) for values, option in ips]
        self._check_combination()

    def _opt(self, name):
        return self.prefix + name

    def option(self, field):
        """The option naming a scalar field (``bridge_name`` -> ``bridge.name``)."""
        return self._opt(option_of(OPTIONS, field))

    # -- normalisation -------------------------------------------------------------------------
    def _normalize(self, options, prefix):
        values = normalize_options(OPTIONS, options, Network, prefix)
        ips = options.get("ips")
        if ips is None:
            return values, None
        if not isinstance(ips, (list, tuple)):
            raise InputError("must be a list of addresses", option=prefix + "ips")
        options = ["%sips[%d]" % (prefix, index) for index in range(len(ips))]
        normalized = [(self._ip(item or {}, option), option) for item, option in zip(ips, options)]
        seen = {}
        for ip, option in normalized:
            if ip["address"] in seen:
                raise InputError("%s is declared twice (also in %s)" % (ip["address"], seen[ip["address"]]),
                                 option=option + ".address")
            seen[ip["address"]] = option
        return values, normalized

    def _ip(self, item, option):
        """An address' options, normalised (the values ``IpAddress.from_options`` takes)."""
        if item.get("address") in (None, ""):
            raise InputError("is required", option=option + ".address")
        address = IpAddressCodec().normalize(item["address"], option + ".address")
        family = family_of(address)
        declared_family = _FAMILY.normalize(item["family"], option + ".family") if item.get("family") else None
        if declared_family and declared_family != family:
            raise InputError("is %s but %s is an %s address" % (declared_family, address, family.replace("ip", "IP")),
                             option=option + ".family")
        prefix, netmask = item.get("prefix"), item.get("netmask")
        if prefix is not None and netmask not in (None, ""):
            raise InputError("give prefix or netmask, not both", option=option + ".netmask")
        length, mask = None, None
        if netmask not in (None, ""):
            if family == "ipv6":
                raise InputError("an IPv6 address takes a prefix (such as 64), not a netmask", option=option + ".netmask")
            mask = _NETMASK.normalize(netmask, option + ".netmask")
        elif prefix is not None:
            length = xm.INT.normalize(prefix, option + ".prefix")
            maximum = 32 if family == "ipv4" else 128
            if not 0 < length <= maximum:
                raise InputError("%d is outside 1-%d, the prefix lengths of an %s address"
                                 % (length, maximum, family.replace("ip", "IP")), option=option + ".prefix")
        elif classful_prefix(address) is None:
            raise InputError("%s has no address class; give its prefix" % address, option=option + ".prefix")
        return {"address": address, "family": declared_family, "prefix": length, "netmask": mask,
                "dhcp": self._dhcp(item.get("dhcp"), option + ".dhcp", family)}

    def _dhcp(self, item, option, family):
        if item is None:
            return None
        if not isinstance(item, dict):
            raise InputError("must be a dictionary", option=option)
        codec = _CODECS_BY_FAMILY[family]
        if item.get("range") is not None and item.get("ranges") is not None:
            raise InputError("give range or ranges, not both", option=option + ".ranges")
        ranges = None
        if item.get("range") is not None:
            ranges = [self._range(item["range"], option + ".range", codec)]
        elif item.get("ranges") is not None:
            ranges = [self._range(entry or {}, "%s.ranges[%d]" % (option, index), codec)
                      for index, entry in enumerate(item["ranges"])]
        hosts = None
        if item.get("hosts") is not None:
            hosts = [self._host(entry or {}, "%s.hosts[%d]" % (option, index), family, codec)
                     for index, entry in enumerate(item["hosts"])]
            _check_unique_hosts(hosts, option + ".hosts")
        enabled = item.get("enabled")
        if enabled is not None and not xm.BOOL.normalize(enabled, option + ".enabled"):
            if ranges or hosts:
                raise InputError("is false, so the address serves no DHCP, but ranges or hosts are declared",
                                 option=option + ".enabled")
            ranges, hosts = [], []
        return {"ranges": ranges, "hosts": hosts}

    @staticmethod
    def _range(item, option, codec):
        for key in ("start", "end"):
            if item.get(key) in (None, ""):
                raise InputError("is required", option="%s.%s" % (option, key))
        start = codec.normalize(item["start"], option + ".start")
        end = codec.normalize(item["end"], option + ".end")
        if ipaddress.ip_address(start) > ipaddress.ip_address(end):
            raise InputError("starts at %s, after its end %s" % (start, end), option=option)
        return DhcpRange.from_options({"start": start, "end": end}, option)

    @staticmethod
    def _host(item, option, family, codec):
        if item.get("ip") in (None, ""):
            raise InputError("is required", option=option + ".ip")
        host = {
            "mac": xm.MAC.normalize(item["mac"], option + ".mac") if item.get("mac") else None,
            "id": _DUID.normalize(item["id"], option + ".id") if item.get("id") else None,
            "name": _DNS_NAME.normalize(item["name"], option + ".name") if item.get("name") else None,
            "ip": codec.normalize(item["ip"], option + ".ip"),
        }
        if family == "ipv4":
            if host["id"]:
                raise InputError("a DUID names an IPv6 client; a static IPv4 lease is matched by mac",
                                 option=option + ".id")
            if not host["mac"] and not host["name"]:
                raise InputError("a static IPv4 lease needs the guest's mac (or a name)", option=option + ".mac")
        else:
            if host["mac"]:
                raise InputError("libvirt matches IPv6 clients by their DUID (id) or name, not by MAC",
                                 option=option + ".mac")
            if not host["id"] and not host["name"]:
                raise InputError("a static IPv6 lease needs the client's DUID (id) or a name", option=option + ".id")
        return DhcpHost.from_options(host, option)

    # -- checks across options -----------------------------------------------------------------
    def _check_combination(self):
        fields = self.fields
        mode = fields["forward_mode"]
        if mode == "none" and fields["forward_dev"]:
            raise InputError("an isolated network (forward mode none) has no forward device",
                             option=self.option("forward_dev"))
        if mode in HOST_MODES:
            _check_host_mode(mode, fields, self.ips, self.option, self._opt("ips"))
        if self.ips is not None:
            _check_single_dhcp([(family_of(ip.address), ip.option) for ip in self.ips if ip.options["dhcp"] and
                                (ip.options["dhcp"]["ranges"] or ip.options["dhcp"]["hosts"])], self._opt("ips"))


def _check_unique_hosts(hosts, option):
    for key, what in (("mac", "MAC address"), ("id", "DUID"), ("name", "name"), ("ip", "IP address")):
        seen = {}
        for index, host in enumerate(hosts):
            value = host.options[key]
            if not value:
                continue
            value = value.lower()
            if value in seen:
                raise InputError("the %s %s is already used by hosts[%d]; each static lease needs its own"
                                 % (what, host.options[key], seen[value]), option="%s[%d].%s" % (option, index, key))
            seen[value] = index


def _check_single_dhcp(families_with_dhcp, option):
    """libvirt serves DHCP on one IPv4 and one IPv6 address per network (``(family, option)`` pairs)."""
    seen = {}
    for family, where in families_with_dhcp:
        if family in seen:
            raise InputError("libvirt serves DHCP on one %s address per network; %s has DHCP already"
                             % (family.replace("ip", "IP"), seen[family]), option=where + ".dhcp")
        seen[family] = where


def _check_host_mode(mode, fields, ips, option_of, ips_option):
    """A network that is a host bridge or NIC: libvirt manages no bridge, addresses or DNS on it."""
    if ips:
        raise InputError("a network with forward mode %s carries no IP addresses (libvirt runs no DHCP or DNS on "
                         "it); declare ips: []" % mode, option=ips_option)
    if fields.get("domain_name"):
        raise InputError("a network with forward mode %s has no DNS domain" % mode, option=option_of("domain_name"))
    for field in ("bridge_stp", "bridge_delay", "mac"):
        if fields.get(field) is not None:
            raise InputError("applies only to bridges libvirt creates (forward mode nat, route, open or none), "
                             "not to forward mode %s" % mode, option=option_of(field))
    if mode != "bridge" and fields.get("bridge_name"):
        raise InputError("a network with forward mode %s uses a host interface (forward.dev), not a bridge"
                         % mode, option=option_of("bridge_name"))


def options_from_document(network):
    """A network document's modelled values shaped as the module's options (for the ``xml`` base)."""
    options = read_back(OPTIONS, network)
    options["ips"] = [{
        "address": ip.address, "prefix": ip.prefix, "netmask": ip.netmask, "family": ip.family,
        "dhcp": {"ranges": [{"start": r.start, "end": r.end} for r in ip.ranges],
                 "hosts": [{k: v for k, v in h.entry().items() if v} for h in ip.hosts]},
    } for ip in network.ips]
    return options


# -- the desired definition ------------------------------------------------------------------------
# The elements the model's fields own, and the addresses (IpAddress objects, merged one by one); what a user's
# document says anywhere else is kept as written.
_MODELLED_TOP_LEVEL = Network.owned_tags() | {"ip"}
# Top-level elements that may repeat; a declared one is added beside the others, not in their place.
_REPEATED_TOP_LEVEL = {"route", "portgroup"}
# Children of <forward> an xml base lays over an existing network (its <interface>s are forward.dev's).
_FORWARD_CHILDREN_MERGED = ("nat", "pf", "address", "driver")


def host_label(address, host):
    return "ips[%s].dhcp.hosts[%s]" % (address, host_identity_label(host))


class NetworkPlan:
    """The desired persistent definition: the current one (or the xml base) plus everything declared."""

    def __init__(self, declared, current):
        self.declared = declared
        self.current = current
        self.tracker = DifferenceTracker()
        # Fields of the tracker that are static DHCP hosts: libvirt applies those live.
        self.host_fields = set()
        if current is not None:
            self.desired = current.copy()
        elif declared.base is not None:
            self.desired = declared.base.copy()
        else:
            self.desired = Network()
        # A new network is reported as one change; its fields are not compared with nothing.
        self._record = self.tracker if current is not None else DifferenceTracker()
        self._build()

    @property
    def changed(self):
        return self.tracker.changed

    @property
    def structural_fields(self):
        """Changed fields that take effect only when the network restarts."""
        return [field for field in self.tracker.fields if field not in self.host_fields]

    def _build(self):
        declared, desired = self.declared, self.desired
        if self.current is None:
            desired.name = declared.name
            self.tracker.add("network", None, "defined")
        elif declared.base is not None:
            self._merge_unmodelled(declared.base)
        uuid = declared.fields["uuid"]
        if uuid and self.current is not None and self.current.uuid and uuid != self.current.uuid:
            raise InputError("the network %s exists with uuid %s; a network's uuid cannot be changed (got %s)"
                             % (declared.name, self.current.uuid, uuid), option=declared.option("uuid"))
        self._apply_scalars()
        if declared.ips is not None:
            self._apply_ips()
        self._host_mode_cleanup()
        self._check_desired()

    # -- scalar fields ----------------------------------------------------------------------------
    def _apply_scalars(self):
        fields, desired, record = self.declared.fields, self.desired, self._record
        mode = fields["forward_mode"]
        if mode is not None and mode != desired.forward_mode:
            record.add("forward.mode", desired.forward_mode, mode)
            desired.forward_mode = mode
        dev = fields["forward_dev"]
        if dev is not None and (dev or None) != desired.forward_dev:
            if dev and desired.forward_mode == "none":
                raise InputError("an isolated network (forward mode none) has no forward device; declare "
                                 "forward.mode too", option=self.declared.option("forward_dev"))
            record.add("forward.dev", desired.forward_dev, dev or None)
            desired.set_forward_dev(dev or None)
        domain = fields["domain_name"]
        if domain is not None and (domain or None) != desired.domain_name:
            record.add("domain", desired.domain_name, domain or None)
            desired.set_domain_name(domain or None)
        plain = {key: fields[key] for key in ("uuid", "bridge_name", "bridge_stp", "bridge_delay", "mtu", "mac")}
        desired.apply(plain, record)

    def _host_mode_cleanup(self):
        """Leaving a libvirt-made bridge for a host bridge or NIC: drop what libvirt added for its own
        bridge (STP, delay, MAC), which it refuses in these modes."""
        desired, fields = self.desired, self.declared.fields
        if desired.forward_mode not in HOST_MODES:
            return
        owned = ["bridge_stp", "bridge_delay", "mac"]
        if desired.forward_mode != "bridge":
            owned.append("bridge_name")  # macvtap and hostdev modes have no bridge at all
        for field in owned:
            if fields[field] is None and getattr(desired, field) is not None:
                self._record.add(option_of(OPTIONS, field), getattr(desired, field), None)
                setattr(desired, field, None)

    # -- addresses --------------------------------------------------------------------------------
    def _apply_ips(self):
        """Each declared address (IpAddress.from_options) is laid over the stored one of the same identity
        (``IpAddress.IDENTITY``: its address) with ``apply_options``, or added; the others are removed."""
        desired, record = self.desired, self._record
        existing = desired.ips
        by_key = {ip.key(): ip for ip in existing}
        matched = set()
        for declared_ip in self.declared.ips:
            label = "ips[%s]" % declared_ip.address
            ip = by_key.get(declared_ip.key())
            if ip is None:
                # A copy: one declaration may be laid over several documents.
                ip = declared_ip.copy()
                desired.add_ip(ip)
                record.add(label, None, ip.describe())
            else:
                matched.add(id(ip.element))
                self.host_fields.update(ip.apply_options(declared_ip.options, record, label + "."))
                if declared_ip.document is not None:
                    _merge_unmodelled_ip(ip, declared_ip.document, record, label)
        for ip in existing:
            if id(ip.element) not in matched:
                record.add("ips[%s]" % ip.address, ip.describe(), None)
                desired.remove_ip(ip)

    # -- the xml base on an existing network ------------------------------------------------------
    def _merge_unmodelled(self, base):
        """Merge what the model does not name (DNS records, routes, port groups, metadata ...) from the
        xml base into the definition. libvirt adds defaults to what it stores, so a declared element counts
        as present when an element of the definition contains it."""
        desired = self.desired
        for name, value in base.element.attrib.items():
            if desired.element.get(name) != value:
                self.tracker.add("@%s" % name, desired.element.get(name), value)
                desired.element.set(name, value)
        xm.merge_unmodelled_children(
            desired.element, base.element, self.tracker,
            lambda child: xm.describe_element(child) if child.tag in _REPEATED_TOP_LEVEL else child.tag,
            owned=_MODELLED_TOP_LEVEL, insert=lambda parent, element: desired.insert_child(parent, element, ""),
            repeated=_REPEATED_TOP_LEVEL)
        base_forward, forward = base.element.find("forward"), desired.element.find("forward")
        if base_forward is not None and forward is not None:
            xm.merge_unmodelled_children(
                forward, base_forward, self.tracker, lambda child: "forward.%s" % child.tag,
                owned={child.tag for child in base_forward if child.tag not in _FORWARD_CHILDREN_MERGED},
                insert=lambda parent, element: desired.insert_child(parent, element, "forward"), replace_all=True)

    # -- checks of the result ---------------------------------------------------------------------
    def _check_desired(self):
        declared, desired = self.declared, self.desired
        mode = desired.forward_mode
        if mode in HOST_MODES:
            values = {"domain_name": desired.domain_name}
            ips_option = declared.prefix + ("ips" if declared.ips is not None else "forward.mode")
            _check_host_mode(mode, values, desired.ips, declared.option, ips_option)
            if desired.has_dns:
                raise InputError("a network with forward mode %s has no DNS; its definition has a <dns> element"
                                 % mode, option=declared.option("forward_mode"))
            forward = desired.element.find("forward")
            has_device = desired.bridge_name or desired.forward_dev or any(
                forward.find(tag) is not None for tag in ("interface", "pf", "address"))
            # Checked when the mode is declared: an adopted network is left as it is.
            if mode == "bridge" and not has_device and (self.current is None or declared.fields["forward_mode"]):
                raise InputError("forward mode bridge needs the host bridge (bridge.name) or a host interface "
                                 "(forward.dev)", option=declared.option("bridge_name"))
        options = {ip.address: ip for ip in declared.ips or []}
        serving = []
        for ip in desired.ips:
            declared_ip = options.get(ip.address)
            where = declared_ip.option if declared_ip else declared.prefix + "ips[%s]" % ip.address
            if declared_ip is not None:
                _check_addresses_in_subnet(ip, declared_ip)
            if ip.serves_dhcp:
                serving.append((ip.effective_family, where))
        _check_single_dhcp(serving, declared.prefix + "ips")


def _check_addresses_in_subnet(ip, declared_ip):
    """The address, its declared DHCP ranges and static hosts all lie inside the address' own subnet."""
    subnet = ip.subnet
    option = declared_ip.option
    if subnet is None:
        return
    address = ipaddress.ip_address(ip.address)
    special = subnet.prefixlen < subnet.max_prefixlen - 1
    if special and address == subnet.network_address:
        raise InputError("%s is the network address of %s, not an address inside it (such as %s)"
                         % (ip.address, subnet, subnet.network_address + 1), option=option + ".address")
    if special and subnet.version == 4 and address == subnet.broadcast_address:
        raise InputError("%s is the broadcast address of %s, not an address inside it" % (ip.address, subnet),
                         option=option + ".address")
    dhcp = declared_ip.options["dhcp"] or {}

    def check(value, where, what):
        parsed = ipaddress.ip_address(value)
        if parsed not in subnet:
            raise InputError("%s %s is outside the subnet %s of %s" % (what, value, subnet, ip.address), option=where)
        if special and (parsed == subnet.network_address or (subnet.version == 4 and parsed == subnet.broadcast_address)):
            raise InputError("%s %s is the %s address of %s" % (
                what, value, "network" if parsed == subnet.network_address else "broadcast", subnet), option=where)

    for dhcp_range in dhcp.get("ranges") or []:
        check(dhcp_range.start, dhcp_range.option + ".start", "the range start")
        check(dhcp_range.end, dhcp_range.option + ".end", "the range end")
    for host in dhcp.get("hosts") or []:
        check(host.options["ip"], host.option + ".ip", "the static address")
        if host.options["ip"] == ip.address:
            raise InputError("%s is the network's own address on the bridge, not one for a guest" % host.options["ip"],
                             option=host.option + ".ip")


def _merge_unmodelled_ip(ip, declared_element, record, label):
    """An address of the xml base matched an existing one: carry over its unmodelled parts (TFTP root,
    BOOTP server, localPtr ...)."""
    owned = {"address", "prefix", "netmask", "family"}
    for name, value in declared_element.attrib.items():
        if name not in owned and ip.element.get(name) != value:
            record.add("%s.@%s" % (label, name), ip.element.get(name), value)
            ip.element.set(name, value)
    xm.merge_unmodelled_children(ip.element, declared_element, record, lambda child: "%s.%s" % (label, child.tag),
                                 owned={"dhcp"}, insert=lambda parent, element: ip.insert_child(parent, element, ""),
                                 replace_all=True)
    declared_dhcp, dhcp = declared_element.find("dhcp"), ip.element.find("dhcp")
    if declared_dhcp is None:
        return
    if dhcp is None and any(isinstance(child.tag, str) and child.tag not in ("range", "host")
                            for child in declared_dhcp):
        dhcp = ip.ensure(("dhcp",))  # a declared child to add, and no <dhcp> to add it to yet
    if dhcp is not None:
        xm.merge_unmodelled_children(
            dhcp, declared_dhcp, record, lambda child: "%s.dhcp.%s" % (label, child.tag), owned={"range", "host"},
            insert=lambda parent, element: ip.insert_child(parent, element, "dhcp"), replace_all=True)


# -- live static hosts -----------------------------------------------------------------------------
_COMMAND_NAMES = ("modify", "delete", "add")


def _update_matches(existing, host):
    """Whether libvirt's MODIFY would pick ``existing`` for ``host`` (same mac, ip or name)."""
    return bool((host["mac"] and existing["mac"] == host["mac"]) or existing["ip"] == host["ip"]
                or (host["name"] and existing["name"] == host["name"]))


def host_operations(source, desired):
    """The update() calls that turn the static hosts of every <ip> of ``source`` into those of
    ``desired``, for addresses both have with the same subnet: a list of dicts with ``command``
    (add, modify, delete), ``address``, ``index`` (libvirt's parentIndex) and ``host`` (an entry).

    Deletions come first and additions last, so no step meets a duplicate MAC, name or address; a
    change that libvirt's MODIFY could apply to the wrong entry becomes a deletion and an addition.
    """
    operations = []
    for desired_ip in desired.ips:
        index = source.ip_index(desired_ip.address)
        if index is None:
            continue
        source_ip = source.ips[index]
        if source_ip.subnet != desired_ip.subnet:
            continue
        state = [host.entry() for host in source_ip.hosts]
        wanted = [host.entry() for host in desired_ip.hosts]
        wanted_identities = {host_identity(host) for host in wanted}

        def emit(command, host, address=desired_ip.address, position=index):
            operations.append({"command": command, "address": address, "index": position, "host": host})

        for host in list(state):
            if host_identity(host) not in wanted_identities:
                emit("delete", host)
                state.remove(host)
        deferred = []
        for host in wanted:
            old = next((entry for entry in state if host_identity(entry) == host_identity(host)), None)
            if old is None:
                deferred.append(host)
            elif old != host:
                if [entry for entry in state if _update_matches(entry, host)] == [old]:
                    emit("modify", host)
                    state[state.index(old)] = host
                else:
                    emit("delete", old)
                    state.remove(old)
                    deferred.append(host)
        for host in deferred:
            emit("add", host)
            state.append(host)
    return operations


def _host_xml(host):
    element = DhcpHost()
    element.set_entry(host)
    return element.to_xml()


# -- talking to libvirt ----------------------------------------------------------------------------
def _bridge_owner(connection, bridge, own_name):
    """The other libvirt network whose definition names ``bridge``, or None."""
    try:
        networks = connection.conn.listAllNetworks()
    except libvirt.libvirtError:
        return None
    for other in networks:
        try:
            if other.name() != own_name and Network.from_xml(other.XMLDesc(0)).bridge_name == bridge:
                return other.name()
        except (libvirt.libvirtError, VirtLibvirtError):
            continue  # gone meanwhile, or a document the model refuses: not the owner we can name
    return None


def _persistent_xml(network):
    """The definition the network gets at its next start (libvirt's test driver has only one)."""
    try:
        return network.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
    except libvirt.libvirtError as error:
        if not is_libvirt_error(error, libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
            raise translated_error("reading the definition of the network %s" % network.name(), error) from None
    with translate_libvirt_errors("reading the definition of the network %s" % network.name()):
        return network.XMLDesc(0)


def _live_xml(network):
    with translate_libvirt_errors("reading the live state of the network %s" % network.name()):
        return network.XMLDesc(0)


def _is_persistent(network):
    with translate_libvirt_errors("reading the network %s" % network.name()):
        return bool(network.isPersistent())


class NetworkAdapter(Adapter):
    """How the shared converger brings one network to its declared state: static DHCP hosts of a running
    network go live through update(), everything else to the definition (``restart_required`` until a
    restart); a network this task defined and could not start is removed again."""

    KIND = "network"
    NOUN = "network"
    RESULT_KEY = "network"
    HAS_ACTIVE_STATE = True
    HAS_AUTOSTART = True

    def __init__(self, connection, params, prefix=""):
        super().__init__(connection, params, prefix)
        self.live_updates = []
        self.restart_required = False
        self.created = False
        self.bridge = None
        self.live_xml_read = None
        # The running guests a stop, restart or removal cuts off, and their interfaces plugged in again after.
        self.guests = GuestsOnNetwork(connection)
        self.warnings = self.guests.warnings

    # -- declare, look up, read, plan -------------------------------------------------------------------
    def declare(self):
        # The definition may come along with state absent (decommissioning flips state on the same
        # declaration), but it must be valid: a bad one removes nothing.
        return DeclaredNetwork(self.params, self.prefix)

    def read(self, handle):
        return Network.from_xml(_persistent_xml(handle))

    def plan(self, declared, current, handle):
        plan = NetworkPlan(declared, current)
        self.created = handle is None
        self.bridge = plan.desired.bridge_name
        return plan

    def is_active(self, handle):
        if handle is None:
            return False
        return super().is_active(handle)

    # -- write ------------------------------------------------------------------------------------------
    def write(self, converger, declared, plan, handle):
        was_active = self.is_active(handle)
        if handle is not None and not _is_persistent(handle):
            # A transient network (virsh net-create) gets a definition: every state but absent means defined.
            converger.tracker.add("persistent", False, True)
            handle = self._define(converger, plan.current, declared, ["persistent"]) or handle
        if was_active and declared.state == "inactive":
            self.stop(converger, declared, handle)
            was_active = False
        if was_active:
            handle = self._converge_active(converger, handle, declared, plan)
        elif plan.changed:
            handle = self._define(converger, plan.desired, declared, plan.tracker.fields) or handle
        if was_active:
            self.restart_required = self._restart_pending(handle, plan)
            if self.restart_required and self.params.get("restart"):
                self._restart(converger, handle, declared.name)
                self.restart_required = False
        return handle

    def _define(self, converger, desired, declared, fields):
        option = self.option("xml") if declared.base is not None else None

        def raced():
            # Two runs creating one network: libvirt refuses the second definition ("already exists").
            return self.created and self.connection.lookup("network", declared.name, option=option) is not None

        try:
            return converger.write("defining the network %s" % declared.name,
                                   lambda: self.connection.conn.networkDefineXML(desired.to_xml()), fields,
                                   raced=raced, option=option)
        except VirtLibvirtError as error:
            raise self._explain_bridge_conflict(error) from None

    def _converge_active(self, converger, network, declared, plan):
        """Static hosts go live through update(); the rest is written to the definition. When the hosts
        are the only change and the live network and the definition agree on them, one update() call per
        host changes both at once, as ``virsh net-update --live --config`` does."""
        self.live_xml_read = _live_xml(network)
        live = Network.from_xml(self.live_xml_read)
        live_operations = host_operations(live, plan.desired)
        both = (plan.current is not None and not plan.structural_fields
                and host_operations(plan.current, plan.desired) == live_operations)
        if plan.changed and not both:
            network = self._define(converger, plan.desired, declared, plan.tracker.fields) or network
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        if both:
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        for operation in live_operations:
            field = host_label(operation["address"], operation["host"])
            if field not in converger.tracker.fields:
                # The definition has it already; only the running network lacks it.
                field += " (live)"
                converger.tracker.add(field, operation["command"], describe_host(operation["host"]))
            self.live_updates.append({"command": operation["command"], "ip": operation["address"],
                                      "host": describe_host(operation["host"])})
            self._update_host(converger, network, operation, flags, [field])
        return network

    def _update_host(self, converger, network, operation, flags, fields):
        command = {
            "add": libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
            "modify": libvirt.VIR_NETWORK_UPDATE_COMMAND_MODIFY,
            "delete": libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
        }[operation["command"]]
        action = "updating the static DHCP host %s of the network %s live (%s)" % (
            describe_host(operation["host"]), network.name(), operation["command"])
        converger.write(action, lambda: network.update(command, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
                                                       operation["index"], _host_xml(operation["host"]), flags),
                        fields, raced=lambda: _live_xml(network) != self.live_xml_read, option=self.option("ips"))

    def _restart_pending(self, network, plan):
        """Whether the running network differs from its definition in anything but static hosts."""
        if plan.structural_fields:
            return True
        if network is None:
            return False
        live = Network.from_xml(_live_xml(network))
        return live.summary() != plan.desired.summary()

    def _explain_bridge_conflict(self, error):
        """libvirt names a taken bridge: at define when another network has it, at start when a host
        interface has it. Say which, against bridge.name, instead of libvirt's bare words."""
        text = error.libvirt_message or ""
        if not self.bridge or not re.search(r"(?<![\w.-])%s(?![\w.-])" % re.escape(self.bridge), text):
            return error
        owner = _bridge_owner(self.connection, self.bridge, self.params.get("name"))
        if owner is not None:
            conflict = "the bridge %s is already used by the network %s" % (self.bridge, owner)
        else:
            conflict = "a host interface named %s exists already, not made by libvirt for this network" % self.bridge
        return VirtLibvirtError(
            "%s; choose another bridge.name, or omit it to let libvirt pick a free virbrN (%s)"
            % (conflict, error.message), option=self.option("bridge.name"), libvirt_message=text)

    # -- state ------------------------------------------------------------------------------------------
    def wanted_active(self, declared):
        # state inactive stopped the network before its definition was written (in write()).
        return True if declared.state == "active" else None

    def start(self, converger, declared, handle):
        try:
            # Another run may have started it since it was read: then it is active as declared.
            super().start(converger, declared, handle)
        except VirtLibvirtError as error:
            if self.created:
                # A network this task defined and could not start is removed again: the task changes nothing.
                try:
                    handle.undefine()
                    converger.forget_writes()
                except libvirt.libvirtError:
                    pass
            raise self._explain_bridge_conflict(error) from None
        self.guests.after_start(handle, self.check_mode)

    def stop(self, converger, declared, handle, why="stopped"):
        converger.tracker.add("state", "active", "inactive")
        self.guests.before_stop(handle, why)
        super().stop(converger, declared, handle)

    def _restart(self, converger, network, name):
        converger.tracker.add("state", "active", "active (restarted)")
        self.guests.before_stop(network, "restarted")
        converger.write("stopping the network %s to restart it" % name, network.destroy, [])
        converger.write("starting the network %s again" % name, network.create, ["state"],
                        option=self.option("restart"))
        self.guests.after_start(network, self.check_mode)

    # -- absent -----------------------------------------------------------------------------------------
    def remove(self, converger, declared, handle, before):
        if self.is_active(handle):
            self.stop(converger, declared, handle, "removed")
        if _is_persistent(handle):
            converger.tracker.add("network", "defined", None)
            converger.write("undefining the network %s" % declared.name, handle.undefine, ["network"])

    def absent_description(self, declared):
        return {"name": declared.name, "active": False, "persistent": False}

    # -- reporting --------------------------------------------------------------------------------------
    def extra_result(self):
        result = {"restart_required": self.restart_required, "live_updates": self.live_updates}
        result.update(self.guests.report())
        return result

    def describe(self, handle, plan, declared, check_mode):
        desired, state = plan.desired, declared.state
        if handle is None:
            return {"name": desired.name, "uuid": desired.uuid, "active": state == "active",
                    "autostart": bool(self.params.get("autostart")), "persistent": True,
                    "bridge": desired.bridge_name, "xml": desired.to_xml()}
        with translate_libvirt_errors("describing the network %s" % handle.name()):
            info = {
                "name": handle.name(),
                "uuid": handle.UUIDString(),
                "active": bool(handle.isActive()),
                "autostart": bool(handle.autostart()),
                "persistent": bool(handle.isPersistent()),
                "bridge": Network.from_xml(_live_xml(handle)).bridge_name,
                "xml": Network.from_xml(_persistent_xml(handle)).to_xml(),
            }
        if check_mode:
            # Nothing was changed: report the network as the task would leave it.
            info["xml"] = desired.to_xml()
            info["bridge"] = desired.bridge_name or info["bridge"]
            info["persistent"] = True
            if state in ("active", "inactive"):
                info["active"] = state == "active"
            if self.params.get("autostart") is not None:
                info["autostart"] = self.params["autostart"]
        return info


# -- the module's entry point ----------------------------------------------------------------------
def run_network_module(params, check_mode, want_diff):
    """Converge the single network (``name``) or every network of ``networks`` over one connection."""
    return run_module(NetworkAdapter, params, check_mode, want_diff, "networks", "network", _TASK_LEVEL_OPTIONS,
                      _NETWORK_ITEM_SPEC)


# Task-level options a bulk item inherits when it does not set them.
_TASK_LEVEL_OPTIONS = ("state", "autostart", "restart")
_NETWORK_ITEM_SPEC = item_argument_spec(NETWORK_ITEM_SPEC)
