# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The logic behind the virt.libvirt.libvirt_guests inventory plugin.

Reading is one step (``read_guests``: every URI's guests as plain, JSON-ready records, which is what the
inventory cache stores) and building is another (``inventory_hosts``: records into host names, host
variables and groups), so options that only shape the inventory apply to cached records too.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    DEFAULT_URI, LibvirtConnection, is_libvirt_error, libvirt, libvirt_error_text,
)
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import POWER_STATE_NAMES, Domain
from ansible_collections.virt.libvirt.plugins.module_utils._errors import VirtLibvirtError

try:
    # Imported only to tell whether lxml is there: the domain model needs it.
    import lxml.etree  # noqa: F401 pylint: disable=unused-import
    HAS_LXML = True
except ImportError:
    HAS_LXML = False

# Mirrored by the choices in plugins/inventory/libvirt_guests.py.
POWER_STATES = tuple(POWER_STATE_NAMES[code] for code in sorted(POWER_STATE_NAMES))
ADDRESS_SOURCES = ("lease", "agent", "arp")
DEFAULT_ADDRESS_SOURCES = ("lease", "agent")
HOST_NAMINGS = ("name", "hypervisor_and_name", "uuid")
HYPERVISOR_NAMINGS = ("uri", "libvirt")
ANSIBLE_HOST_CHOICES = ("prefer_ipv4", "prefer_ipv6", "ipv4", "ipv6", "none")
ON_URI_ERROR_CHOICES = ("fail", "warn")

# Parallel connections when several URIs are listed: most of the time goes into round trips to remote
# daemons, and libvirt releases the GIL while it waits.
MAX_PARALLEL_URIS = 8

_GROUP_UNSAFE = re.compile(r"[^a-z0-9_]")


def missing_libraries_message():
    """Why the plugin cannot run on this controller, or None."""
    missing = []
    if libvirt is None:
        missing.append("libvirt-python (Python module 'libvirt')")
    if not HAS_LXML:
        missing.append("lxml (Python module 'lxml')")
    if not missing:
        return None
    return ("the virt.libvirt.libvirt_guests inventory plugin runs on the Ansible controller and needs %s "
            "installed in the Python that runs Ansible; install it there, for example with "
            "'pip install libvirt-python lxml' (libvirt's C library and headers are needed to build "
            "libvirt-python) or the distribution's package (python3-libvirt, python3-lxml)"
            % " and ".join(missing))


# -- options -------------------------------------------------------------------------------------------

def _string_list(value, option, choices=None, allow_empty=False):
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise VirtLibvirtError("must be a list, got %s" % type(value).__name__, option=option)
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise VirtLibvirtError("item %d must be a non-empty string, got %r" % (index + 1, item), option=option)
        item = item.strip()
        if choices is not None and item not in choices:
            raise VirtLibvirtError("%r is not one of %s" % (item, ", ".join(choices)), option=option)
        if item not in items:
            items.append(item)
    if not items and not allow_empty:
        raise VirtLibvirtError("must list at least one item", option=option)
    return items


def _choice(value, option, choices):
    if value not in choices:
        raise VirtLibvirtError("%r is not one of %s" % (value, ", ".join(choices)), option=option)
    return value


