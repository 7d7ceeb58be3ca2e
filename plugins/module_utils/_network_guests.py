# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The running guests attached to a virtual network, and plugging them in again after the network restarts.

Stopping a network whose bridge libvirt made (forward mode nat, route, open or none) deletes the bridge, and
the running guests' tap devices fall off it; starting the network makes a new bridge, and libvirt does not put
them back. Each such interface is plugged in again with two live updates of the running guest: to a bridge
interface on the network's bridge (libvirt moves the tap onto it), then back to what it was (the network
takes the port again).

The guest model is imported only once a network starts or stops: a module runs from a zip file, so each
module_utils file it imports is compiled again on every run, and a network task that starts or stops nothing
needs no guest.
"""
from __future__ import annotations

import copy
import os

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    is_libvirt_error, is_local_uri, libvirt, libvirt_error_text, translate_libvirt_errors, translated_error,
)
from ansible_collections.virt.libvirt.plugins.module_utils._network_model import HOST_MODES, Network


class AttachedInterface:
    """One interface of a running guest on the network: as the running guest has it."""

    def __init__(self, domain, guest, element):
        self.domain = domain
        self.guest = guest
        self.element = element

    @property
    def mac(self):
        mac = self.element.find("mac")
        return mac.get("address") if mac is not None else None

    @property
    def tap(self):
        target = self.element.find("target")
        return target.get("dev") if target is not None else None

    def entry(self, **extra):
        return dict({"guest": self.guest, "mac": self.mac}, **extra)


def attached_interfaces(connection, network_name, bridge_name):
    """Every interface of a running guest on the network: type network naming it, or type bridge on its
    bridge. Read from the running guests (a guest changed live counts as it runs)."""
    from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import Domain  # pylint: disable=import-outside-toplevel

    with translate_libvirt_errors("listing the running guests"):
        domains = connection.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    found = []
    for domain in domains:
        try:
            document, guest = domain.XMLDesc(0), domain.name()
        except libvirt.libvirtError as error:
            if is_libvirt_error(error, libvirt.VIR_ERR_NO_DOMAIN):
                continue  # gone since it was listed
            raise translated_error("reading the running guests", error) from None
        for interface in Domain.from_xml(document).interfaces:
            on_network = interface.type == "network" and interface.network == network_name
            on_bridge = interface.type == "bridge" and bridge_name and interface.bridge == bridge_name
            if on_network or on_bridge:
                found.append(AttachedInterface(domain, guest, interface.element))
    return found


class GuestsOnNetwork:
    """What a network's stop, restart or removal does to the running guests attached to it, for the result:
    ``guests`` (their names), ``replugged`` and ``unplugged`` (their interfaces), and warnings."""

    def __init__(self, connection):
        self.connection = connection
        self.guests = []
        self.replugged = []
        self.unplugged = []
        self.warnings = []
        self.restarting = False

    def report(self):
        return {"guests": list(self.guests), "replugged": list(self.replugged), "unplugged": list(self.unplugged)}

    def _note(self, interfaces):
        for interface in interfaces:
            if interface.guest not in self.guests:
                self.guests.append(interface.guest)

    def before_stop(self, network, why):
        """The network is about to stop (``why``: stopped, restarted, removed): name the guests it cuts off."""
        name, bridge = network.name(), _bridge_of(network)
        interfaces = attached_interfaces(self.connection, name, bridge)
        self._note(interfaces)
        self.restarting = why == "restarted"
        if not interfaces or self.restarting or not _libvirt_makes_the_bridge(network):
            return
        self.warnings.append("the network %s is %s under %s: %s cut off until %s starts again (this module plugs "
                             "them back in then)" % (
                                 name, why, _guests_phrase(self.guests), _interfaces_phrase(self.guests),
                                 "a network of that name" if why == "removed" else "it"))

    def after_start(self, network, check_mode):
        """The network (re)started: plug the running guests' interfaces that refer to it into its new bridge."""
        if network is None or not _libvirt_makes_the_bridge(network):
            return  # (a network check mode would define: no guest can be on it)
        # Not started for real in check mode: the bridge it would have is the one its definition names.
        name, bridge = network.name(), _bridge_of(network, inactive=check_mode and not _is_active(network))
        interfaces = attached_interfaces(self.connection, name, bridge)
        self._note(interfaces)
        for interface in interfaces:
            if check_mode:
                self.replugged.append(interface.entry())
                continue
            problem = _replug(interface, name, bridge)
            if problem is None:
                self.replugged.append(interface.entry())
            else:
                self.unplugged.append(interface.entry(reason=problem))
        if self.restarting and interfaces:
            self.warnings.append("the network %s is restarted under %s: %s plugged into its new bridge%s" % (
                name, _guests_phrase(self.guests), _interfaces_phrase(self.guests).replace(" stay", " are"),
                " (replugged), but not all: see unplugged" if self.unplugged else " (replugged)"))
        for entry in self.unplugged:
            self.warnings.append("the interface %s of the running guest %s is not on the network %s: %s" % (
                entry["mac"], entry["guest"], name, entry["reason"]))


