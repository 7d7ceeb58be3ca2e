# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Changes to a running guest: which changes of a run libvirt applies without a restart, and with which call;
applying them; and what the running guest still lacks of its persistent definition (``pending``).

The persistent definition is written first, in one ``defineXML`` (the domain converger does that). Then each
change this run made to it that libvirt can apply to the running guest is applied with
``VIR_DOMAIN_AFFECT_LIVE`` - the definition holds it already - taking the device as libvirt stored it, so the
running guest and the definition get the same device at the same address. Last, the running guest is read
again and compared with the definition, with the identity and normalisation rules of the plan
(``match_devices``, ``drop_runtime_data``, ``element_contains``): whatever differs is ``pending``, from this run
or any earlier one, and the guest needs a restart for it.
"""
from __future__ import annotations

import copy

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
# The plan's identity and labels (_domain imports this module too: only its module object is taken here).
from ansible_collections.virt.libvirt.plugins.module_utils import _domain as domain_plan
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    libvirt, libvirt_error_text, translate_libvirt_errors, translated_error,
)
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import (
    REMOVABLE_DEVICES, Disk, Domain, Graphics, Interface, device_class, guess_disk_bus,
)

# Buses whose disks are plugged into and out of a running guest: QEMU's virtio, scsi and usb (its IDE, SATA and
# floppy controllers cannot), and Xen's own.
HOTPLUG_DISK_BUSES = ("virtio", "scsi", "usb", "xen")

# Domain fields that are not compared as they are: the balloon's size now (a running guest's currentMemory is
# what the guest gave back, not its target), the vCPU counts (compared as max_vcpu and vcpu below), and what
# never differs between a running guest and its definition.
_NOT_COMPARED = ("name", "uuid", "current_memory", "vcpu", "vcpu_current")
# Typed fields libvirt fills in when the guest starts where the definition leaves them out: the firmware
# auto-selection picks a loader, and a console listens where qemu.conf says.
_FILLED_AT_START = {"Domain": ("loader",), "Graphics": ("listen",)}

RESTART_REASON = "libvirt cannot change it while the guest runs: it takes effect when the guest restarts"
EARLIER_REASON = ("the running guest differs from its persistent definition, changed before this task (by an earlier "
                  "run or outside Ansible): it takes effect when the guest restarts")
NOT_LIVE_REASON = "live: false: written to the persistent definition only; it takes effect when the guest restarts"
UNPLUG_REASON = ("the guest did not release the device (libvirt still lists it): a guest without an operating system, "
                 "or one that ignores the unplug request, keeps it until it restarts")


# -- comparing the running guest with its definition ------------------------------------------------
def comparable(document):
    """A guest document (text or Domain) as it is compared: runtime data dropped as libvirt drops it, the
    spellings libvirt does not store dropped, and what a running guest reports about itself rather than its
    configuration (a CD-ROM's tray, an empty backing chain, the format of a drive with no medium)."""
    domain = Domain.from_xml(document) if isinstance(document, str) else document.copy()
    domain.drop_runtime_data()
    domain.drop_what_libvirt_does_not_store()
    for disk in domain.element.findall("devices/disk"):
        target = disk.find("target")
        if target is not None:
            target.attrib.pop("tray", None)
        for backing in disk.findall("backingStore"):
            if not len(backing) and not backing.attrib:
                disk.remove(backing)
        driver = disk.find("driver")
        if disk.get("device") in REMOVABLE_DEVICES and disk.find("source") is None and driver is not None:
            driver.attrib.pop("type", None)
    return domain


def online_vcpus(domain):
    return domain.vcpu_current or domain.vcpu


def differences(persistent, running):
    """The fields where the running guest (``running``) differs from the persistent definition, both
    ``comparable``: typed fields by value, both ways; elements the model does not type by containment (the
    running guest holds the definition's, and may hold more: libvirt expands a definition when the guest
    starts); devices matched by identity, a device on one side only being a difference."""
    labels = []

    def add(label):
        if label not in labels:
            labels.append(label)

    for name in Domain.fields():
        stored, actual = getattr(persistent, name), getattr(running, name)
        if name in _NOT_COMPARED or (stored is None and name in _FILLED_AT_START["Domain"]):
            continue
        if stored != actual and not (stored in (None, []) and actual in (None, [])):
            add(Domain.OPTION_LABELS.get(name, name))
    ceiling = persistent.vcpu_current is not None or running.vcpu_current is not None
    if persistent.vcpu != running.vcpu:
        add("max_vcpu" if ceiling else "vcpu")
    if ceiling and online_vcpus(persistent) != online_vcpus(running):
        add("vcpu")
    for element in persistent.element:
        if isinstance(element.tag, str) and element.tag not in domain_plan._MODELLED_TOP_LEVEL \
                and not _held(running.element, element):
            add(element.tag)
    stored_os = persistent.element.find("os")
    if stored_os is not None and not any(label.startswith("os.") for label in labels) \
            and not domain_plan.runs_with(running.element.find("os"), stored_os):
        add("os")  # something of <os> the fields do not type (<nvram>, <smbios>, firmware features)
    _feature_settings(persistent, running, add)
    for tag in _device_tags(persistent, running):
        kind = device_class(tag)
        stored_devices, running_devices = _devices(persistent, kind), _devices(running, kind)
        matches = domain_plan.match_devices(stored_devices, running_devices)
        for index, device in enumerate(stored_devices):
            label = domain_plan._device_label(device, None)
            if matches.get(index) is None:
                add(label)  # in the definition, not in the running guest
                continue
            for part in device_differences(device, matches[index]):
                add("%s.%s" % (label, part) if part else label)
        matched = {id(device.element) for device in matches.values()}
        for device in running_devices:
            if id(device.element) not in matched:
                add(domain_plan._device_label(device, None))  # in the running guest, no longer in the definition
    return labels


def _held(parent, element):
    return any(domain_plan.runs_with(candidate, element) for candidate in parent.findall(element.tag))


def _feature_settings(persistent, running, add):
    """Features with settings of their own (``<hyperv>``, ``<kvm>``, ``<vmport state>``): held by the running
    guest's, by containment (the features field compares which features there are)."""
    stored_features, running_features = persistent.find(("features",)), running.find(("features",))
    for feature in stored_features if stored_features is not None else ():
        if not isinstance(feature.tag, str) or (not len(feature) and not feature.attrib):
            continue
        if running_features is None or not _held(running_features, feature):
            add("features." + feature.tag)


def _device_tags(*domains):
    tags = []
    for domain in domains:
        for tag in domain_plan.devices_by_tag(domain):
            if tag not in tags:
                tags.append(tag)
    return tags


def _devices(domain, kind):
    devices = domain.element.find("devices")
    return [kind(element) for element in devices.findall(kind.TAG)] if devices is not None else []


def _typed_values(device):
    """A device's typed values by the name its option has (a disk's file or block path is its ``source``)."""
    values = {}
    for name in type(device).fields():
        if isinstance(device, Disk) and name in ("source_file", "source_dev"):
            values["source"] = device.source
        else:
            values[device.OPTION_LABELS.get(name, name)] = getattr(device, name)
    if isinstance(device, Interface) and values.get("link") is None:
        values["link"] = "up"  # no <link>: the link is up
    return values


def device_differences(stored, running):
    """The parts of device ``stored`` the ``running`` one (matched by identity) lacks: its typed fields that
    differ, both ways (``source``, ``model``, ``password``), or ``''`` when only something the model does not
    type differs (the running device does not hold the stored one)."""
    stored_values, running_values = _typed_values(stored), _typed_values(running)
    filled = _FILLED_AT_START.get(type(stored).__name__, ())
    parts = [name for name, value in stored_values.items()
             if running_values.get(name) != value and not (value is None and name in filled)]
    if not parts and not xm.element_contains(running.element, stored.element):
        parts.append("")
    return parts


# -- what of a run's changes goes live --------------------------------------------------------------
class LiveOperation:
    """One libvirt call that applies a change of the definition to the running guest.

    ``label`` names the device or count (``disks[vdb]``, ``vcpu``), ``fields`` the changes it carries
    (``interfaces[52:54:00:00:10:01].network``). ``reason`` is None when libvirt can apply it live, else why it
    waits for a restart; ``failure`` is set when libvirt refused it.
    """

    def __init__(self, label, action, fields=None, element=None, count=None, reason=None):
        self.label = label
        self.action = action
        self.fields = fields or [label]
        self.element = element
        self.count = count
        self.reason = reason
        self.called = False
        self.failure = None

    @property
    def applicable(self):
        return self.reason is None

    def call(self, domain):
        flags = libvirt.VIR_DOMAIN_AFFECT_LIVE  # the definition holds the change already
        if self.action == "vcpus":
            domain.setVcpusFlags(self.count, flags)
        elif self.action == "memory":
            domain.setMemoryFlags(self.count, flags)
        else:
            method = {"attach": domain.attachDeviceFlags, "detach": domain.detachDeviceFlags,
                      "update": domain.updateDeviceFlags}[self.action]
            method(xm.etree.tostring(self.element, encoding="unicode"), flags)

    def simulate(self, running):
        """What the call does to ``running`` (a comparable document), for check mode and predictions."""
        if self.action == "vcpus":
            running.vcpu_current = self.count if self.count != running.vcpu else None
        elif self.action == "attach":
            running.add_device(device_class(self.element.tag)(copy.deepcopy(self.element)))
        elif self.action in ("detach", "update"):
            kind = device_class(self.element.tag)
            match = domain_plan.match_devices([kind(self.element)], _devices(running, kind)).get(0)
            if match is not None and self.action == "detach":
                running.remove_device(match)
            elif match is not None:
                match.element.getparent().replace(match.element, copy.deepcopy(self.element))


def _covers(operation, fields):
    """Whether one of ``fields`` is the operation's (one of its fields, its device or a part of it)."""
    return any(field in operation.fields or field == operation.label or field.startswith(operation.label + ".")
               for field in fields)


def live_operations(before, after, running):
    """The calls that bring to the running guest what this run changed in its definition (``before`` to
    ``after``), each with the reason it must wait for a restart when libvirt cannot apply it live. All three
    documents are ``comparable``."""
    operations = []
    _vcpu_operation(before, after, running, operations)
    _memory_operation(before, after, running, operations)
    for kind in (Disk, Interface, Graphics):
        _device_operations(kind, before, after, running, operations)
    return operations


def _vcpu_operation(before, after, running, operations):
    wanted = online_vcpus(after)
    if wanted is None or wanted == online_vcpus(before) or wanted == online_vcpus(running):
        return
    reason = None
    if running.vcpu is not None and wanted > running.vcpu:
        reason = ("the running guest can have at most %d vCPUs (its maximum when it started): more wait for a "
                  "restart" % running.vcpu)
    operations.append(LiveOperation("vcpu", "vcpus", count=wanted, reason=reason))


def _memory_operation(before, after, running, operations):
    wanted = after.current_memory
    if wanted is None or wanted == before.current_memory:
        return
    reason = None
    if running.memory is not None and wanted > running.memory:
        reason = ("the balloon cannot give the running guest more than the %d KiB it started with (memory): the "
                  "rest waits for a restart" % running.memory)
    operations.append(LiveOperation("current_memory", "memory", count=wanted, reason=reason))


def _device_operations(kind, before, after, running, operations):
    previous, wanted, present = _devices(before, kind), _devices(after, kind), _devices(running, kind)
    to_previous = domain_plan.match_devices(wanted, previous)
    to_running = domain_plan.match_devices(wanted, present)
    for index, device in enumerate(wanted):
        earlier = to_previous.get(index)
        if earlier is not None and not device_differences(device, earlier) and not device_differences(earlier, device):
            continue  # not changed by this run
        label = domain_plan._device_label(device, None)
        live = to_running.get(index)
        if live is None:
            operations.append(LiveOperation(label, "attach", element=device.element, reason=_plug_refusal(device)))
            continue
        parts = device_differences(device, live)
        if parts:
            operations.append(LiveOperation(
                label, "update", fields=_changed_fields(label, device, parts),
                element=_at_address_of(device.element, live.element), reason=_update_refusal(device, live)))
    kept = {id(device.element) for device in to_previous.values()}
    unclaimed = [device for device in present
                 if id(device.element) not in {id(match.element) for match in to_running.values()}]
    for device in previous:
        if id(device.element) in kept:
            continue  # still defined; removed by this run otherwise:
        live = domain_plan.match_devices([device], unclaimed).get(0)
        if live is not None:
            operations.append(LiveOperation(domain_plan._device_label(device, None), "detach", element=live.element,
                                            reason=_plug_refusal(device)))


# What each kind changes on a running device, as its options name it; the rest of an update waits for a restart.
_LIVE_PARTS = {Disk: ("source",), Interface: ("type", "network", "bridge", "dev", "link"), Graphics: ("password",)}


def _changed_fields(label, device, parts):
    """How ``changes`` names what an update carries: ``disks[hdc].source`` (a new medium, in whatever format),
    ``interfaces[...].network``; the device alone when only what the model does not type changes."""
    named = [part for part in parts if part in _LIVE_PARTS[type(device)]]
    if not named or (len(named) < len(parts) and not isinstance(device, Disk)):
        named += [part for part in parts if part not in named]
    return ["%s.%s" % (label, part) if part else label for part in named]


def _plug_refusal(device):
    if isinstance(device, Graphics):
        return "a graphical console is not plugged into or out of a running guest: it changes when the guest restarts"
    if isinstance(device, Disk):
        bus = device.bus or guess_disk_bus(device.target)
        if bus not in HOTPLUG_DISK_BUSES:
            return ("a disk on the %s bus is not plugged into or out of a running guest (virtio, scsi, usb and xen "
                    "disks are): it changes when the guest restarts" % bus)
    return None


def _update_refusal(device, live):
    """None when all that differs is what libvirt changes on a running device: a CD-ROM's or floppy's medium,
    an interface's source (network or bridge) and link state, a graphical console's password and its expiry."""
    if isinstance(device, Disk) and device.effective_device not in REMOVABLE_DEVICES:
        what = "; ".join(part or "its configuration" for part in device_differences(device, live))
        return ("of a running guest's hard disk only hot-plugging and unplugging is live (%s differs): it changes when "
                "the guest restarts" % what)
    rest = device_differences(_without_live_parts(device), _without_live_parts(live))
    if not rest:
        return None
    return "libvirt cannot change the %s of a running guest's %s: it changes when the guest restarts" % (
        ", ".join(part or "configuration" for part in rest), device.TAG)


def _without_live_parts(device):
    element = copy.deepcopy(device.element)
    if isinstance(device, (Disk, Interface)):
        element.attrib.pop("type", None)
        for tag in ("source", "link"):
            for child in element.findall(tag):
                element.remove(child)
        if isinstance(device, Disk) and element.find("driver") is not None:
            element.find("driver").attrib.pop("type", None)  # the new medium's format
    else:
        for name in ("passwd", "passwdValidTo", "connected"):
            element.attrib.pop(name, None)
    return type(device)(element)


def _at_address_of(element, running_element):
    """``element`` with the guest address the running device has: an update names the device, never moves it."""
    updated = copy.deepcopy(element)
    address = running_element.find("address")
    for old in updated.findall("address"):
        updated.remove(old)
    if address is not None:
        updated.append(copy.deepcopy(address))
    return updated


# -- the running guest, converged -----------------------------------------------------------------
class RunningGuest:
    """A running (or paused) guest whose definition this run may have changed.

    ``converge`` applies what libvirt can apply live and works out ``pending``: every field where the running
    guest differs from its persistent definition after the task, each with its reason.
    """

    def __init__(self, domain, running_xml, check_mode):
        self.domain = domain
        self.running = comparable(running_xml)
        self.check_mode = check_mode
        self.operations = []
        self.applied = []  # the fields that went live (or would, in check mode)
        self.pending = []  # [{"field": ..., "reason": ...}]

    def converge(self, before, after, apply_live=True, restart=False):
        """``before`` and ``after`` are the persistent definition before and after this run (in check mode,
        after as planned). With ``restart`` and a change that needs one anyway, nothing is applied live: the
        restart applies it all at once."""
        before, after = comparable(before), comparable(after)
        self.operations = live_operations(before, after, self.running)
        this_run = differences(after, before)
        predicted = self._predicted(after)
        if not apply_live:
            for operation in self.operations:
                operation.reason = operation.reason or NOT_LIVE_REASON
            remaining = differences(after, self.running)
        elif restart and predicted:
            remaining = differences(after, self.running)  # nothing applied live: the restart applies it all
        elif self.check_mode:
            self.applied = [field for operation in self.operations if operation.applicable
                            for field in operation.fields]
            remaining = predicted
        elif self._apply():
            remaining = differences(after, self._read_running())
            # A call libvirt accepted that the running guest does not show (an unplug the guest never confirmed)
            # did not go live.
            self.applied = [field for operation in self.operations if operation.called and operation.failure is None
                            and not _covers(operation, remaining) for field in operation.fields]
        else:
            remaining = differences(after, self.running)
        self.pending = self._with_reasons(remaining, this_run)
        return self

    def restarted(self):
        """The guest restarted on its new definition: nothing is pending any more."""
        self.pending = []

    def _predicted(self, after):
        simulated = self.running.copy()
        for operation in self.operations:
            if operation.applicable:
                operation.simulate(simulated)
        return differences(after, simulated)

    def _apply(self):
        """Make each call libvirt can make; say whether any was made."""
        called = False
        for operation in self.operations:
            if not operation.applicable:
                continue
            called = operation.called = True
            try:
                operation.call(self.domain)
            except libvirt.libvirtError as error:
                if error.get_error_domain() == libvirt.VIR_FROM_RPC:  # the daemon is gone: that is an error
                    raise translated_error("changing the running guest %s" % self.domain.name(), error) from None
                operation.failure = libvirt_error_text(error)
        return called

    def _read_running(self):
        with translate_libvirt_errors("reading the running guest %s" % self.domain.name()):
            return comparable(self.domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))

    def _with_reasons(self, remaining, this_run):
        pending = [{"field": field, "reason": self._reason(field, this_run)} for field in remaining]
        for operation in self.operations:
            if (operation.failure or not operation.applicable) and not _covers(operation, remaining):
                # A change the comparison cannot see in a running guest (the balloon's target): pending all the same.
                pending.extend({"field": field, "reason": self._operation_reason(operation)}
                               for field in operation.fields)
        return pending

    def _reason(self, field, this_run):
        for operation in self.operations:
            if _covers(operation, [field]):
                if operation.failure or not operation.applicable:
                    return self._operation_reason(operation)
                if operation.action == "detach":
                    return UNPLUG_REASON
                return "libvirt applied it to the running guest, which does not show it: it takes effect when the " \
                       "guest restarts"
        return RESTART_REASON if field in this_run else EARLIER_REASON

    @staticmethod
    def _operation_reason(operation):
        if operation.failure:
            return "libvirt refused to apply it to the running guest (%s): it takes effect when the guest restarts" \
                % operation.failure
        return operation.reason