class InventorySettings:
    """The plugin's own options, checked once; errors name the option."""

    OPTION_NAMES = ("uris", "read_only", "states", "include_names", "exclude_names", "address_sources",
                    "hypervisor_naming", "host_naming", "host_name_separator", "ansible_host_address",
                    "group_prefix", "on_uri_error")

    def __init__(self, options):
        uris = options.get("uris")
        self.uris = _string_list([DEFAULT_URI] if uris is None else uris, "uris")
        self.read_only = bool(options.get("read_only"))
        self.states = _string_list(options.get("states"), "states", POWER_STATES, allow_empty=True) or None
        self.include_names = _string_list(options.get("include_names"), "include_names", allow_empty=True) or None
        self.exclude_names = _string_list(options.get("exclude_names"), "exclude_names", allow_empty=True) or []
        sources = options.get("address_sources")
        self.address_sources = _string_list(
            list(DEFAULT_ADDRESS_SOURCES) if sources is None else sources, "address_sources", ADDRESS_SOURCES,
            allow_empty=True)
        self.hypervisor_naming = _choice(options.get("hypervisor_naming") or "uri", "hypervisor_naming",
                                         HYPERVISOR_NAMINGS)
        self.host_naming = _choice(options.get("host_naming") or "name", "host_naming", HOST_NAMINGS)
        separator = options.get("host_name_separator")
        self.host_name_separator = "_" if separator is None else str(separator)
        if self.host_naming == "hypervisor_and_name" and (
                not self.host_name_separator or re.search(r"[\s,:]", self.host_name_separator)):
            # ',' and ':' separate host patterns in --limit; whitespace splits them.
            raise VirtLibvirtError("must be non-empty and contain no whitespace, ',' or ':', got %r"
                                   % self.host_name_separator, option="host_name_separator")
        self.ansible_host_address = _choice(options.get("ansible_host_address") or "prefer_ipv4",
                                            "ansible_host_address", ANSIBLE_HOST_CHOICES)
        prefix = options.get("group_prefix")
        self.group_prefix = "libvirt_" if prefix is None else str(prefix)
        if self.group_prefix and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", self.group_prefix):
            raise VirtLibvirtError("must be letters, digits and '_' and not start with a digit (a valid group "
                                   "name), got %r" % self.group_prefix, option="group_prefix")
        self.on_uri_error = _choice(options.get("on_uri_error") or "fail", "on_uri_error", ON_URI_ERROR_CHOICES)

    def fetch_fingerprint(self):
        """What the fetched records depend on; a cached inventory read with other values is not reused."""
        return {"uris": list(self.uris), "read_only": self.read_only, "states": self.states,
                "include_names": self.include_names, "exclude_names": list(self.exclude_names),
                "address_sources": list(self.address_sources), "hypervisor_naming": self.hypervisor_naming}

    def wants_name(self, name):
        if self.include_names is not None and not any(fnmatch.fnmatchcase(name, p) for p in self.include_names):
            return False
        return not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.exclude_names)

    def wants_state(self, state):
        return self.states is None or state in self.states


# -- addresses (pure: libvirt's interfaceAddresses() answers in, addresses out) ---------------------------

def _family_and_usable(text):
    """'ipv4'/'ipv6' for an address a controller can reach, or None (loopback, link-local, garbage)."""
    try:
        address = ipaddress.ip_address(str(text))
    except ValueError:
        return None
    if address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast:
        return None
    return "ipv%d" % address.version


def merge_addresses(interfaces, reports):
    """Attach the addresses of ``reports`` to the guest's ``interfaces``; return every address once.

    ``interfaces`` are the guest's NICs (dicts with ``mac``), in definition order. ``reports`` are
    ``(source, answer)`` pairs in priority order, ``answer`` being what ``interfaceAddresses()`` returned:
    ``{name: {'hwaddr': mac, 'addrs': [{'addr', 'prefix', 'type'}]}}``. Addresses are matched to NICs by
    MAC, so what the guest agent reports for loopback or bridges inside the guest is left out. The result
    is ordered by source priority, then by NIC order, then as libvirt reported them.
    """
    ordered = []
    for interface in interfaces:
        interface.setdefault("addresses", [])
    for source, answer in reports:
        for interface in interfaces:
            mac = (interface.get("mac") or "").lower()
            if not mac:
                continue
            for entry in (answer or {}).values():
                if str((entry or {}).get("hwaddr") or "").lower() != mac:
                    continue
                for reported in entry.get("addrs") or ():
                    text = str(reported.get("addr") or "")
                    family = _family_and_usable(text)
                    if family is None or any(a["address"] == text for a in interface["addresses"]):
                        continue
                    interface["addresses"].append(
                        {"address": text, "prefix": reported.get("prefix"), "family": family, "source": source})
                    if text not in ordered:
                        ordered.append(text)
    return ordered