def _guests_phrase(names):
    return "the running guest%s %s" % ("s" if len(names) > 1 else "", ", ".join(sorted(names)))


def _interfaces_phrase(names):
    return "their interfaces stay" if len(names) > 1 else "its interfaces stay"


def _is_active(network):
    with translate_libvirt_errors("reading the state of the network %s" % network.name()):
        return bool(network.isActive())


def _network_document(network, inactive=False):
    flags = libvirt.VIR_NETWORK_XML_INACTIVE if inactive else 0
    with translate_libvirt_errors("reading the network %s" % network.name()):
        return Network.from_xml(network.XMLDesc(flags))


def _bridge_of(network, inactive=False):
    return _network_document(network, inactive).bridge_name


def _libvirt_makes_the_bridge(network):
    """Whether the network has a bridge of its own (nat, route, open, none), which a stop deletes; a host
    bridge or NIC (forward mode bridge, macvtap modes) outlives the network and its guests stay on it."""
    return _network_document(network).forward_mode not in HOST_MODES


def _replug(interface, network_name, bridge):
    """Plug ``interface`` into ``bridge`` again; None when done, else what went wrong."""
    if not bridge:
        return "the network has no bridge"
    original = _as_configured(interface.element)
    detour = copy.deepcopy(original)
    source = detour.find("source")
    for name in list(source.attrib):
        source.attrib.pop(name)
    if original.get("type") == "network":
        detour.set("type", "bridge")
        source.set("bridge", bridge)
    else:
        detour.set("type", "network")
        source.set("network", network_name)
    flags = libvirt.VIR_DOMAIN_AFFECT_LIVE
    try:
        for document in (detour, original):
            interface.domain.updateDeviceFlags(xm.etree.tostring(document, encoding="unicode"), flags)
    except libvirt.libvirtError as error:
        if error.get_error_domain() == libvirt.VIR_FROM_RPC:
            raise translated_error("plugging the guest %s into the network %s" % (interface.guest, network_name),
                                   error) from None
        return "libvirt refused to plug it in again (%s); restart the guest, or detach and attach the interface" \
            % libvirt_error_text(error)
    if not _on_bridge(interface.domain, interface.tap, bridge):
        return "its tap device %s is not on the bridge %s after the update; restart the guest" % (interface.tap, bridge)
    return None


def _as_configured(element):
    """The running interface as a device document: without what the network fills in while it runs."""
    from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import (  # pylint: disable=import-outside-toplevel
        is_generated_interface_name,
    )

    configured = copy.deepcopy(element)
    source = configured.find("source")
    if source is None:
        source = xm.etree.SubElement(configured, "source")
    if configured.get("type") == "network":
        source.attrib.pop("bridge", None)
    source.attrib.pop("portid", None)
    target = configured.find("target")
    if target is not None and is_generated_interface_name(target.get("dev")):
        configured.remove(target)  # the tap libvirt named: it keeps it (a name the user chose is sent as it is)
    return configured


def _on_bridge(domain, tap, bridge):
    """Whether the host says ``tap`` is a port of ``bridge``; True when it cannot be read here (a remote host)."""
    try:
        uri = domain.connect().getURI()
    except libvirt.libvirtError:
        return True
    if not is_local_uri(uri) or not tap or not os.path.isdir("/sys/class/net/%s" % tap):
        return True
    master = "/sys/class/net/%s/master" % tap
    return os.path.islink(master) and os.path.basename(os.readlink(master)) == bridge