def choose_ansible_host(addresses, preference):
    """The address Ansible connects to, from the ordered ``addresses``, or None."""
    if preference == "none":
        return None
    by_family = {"ipv4": [], "ipv6": []}
    for text in addresses:
        family = _family_and_usable(text)
        if family:
            by_family[family].append(text)
    if preference == "ipv4":
        order = ("ipv4",)
    elif preference == "ipv6":
        order = ("ipv6",)
    elif preference == "prefer_ipv6":
        order = ("ipv6", "ipv4")
    else:
        order = ("ipv4", "ipv6")
    for family in order:
        if by_family[family]:
            return by_family[family][0]
    return None


# -- reading libvirt ----------------------------------------------------------------------------------

def _source_flag(source):
    return {
        "lease": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
        "agent": libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT,
        "arp": getattr(libvirt, "VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP", 2),
    }[source]


def hypervisor_name(uri, libvirt_hostname, naming):
    """The hypervisor a URI reaches: the URI's host, or libvirt's hostname for local URIs (or always)."""
    if naming == "uri":
        host = urlsplit(uri).hostname
        if host:
            return host
    return libvirt_hostname


def safe_group_name(*parts):
    """A valid Ansible group name (letters, digits, '_'), lower-case, from ``parts`` joined by '_'."""
    return _GROUP_UNSAFE.sub("_", "_".join(str(part) for part in parts if part != "").lower())


def _interface_record(interface):
    return {"mac": interface.mac, "type": interface.type,
            "source": interface.network or interface.bridge or interface.source_dev,
            "model": interface.model, "target": interface.target, "addresses": []}


class _GuestReader:
    """Reads the guests of one open connection into records."""

    def __init__(self, connection, settings, log):
        self.connection = connection
        self.settings = settings
        self.log = log

    def read_all(self):
        domains = self.connection.call("listing the guests at %s" % self.connection.uri,
                                       self.connection.conn.listAllDomains, 0)
        guests = []
        for domain in domains:
            try:
                guest = self._read(domain)
            except libvirt.libvirtError as error:
                if is_libvirt_error(error, libvirt.VIR_ERR_NO_DOMAIN):
                    continue  # undefined while we were reading it: it is not there any more
                text = libvirt_error_text(error)
                raise VirtLibvirtError("reading the guest %s at %s failed: %s"
                                       % (domain.name(), self.connection.uri, text), libvirt_message=text) from None
            if guest is not None:
                guests.append(guest)
        guests.sort(key=lambda guest: guest["name"])
        return guests

    def _read(self, domain):
        name = domain.name()
        if not self.settings.wants_name(name):
            return None
        state = POWER_STATE_NAMES.get(domain.state()[0], "unknown")
        if not self.settings.wants_state(state):
            return None
        # The live definition: a running guest's tap devices and the MACs it really uses.
        definition = Domain.from_xml(domain.XMLDesc(0), option="the definition of the guest %s" % name)
        persistent = bool(domain.isPersistent())
        interfaces = [_interface_record(interface) for interface in definition.interfaces]
        addresses = merge_addresses(interfaces, self._address_reports(domain, name, state))
        domain_id = domain.ID()
        return {
            "name": name, "uuid": domain.UUIDString(), "id": domain_id if domain_id >= 0 else None,
            "type": definition.type, "os_type": definition.os_type, "arch": definition.os_arch,
            "state": state, "persistent": persistent, "autostart": self._autostart(domain, persistent),
            "memory_kib": definition.memory, "current_memory_kib": definition.current_memory,
            "vcpu": definition.vcpu, "interfaces": interfaces, "addresses": addresses,
        }

    @staticmethod
    def _autostart(domain, persistent):
        if not persistent:
            return False
        try:
            return bool(domain.autostart())
        except libvirt.libvirtError:
            return False  # a driver without autostart: the guest is not started with the host

    def _address_reports(self, domain, name, state):
        if state not in ("running", "paused", "blocked"):
            return []  # libvirt has addresses only for guests that run
        reports = []
        for source in self.settings.address_sources:
            if source == "agent" and (self.settings.read_only or state != "running"):
                # libvirt refuses the agent on read-only connections, and a paused guest cannot answer.
                continue
            try:
                answer = domain.interfaceAddresses(_source_flag(source), 0)
            except libvirt.libvirtError as error:
                # Expected often: no agent in the guest, a driver without this source. Not an error.
                self.log("%s: no addresses from %s for %s: %s"
                         % (self.connection.uri, source, name, libvirt_error_text(error)))
                continue
            reports.append((source, answer or {}))
        return reports


def read_uri(uri, settings, log=None):
    """The guests of one URI: ``{'uri', 'hypervisor', 'guests': [record, ...]}``."""
    log = log or (lambda message: None)
    with LibvirtConnection(uri, read_only=settings.read_only) as connection:
        libvirt_hostname = None
        if settings.hypervisor_naming == "libvirt" or not urlsplit(uri).hostname:
            libvirt_hostname = connection.call("reading the hostname of %s" % uri, connection.conn.getHostname)
        guests = _GuestReader(connection, settings, log).read_all()
    return {"uri": uri, "hypervisor": hypervisor_name(uri, libvirt_hostname, settings.hypervisor_naming),
            "guests": guests}


def read_guests(settings, log=None):
    """Every URI's guests; with ``on_uri_error: warn`` a URI that fails is listed in ``skipped``."""
    def read_one(uri):
        try:
            return read_uri(uri, settings, log), None
        except VirtLibvirtError as error:
            return None, error

    workers = max(1, min(MAX_PARALLEL_URIS, len(settings.uris)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(read_one, settings.uris))
    fetched = {"settings": settings.fetch_fingerprint(), "uris": [], "skipped": []}
    for uri, (record, error) in zip(settings.uris, outcomes):
        if error is None:
            fetched["uris"].append(record)
            continue
        # The URI is the problem whichever call failed, so the message names the uris option once.
        message = error.message
        if error.libvirt_message and error.libvirt_message not in message:
            message = "%s (libvirt: %s)" % (message, error.libvirt_message)
        if settings.on_uri_error == "warn":
            fetched["skipped"].append({"uri": uri, "message": message})
        else:
            raise VirtLibvirtError("%s (set on_uri_error: warn to skip a URI that fails)" % message,
                                   option="uris", libvirt_message=error.libvirt_message, uri=uri)
    return fetched


# -- building the inventory ---------------------------------------------------------------------------

def _host_name(guest, hypervisor, settings):
    if settings.host_naming == "uuid":
        return guest["uuid"]
    if settings.host_naming == "hypervisor_and_name":
        return "%s%s%s" % (hypervisor, settings.host_name_separator, guest["name"])
    return guest["name"]


def host_variables(guest, uri, hypervisor, settings):
    variables = {"libvirt_%s" % key: value for key, value in guest.items()}
    variables["libvirt_uri"] = uri
    variables["libvirt_hypervisor"] = hypervisor
    ansible_host = choose_ansible_host(guest["addresses"], settings.ansible_host_address)
    if ansible_host is not None:
        variables["ansible_host"] = ansible_host
    return variables


def host_groups(guest, hypervisor, settings):
    prefix = settings.group_prefix
    groups = [safe_group_name(prefix + "guests"), safe_group_name(prefix + "host", hypervisor)]
    if guest.get("type"):
        groups.append(safe_group_name(prefix + "type", guest["type"]))
    groups.append(safe_group_name(prefix + "state", guest["state"]))
    return groups


def inventory_hosts(fetched, settings):
    """``[(host name, host variables, group names)]`` for the fetched records, in URI then name order.

    Two guests that would get the same host name are an error rather than one silently hiding the other.
    """
    hosts = []
    seen = {}
    for uri_record in fetched["uris"]:
        uri, hypervisor = uri_record["uri"], uri_record["hypervisor"]
        for guest in uri_record["guests"]:
            host = _host_name(guest, hypervisor, settings)
            if host in seen:
                raise VirtLibvirtError(
                    "the host name %r would be given to the guest %s at %s and to the guest %s at %s; use "
                    "host_naming: %s, or states/include_names/exclude_names to list only one of them"
                    % (host, seen[host][1], seen[host][0], guest["name"], uri,
                       "uuid" if settings.host_naming == "hypervisor_and_name" else "hypervisor_and_name (or uuid)"),
                    option="host_naming")
            seen[host] = (uri, guest["name"])
            hosts.append((host, host_variables(guest, uri, hypervisor, settings),
                          host_groups(guest, hypervisor, settings)))
    return hosts
