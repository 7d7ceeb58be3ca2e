# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Converging one guest (or a list of guests) on libvirt: the logic behind virt.libvirt.domain."""
from __future__ import annotations

import copy
import ipaddress
import re
import time

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._bulk import bulk_argument_spec, item_argument_spec
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    is_libvirt_error, libvirt, translate_libvirt_errors,
)
from ansible_collections.virt.libvirt.plugins.module_utils._converge import Adapter, run_module
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import (
    CONSOLE_TYPES, DEVICE_CLASSES, DISK_BUSES, DISK_DEVICES, DISK_TYPES, DOMAIN_OPTIONS, EMPTY_MEDIUM,
    GENERATED_INTERFACE_PREFIXES, GRAPHICS_TYPES, INTERFACE_TYPES, LINK_STATES, MASK, POWER_STATE_NAMES,
    REMOVABLE_DEVICES, Console, Disk, Domain, Graphics, Interface, Video, check_unique_disk_targets, device_class,
    is_generated_interface_name, secret_values_in_xml,
)
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._module import VirtLibvirtModule
from ansible_collections.virt.libvirt.plugins.module_utils._options import argument_spec
from ansible_collections.virt.libvirt.plugins.module_utils._options import normalize as normalize_options

STATES = ("present", "running", "paused", "shutdown", "destroyed", "absent")

# The features a new x86 HVM guest gets when it declares none, as virt-install gives them.
X86_HVM_FEATURES = ("acpi", "apic")
X86_ARCHES = ("x86_64", "i686")

# -- argument spec (the module file and the bulk form's items share it) ----------------------------
_DISK_SPEC = {
    "type": {"type": "str", "choices": list(DISK_TYPES)},
    "device": {"type": "str", "choices": list(DISK_DEVICES)},
    "source": {"type": "str"},
    "target": {"type": "str", "required": True},
    "bus": {"type": "str", "choices": list(DISK_BUSES)},
    "readonly": {"type": "bool"},
    "driver_name": {"type": "str"},
    "driver_type": {"type": "str"},
    "volume": {"type": "str"},
    "pool": {"type": "str"},
}
_INTERFACE_SPEC = {
    "type": {"type": "str", "required": True, "choices": list(INTERFACE_TYPES)},
    "network": {"type": "str"},
    "bridge": {"type": "str"},
    "dev": {"type": "str"},
    "address": {"type": "str"},
    "port": {"type": "int"},
    "mac": {"type": "str"},
    "target": {"type": "str"},
    "script": {"type": "str"},
    "model": {"type": "str"},
    "ip": {"type": "str"},
    "link": {"type": "str", "choices": list(LINK_STATES)},
}
_CONSOLE_SPEC = {
    "type": {"type": "str", "choices": list(CONSOLE_TYPES)},
    "tty": {"type": "str"},
    "target_type": {"type": "str"},
    "target_port": {"type": "int"},
}
_GRAPHICS_SPEC = {
    "type": {"type": "str", "required": True, "choices": list(GRAPHICS_TYPES)},
    "port": {"type": "int"},
    "autoport": {"type": "bool"},
    "listen": {"type": "str"},
    "password": {"type": "str", "no_log": True},
}
DOMAIN_ITEM_SPEC = argument_spec(
    DOMAIN_OPTIONS,
    name={"type": "str"},
    state={"type": "str", "default": "present", "choices": list(STATES)},
    autostart={"type": "bool"},
    xml={"type": "str"},
    # vcpu and max_vcpu are not a row of DOMAIN_OPTIONS: with max_vcpu, vcpu is the number online (DomainPlan).
    vcpu={"type": "int"},
    max_vcpu={"type": "int"},
    disks={"type": "list", "elements": "dict", "options": _DISK_SPEC},
    interfaces={"type": "list", "elements": "dict", "options": _INTERFACE_SPEC},
    consoles={"type": "list", "elements": "dict", "options": _CONSOLE_SPEC},
    graphics={"type": "list", "elements": "dict", "options": _GRAPHICS_SPEC},
    purge_devices={"type": "bool", "default": False},
    restart={"type": "bool", "default": False},
    live={"type": "bool", "default": True},
    force={"type": "bool", "default": False},
    shutdown_timeout={"type": "int", "default": 120},
    remove_storage={"type": "bool", "default": False},
)


def domain_argument_spec():
    return bulk_argument_spec(DOMAIN_ITEM_SPEC, "domains")


DOMAIN_MUTUALLY_EXCLUSIVE = [("name", "domains")]
DOMAIN_REQUIRED_ONE_OF = [("name", "domains")]


# -- declared state --------------------------------------------------------------------------------
class DeclaredDomain:
    """The user's options, validated and normalised with the model's own codecs.

    Nothing here talks to libvirt: every error in the input is found before the host is touched.
    """

    def __init__(self, params, prefix=""):
        self.prefix = prefix
        self.state = params.get("state") or "present"
        self.purge_devices = bool(params.get("purge_devices"))
        fields = Domain.fields()
        self.name = fields["name"].normalize(params.get("name"), self._opt("name")) if params.get("name") else None
        if self.name is None:
            raise InputError("is required", option=self._opt("name"))
        self.base = Domain.from_user_xml(params["xml"], self._opt("xml")) if params.get("xml") else None
        if self.base is not None:
            if self.base.name and self.base.name != self.name:
                raise InputError("names the guest %r but the task's name is %r" % (self.base.name, self.name),
                                 option=self._opt("xml"))
        self.fields = normalize_options(DOMAIN_OPTIONS, params, Domain, self.prefix)
        # vcpu and max_vcpu are not fields of their own: with max_vcpu, vcpu is the number online (DomainPlan).
        self.vcpu = fields["vcpu"].normalize(params.get("vcpu"), self._opt("vcpu"))
        self.max_vcpu = fields["vcpu"].normalize(params.get("max_vcpu"), self._opt("max_vcpu"))
        if self.max_vcpu is not None and self.vcpu is not None and self.vcpu > self.max_vcpu:
            raise InputError("%d vCPUs online is more than max_vcpu (%d), the most the guest can have"
                             % (self.vcpu, self.max_vcpu), option=self._opt("vcpu"))
        numa_memory = self.base.numa_memory() if self.base is not None else None
        if numa_memory is not None and self.fields["memory"] not in (None, numa_memory):
            raise InputError("the NUMA cells of xml add up to %d KiB, and libvirt gives the guest what its cells add "
                             "up to; change the cells' memory in xml instead" % numa_memory, option=self._opt("memory"))
        self.devices = {}
        for kind, normalizer in (("disks", self._disk), ("interfaces", self._interface),
                                 ("consoles", self._console), ("graphics", self._graphics)):
            items = params.get(kind)
            if items is None:
                self.devices[kind] = None
                continue
            options = [self._opt("%s[%d]" % (kind, index)) for index in range(len(items))]
            self.devices[kind] = [DEVICE_CLASSES[kind].from_options(normalizer(item or {}, option), option)
                                  for item, option in zip(items, options)]
        if self.devices["disks"]:
            check_unique_disk_targets(self.devices["disks"], self._opt("disks"))
            self._empty_media(params["disks"])
        _check_unique_macs([i.mac for i in self.devices["interfaces"] or []], self._opt("interfaces"))
        if self.base is not None:
            # libvirt defines a guest with two NICs of one MAC; it fails only when the guest starts.
            # A virtio failover pair (<teaming>) shares its MAC by design.
            _check_unique_macs([i.mac for i in self.base.interfaces if i.element.find("teaming") is None],
                               self._opt("xml"))

    def _opt(self, name):
        return self.prefix + name

    def _empty_media(self, items):
        """A CD-ROM or floppy declared with no medium (``source`` null or omitted, or ``source: ''``) is
        ejected: its source is EMPTY_MEDIUM, not "not declared"."""
        for item, disk in zip(items, self.devices["disks"]):
            item = item or {}
            if any(item.get(key) for key in ("source", "volume", "pool")):
                continue
            if disk.device in REMOVABLE_DEVICES or (item.get("source") == "" and disk.device is None):
                disk.settle("source", EMPTY_MEDIUM)
            elif item.get("source") == "":
                raise InputError("'' (no medium) is only for a cdrom or floppy, and this is a %s" % disk.device,
                                 option=disk.option + ".source")

    def structured_only(self):
        """The same declaration without its xml base."""
        clone = copy.copy(self)
        clone.base = None
        return clone

    @staticmethod
    def _normalize(model_class, item, option, names):
        fields = model_class.fields()
        values = {}
        for option_name, field_name in names:
            value = item.get(option_name)
            values[field_name] = fields[field_name].normalize(value, "%s.%s" % (option, option_name))
        return values

    def _disk(self, item, option):
        values = self._normalize(Disk, item, option, (
            ("type", "type"), ("device", "device"), ("target", "target"), ("bus", "bus"),
            ("driver_name", "driver_name"), ("driver_type", "driver_type")))
        if values["target"] is None:
            raise InputError("is required", option=option + ".target")
        values["source"] = xm.TEXT.normalize(item["source"], option + ".source") if item.get("source") else None
        values["readonly"] = item.get("readonly")
        _disk_on_volume(values, item, option)
        return values

    def _interface(self, item, option):
        values = self._normalize(Interface, item, option, (
            ("type", "type"), ("network", "network"), ("bridge", "bridge"), ("dev", "source_dev"),
            ("address", "address"), ("port", "port"), ("mac", "mac"), ("target", "target"),
            ("script", "script"), ("model", "model"), ("ip", "ip"), ("link", "link")))
        kind = values["type"]
        needs = {"network": ("network",), "bridge": ("bridge",), "mcast": ("address", "port"),
                 "server": ("port",), "client": ("address", "port"), "udp": ("address", "port"),
                 "direct": ("source_dev",)}.get(kind, ())
        for field in needs:
            if values[field] is None:
                raise InputError("an interface of type %s needs %s" % (kind, "dev" if field == "source_dev" else field),
                                 option="%s.%s" % (option, "dev" if field == "source_dev" else field))
        for field in ("address", "ip"):
            if values[field] is not None:
                _check_address(values[field], option + "." + field, hostname_allowed=field == "address")
        if is_generated_interface_name(values["target"]):
            raise InputError(
                "%r starts with %s, which libvirt keeps for the names it generates: it drops such a target from "
                "the definition and picks its own when the guest starts. Choose another name (at most 15 "
                "characters) or omit target" % (values["target"], "/".join(GENERATED_INTERFACE_PREFIXES)),
                option=option + ".target")
        if kind == "mcast" and values["address"] and not _is_multicast(values["address"]):
            raise InputError("%s is not a multicast address (224.0.0.0/4); an mcast tunnel needs one"
                             % values["address"], option=option + ".address")
        return values

    def _console(self, item, option):
        values = self._normalize(Console, item, option, (
            ("type", "type"), ("target_type", "target_type"), ("target_port", "target_port")))
        tty = item.get("tty")
        if tty is not None:
            tty = xm.TEXT.normalize(tty, option + ".tty")
        if (values["type"] or "pty") == "pty":
            # A pty console's tty is allocated by the host at start: it is reported, never configured.
            values["source_path"] = None
        else:
            values["source_path"] = tty
        return values

    def _graphics(self, item, option):
        values = self._normalize(Graphics, item, option, (
            ("type", "type"), ("port", "port"), ("autoport", "autoport"), ("listen", "listen")))
        values["password"] = item.get("password")
        if values["type"] == "vnc" and values["password"] is not None and len(values["password"]) > 8:
            # The VNC protocol's limit; libvirt refuses longer ones, so say it before touching the host.
            raise InputError("a VNC password is at most 8 characters, got %d" % len(values["password"]),
                             option=option + ".password")
        # libvirt's two spellings of "pick a free port": port -1 and autoport yes.
        if values["port"] == -1 or (values["autoport"] and values["port"] is None):
            # Picked at each start, so not part of the definition: libvirt drops it.
            values["port"], values["autoport"] = None, True
        elif values["port"] is not None:
            if values["autoport"]:
                raise InputError("autoport: true conflicts with a fixed port %d" % values["port"],
                                 option=option + ".autoport")
            values["autoport"] = False
        return values


def _check_unique_macs(macs, option):
    macs = [mac for mac in macs if mac]
    duplicates = sorted({mac for mac in macs if macs.count(mac) > 1})
    if duplicates:
        raise InputError("the MAC address %s is declared more than once" % duplicates[0], option=option)


_HOSTNAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")


def _check_address(value, option, hostname_allowed):
    """An IPv4 or IPv6 address (or, where QEMU resolves it, a host name): refused here, not by libvirt at
    define time (an <ip> it cannot parse) or by QEMU at start (a tunnel to nowhere)."""
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    looks_numeric = re.match(r"^[0-9.]+$", value) or ":" in value
    if hostname_allowed and not looks_numeric and len(value) <= 253 and _HOSTNAME.match(value):
        return
    raise InputError("%r is not an IPv4 or IPv6 address%s" % (value, " or a host name" if hostname_allowed else ""),
                     option=option)


def _is_multicast(address):
    try:
        first = int(address.split(".")[0])
    except ValueError:
        return ":" in address and address.lower().startswith("ff")
    return 224 <= first <= 239


# -- merging declared state onto the current definition --------------------------------------------
# The elements the model's fields own; what a user's document says anywhere else is kept as written.
_MODELLED_TOP_LEVEL = Domain.owned_tags()
_MODELLED_OS_CHILDREN = Domain.owned_tags("os")


def _device_fields(device):
    """The modelled values of a device read from a user's document, shaped like declared options."""
    values = {name: getattr(device, name) for name in device.fields()
              if name not in ("source_file", "source_dev") or not isinstance(device, Disk)}
    if isinstance(device, Disk):
        values["source"] = device.source
        values["readonly"] = device.readonly or None
    if isinstance(device, Graphics) and values.get("port") == -1:
        values["port"], values["autoport"] = None, True
    return values


def _merge_unmodelled(target_parent, declared_parent, modelled_tags, tracker, label):
    """Merge children of ``declared_parent`` the model does not name into ``target_parent`` (the guest's
    top level, ``<os>``, a device and its typed children), each change labelled ``label`` and its tag
    (``os.bootmenu``, ``disks[vda].iotune``)."""
    xm.merge_unmodelled_children(target_parent, declared_parent, tracker, lambda child: label + child.tag,
                                 owned=modelled_tags)


def _copy(element):
    return copy.deepcopy(element)


def _merge_attributes(target, declared, owned):
    """Copy attributes of a modelled element the model does not own (``<loader readonly='yes'>``)."""
    changed = []
    for name, value in declared.attrib.items():
        if name not in owned and not xm.same_value(target.get(name), value):
            changed.append((name, target.get(name), value))
            target.set(name, value)
    return changed


class DomainPlan:
    """The desired definition computed from the current one plus everything declared.

    ``live`` is the running guest's document (when it runs and an xml is declared): what a document read
    from the running guest says only because it runs is not a change. ``machines`` resolves a machine alias
    (``pc``) to the machine type libvirt stores for it (``pc-i440fx-7.2``), from the host's capabilities.
    """

    def __init__(self, declared, current, composing=False, live=None, machines=None, host_arch=None):
        self.declared = declared
        self.current = current
        # A callable giving the host's architecture, asked only when a new guest's defaults depend on it.
        self.host_arch = host_arch
        # composing: ``current`` is the user's xml and ``declared`` the structured options laid over it.
        self.composing = composing
        self.live = live
        self.machines = machines
        self.tracker = DifferenceTracker()
        if current is not None:
            self.desired = current.copy()
        elif declared.base is not None:
            self.desired = declared.base.copy()
        else:
            self.desired = Domain()
        self._build()

    @property
    def changed(self):
        return self.tracker.changed

    def _build(self):
        declared, desired = self.declared, self.desired
        if self.current is None:
            desired.name = declared.name
            if declared.base is not None:
                self.tracker.add("domain", None, "defined from xml")
        elif declared.base is not None:
            base = declared.base
            if self.live is not None and not self.composing:
                base = settle_what_runs(base, self.current, self.live)
            # The structured options win over the xml: lay them over it first, so that a field set in
            # both is compared with the guest once, as its final value.
            composed = DomainPlan(declared.structured_only(), base, composing=True).desired
            self._merge_base(composed)
        if declared.fields.get("uuid") and self.current is not None and self.current.uuid \
                and declared.fields["uuid"] != self.current.uuid:
            if self.composing:
                raise InputError("%s conflicts with the uuid %s in xml" % (declared.fields["uuid"], self.current.uuid),
                                 option=declared.prefix + "uuid")
            raise InputError("the guest %s exists with uuid %s; a guest's uuid cannot be changed (got %s)"
                             % (declared.name, self.current.uuid, declared.fields["uuid"]),
                             option=declared.prefix + "uuid")
        desired.apply(self._settle_machine(declared.fields), self.tracker)
        self._apply_vcpus()
        self._current_memory_follows_memory()
        for kind, items in declared.devices.items():
            if items is not None:
                self._apply_devices(kind, items)
        if self.current is None:
            self._new_guest_defaults()
        if not self.composing:
            self._check_memory_sizes()

    def _apply_vcpus(self):
        """``vcpu`` alone: that many vCPUs, all online. With ``max_vcpu``: ``<vcpu>`` is max_vcpu (the hot-plug
        ceiling) and ``vcpu`` the number online (``<vcpu current>``); without ``vcpu``, an existing guest keeps
        the number it has online (at most max_vcpu), a new one has them all. Reported as ``vcpu`` (the number
        online) and ``max_vcpu``, or as ``vcpu`` alone when neither side has a ceiling above it."""
        declared, desired = self.declared, self.desired
        if declared.vcpu is None and declared.max_vcpu is None:
            return
        before_max, before_current = desired.vcpu, desired.vcpu_current
        before_online = before_current or before_max
        if declared.max_vcpu is None:
            maximum = online = declared.vcpu
        else:
            maximum = declared.max_vcpu
            online = declared.vcpu if declared.vcpu is not None else min(before_online or maximum, maximum)
        current = online if online != maximum else None
        if (before_max, before_current) == (maximum, current):
            return
        if before_current is None and current is None:
            self.tracker.add("vcpu", before_max, maximum)
        else:
            if before_max != maximum:
                self.tracker.add("max_vcpu", before_max, maximum)
            if before_online != online:
                self.tracker.add("vcpu", before_online, online)
        desired.vcpu, desired.vcpu_current = maximum, current

    def _check_memory_sizes(self):
        """libvirt silently lowers a currentMemory above memory to memory, so the task would report the same
        change on every run: refuse it, naming the option that asked for it."""
        desired, declared = self.desired, self.declared
        if desired.memory is None or desired.current_memory is None or desired.current_memory <= desired.memory:
            return
        if declared.fields.get("current_memory") is not None:
            option = "current_memory"
        elif declared.fields.get("memory") is not None:
            option = "memory"
        else:
            option = "xml"
        raise InputError("the memory at start (current_memory, %d KiB) is more than the maximum memory (memory, "
                         "%d KiB)" % (desired.current_memory, desired.memory), option=declared.prefix + option)

    def _current_memory_follows_memory(self):
        """A declared memory size is what the guest gets at start, unless current_memory is declared too:
        libvirt keeps the old currentMemory when memory grows, leaving the guest where it was. Whether the
        currentMemory was set below memory on purpose is read from the xml when it says (a template), else
        from the stored guest."""
        declared, desired = self.declared, self.desired
        if declared.fields.get("memory") is None or declared.fields.get("current_memory"):
            return
        reference = self.current
        if declared.base is not None and declared.base.current_memory is not None and not self.composing:
            reference = declared.base
        if reference is None or reference.current_memory is None or desired.current_memory == desired.memory:
            return
        # A currentMemory set below memory on purpose (a balloon target) is kept, unless it no longer fits.
        if reference.current_memory == reference.memory or reference.current_memory > desired.memory:
            self.tracker.add("current_memory", desired.current_memory, desired.memory)
            desired.current_memory = desired.memory

    def _settle_machine(self, values):
        """A declared machine alias (``pc``, ``q35``) is the guest's machine when the host resolves it to the
        stored machine type or to another version of it (``pc-i440fx-7.2``, ``pc-i440fx-6.2``): libvirt stores
        the versioned type, and a host upgrade must not turn into a machine change on the next run."""
        machine = values.get("os_machine")
        stored = self.current.os_machine if self.current is not None else None
        if machine is None or stored is None or machine == stored or self.machines is None or self.composing:
            return values
        arch = values.get("os_arch") or self.current.os_arch
        canonical = self.machines(arch, values.get("type") or self.current.type, machine)
        if canonical is not None and _machine_family(canonical) == _machine_family(stored):
            return dict(values, os_machine=stored)
        return values

    def _new_guest_defaults(self):
        desired, declared = self.desired, self.declared
        if desired.memory is None:
            raise InputError("is required to create the new guest %s" % declared.name,
                             option=declared.prefix + "memory")
        if desired.type is None:
            desired.type = "kvm"
        if desired.vcpu is None:
            desired.vcpu = 1
        if desired.os_type is None:
            paravirt = desired.type == "xen" and desired.kernel and not desired.loader
            desired.os_type = "linux" if paravirt else "hvm"
        if not self._declares_features() and self._is_x86_hvm():
            # virt-install's defaults: without <acpi/> QEMU runs the guest with -no-acpi, and an ACPI shutdown
            # request (state: shutdown) never reaches it. Declared features (even []) or <features> in xml win.
            self.tracker.add("features", None, list(X86_HVM_FEATURES))
            desired.features = list(X86_HVM_FEATURES)
        if self.declared.base is None:
            self.tracker.add("domain", None, "defined")

    def _declares_features(self):
        declared = self.declared
        return declared.fields.get("features") is not None or (
            declared.base is not None and declared.base.element.find("features") is not None)

    def _is_x86_hvm(self):
        desired = self.desired
        if desired.os_type != "hvm" or desired.type not in ("kvm", "qemu", "xen"):
            return False
        arch = desired.os_arch or (self.host_arch() if self.host_arch is not None else None)
        return arch in X86_ARCHES

    def _merge_base(self, base):
        """Merge a user's full document into the current definition (an existing guest)."""
        desired, tracker = self.desired, self.tracker
        base_values = {name: value for name, value in base.values().items()
                       if name not in ("name",) and value not in (None, [])}
        if base.element.find("features") is None:
            base_values.pop("features", None)
        elif self.current.features:
            # Features libvirt adds on its own are not taken away by a document that does not name them.
            implied = [name for name in self.current.features if name in _FEATURES_LIBVIRT_ADDS]
            base_values["features"] = sorted(set(base_values["features"]) | set(implied))
        if base.numa_memory() is not None:
            # With NUMA cells, libvirt makes <memory> what the cells (and memory devices) add up to.
            base_values.pop("memory", None)
        memory = base_values.get("memory") or self.current.memory
        if memory is not None and base_values.get("current_memory", 0) > memory:
            base_values["current_memory"] = memory  # as libvirt lowers it when it reads the document
        if base_values.get("uuid") and self.current.uuid and base_values["uuid"] != self.current.uuid:
            raise InputError("names uuid %s but the guest %s exists with uuid %s; a guest's uuid cannot change"
                             % (base_values["uuid"], self.declared.name, self.current.uuid),
                             option=self.declared.prefix + "xml")
        desired.apply(self._settle_machine(base_values), tracker)
        for tag in ("memory", "currentMemory", "vcpu"):
            self._merge_element_attributes(base, (tag,), {"unit"} if tag != "vcpu" else set())
        self._merge_element_attributes(base, ("os", "type"), {"arch", "machine"})
        self._merge_element_attributes(base, ("os", "loader"), set())
        self._merge_element_attributes(base, ("os",), set())
        _merge_unmodelled(desired.element, base.element, _MODELLED_TOP_LEVEL, tracker, "")
        if base.element.find("os") is not None:
            _merge_unmodelled(desired.ensure(("os",)), base.element.find("os"), _MODELLED_OS_CHILDREN, tracker, "os.")
        if base.element.find("features") is not None:
            _merge_unmodelled_children_of_features(desired, base, tracker)
        if base.element.find("devices") is not None:
            self._merge_document_devices(base)

    def _merge_element_attributes(self, base, steps, owned):
        declared_element = base.find(steps)
        target = self.desired.find(steps)
        if declared_element is None or target is None:
            return
        for name, before, after in _merge_attributes(target, declared_element, owned):
            self.tracker.add("%s@%s" % ("/".join(steps), name), before, after)

    # -- devices --------------------------------------------------------------------------------
    def _merge_document_devices(self, base):
        """Each device of the user's document is matched with a stored device by its kind's identity
        (``Device.IDENTITY``) and changed in place when it differs; a device with no match is added. A
        device is never added a second time, whatever its kind."""
        for tag, elements in devices_by_tag(base).items():
            kind_class = device_class(tag)
            if tag == "controller":
                elements = with_implied_controller_indexes(elements)
            elif tag == "video":
                elements = Video.in_libvirt_order(elements)
            stored = [kind_class(element) for element in self.desired.element.find("devices").findall(tag)]
            declared_devices = [kind_class(element) for element in elements]
            matches = match_devices(declared_devices, stored)
            for index, device in enumerate(declared_devices):
                label = _device_label(device, index)
                match = matches.get(index)
                if match is None:
                    added = kind_class(_copy(device.element))
                    self.desired.add_device(added)
                    self.tracker.add(label, None, added.describe())
                elif xm.element_contains(match.element, device.element):
                    continue
                elif tag in _MODELLED_DEVICE_TAGS:
                    self._change_modelled_device(match, device, label)
                else:
                    self._replace_device(match, device, label)

    def _change_modelled_device(self, stored, declared, label):
        """Set the declared fields, attributes and child elements on the stored device, keeping what libvirt
        added to it (PCI address, driver, alias)."""
        stored.apply_options(_device_fields(declared), self.tracker, label + ".")
        owned = {f.attr for f in type(stored).fields().values() if f.attr and not f.steps}
        for name, before, after in _merge_attributes(stored.element, declared.element, owned):
            self.tracker.add("%s.@%s" % (label, name), before, after)
        modelled = {f.steps[0] for f in type(stored).fields().values() if f.steps}
        modelled.add("readonly")
        _merge_unmodelled(stored.element, declared.element, modelled, self.tracker, label + ".")
        self._merge_modelled_children(stored, declared, label)

    def _merge_modelled_children(self, stored, declared, label):
        """What a child element the model types carries beyond its fields (``<driver cache='none'>`` beside
        the driver's name and type, ``<target removable='on'>``, ``<source portgroup=...>``)."""
        fields = type(stored).fields().values()
        for declared_child in declared.element:
            tag = declared_child.tag
            typed = [field for field in fields if field.steps and field.steps[0] == tag]
            if not isinstance(tag, str) or not typed:
                continue
            child_label = "%s.%s" % (label, tag)
            stored_child = stored.element.find(tag)
            if stored_child is None:
                stored.insert_child(stored.element, _copy(declared_child), "")
                self.tracker.add(child_label, None, xm.describe_element(declared_child))
                continue
            owned = {field.attr for field in typed if len(field.steps) == 1 and field.attr}
            for name, before, after in _merge_attributes(stored_child, declared_child, owned):
                self.tracker.add("%s@%s" % (child_label, name), before, after)
            owned_children = {field.steps[1] for field in typed if len(field.steps) > 1}
            _merge_unmodelled(stored_child, declared_child, owned_children, self.tracker, child_label + ".")

    def _replace_device(self, stored, declared, label):
        """A device the model does not type: the declared element replaces the stored one, which keeps its
        guest address (so changing a controller's model does not move it to another slot)."""
        replacement = _copy(declared.element)
        address = stored.element.find("address")
        if address is not None and replacement.find("address") is None:
            replacement.append(_copy(address))
        self.tracker.add(label, _compact(stored.element), _compact(replacement))
        stored.element.getparent().replace(stored.element, replacement)

    def _apply_devices(self, kind, items):
        """Structured options (``disks``, ``interfaces`` ...): each item becomes a device, matched with the
        stored ones by identity like a device of a document."""
        existing = self.desired.devices_of(kind)
        # Copies: a declaration is laid over the xml first, then over the guest (two plans, two documents).
        declared_devices = [item.copy() for item in items]
        matches = match_devices(declared_devices, existing)
        for index, item in enumerate(items):
            device = matches.get(index)
            label = _device_label(declared_devices[index], index)
            if device is None:
                self.desired.add_device(declared_devices[index])
                self.tracker.add(label, None, declared_devices[index].describe())
            else:
                device.apply_options(item.options, self.tracker, label + ".")
        if self.declared.purge_devices:
            matched = {id(device.element) for device in matches.values()}
            for device in existing:
                if id(device.element) not in matched:
                    self.tracker.add(_device_label(device, None), device.describe(), None)
                    self.desired.remove_device(device)


_MODELLED_DEVICE_TAGS = {cls.TAG for cls in DEVICE_CLASSES.values()}
# <gic> on ARM virt machines (qemuDomainDefEnableDefaultFeatures: that machine always has a GIC).
_FEATURES_LIBVIRT_ADDS = ("gic",)
_KIND_OF_TAG = {cls.TAG: kind for kind, cls in DEVICE_CLASSES.items()}


def _machine_family(machine):
    """``pc-i440fx`` for ``pc-i440fx-7.2``: a machine type without its QEMU version."""
    return re.sub(r"-\d+(\.\d+)*$", "", machine)


def devices_by_tag(domain):
    """The device elements of ``domain`` grouped by tag, in document order (``<emulator>`` is a field)."""
    groups = {}
    devices = domain.element.find("devices")
    for element in devices if devices is not None else ():
        if isinstance(element.tag, str) and element.tag != "emulator":
            groups.setdefault(element.tag, []).append(element)
    return groups


_ROOT_CONTROLLER_MODELS = ("pci-root", "pcie-root")
_USB2_SET_MODELS = ("ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3")


def with_implied_controller_indexes(controllers):
    """Copies of a document's ``<controller>`` elements, each with the index libvirt gives it: the one
    written, else the lowest index of its type not taken in the document (the PCI root is always 0, so a
    PCI controller declared without one starts at 1 when the document declares no root)."""
    copies = [_copy(element) for element in controllers]
    taken = {}
    for element in copies:
        if element.get("index") is not None:
            taken.setdefault(element.get("type"), set()).add(xm.canonical_number_text(element.get("index")))
    previous_usb2 = None
    for element in copies:
        if element.get("index") is not None:
            if element.get("model") in _USB2_SET_MODELS:
                previous_usb2 = element
            continue
        kind = element.get("type")
        used = taken.setdefault(kind, set())
        if kind == "usb" and element.get("model") in _USB2_SET_MODELS:
            # An EHCI controller and its UHCI companions are one USB2 bus: libvirt gives an index-less one the
            # index of the previous one of the set, unless that index already has its model.
            if previous_usb2 is not None and not any(
                    other.get("index") == previous_usb2.get("index") and other.get("model") == element.get("model")
                    for other in copies if other is not element and other.get("type") == "usb"):
                element.set("index", previous_usb2.get("index"))
                previous_usb2 = element
                continue
            previous_usb2 = element
        if kind == "pci" and element.get("model") not in _ROOT_CONTROLLER_MODELS:
            used.add("0")
        index = 0
        while str(index) in used:
            index += 1
        used.add(str(index))
        element.set("index", str(index))
    return copies


def match_devices(declared, stored):
    """Which stored device each declared device is: ``{index in declared: stored device}``.

    Identity first (``Device.IDENTITY``); where the declared device leaves part of its identity out (a
    controller without an index, an interface without a MAC), the first stored device that contains it,
    else the first one of that identity. Each stored device is taken once, so two declared devices never
    land on one stored device and a declared device is never taken for new when it is there.
    """
    matches, taken = {}, set()

    def rank(index):
        device = declared[index]
        return device.IDENTITY.index(device.identity_fields())

    for index in sorted(range(len(declared)), key=rank):
        device = declared[index]
        names = device.identity_fields()
        key = device.identity_values(names)
        candidates = [position for position, other in enumerate(stored)
                      if position not in taken and _same_identity(key, other.identity_values(names))]
        if not candidates:
            continue
        if names and len(candidates) > 1:
            # Part of the identity left out, or several devices of one identity (a USB2 controller and its
            # companions share an index): prefer the stored device that holds what is declared.
            candidates = [position for position in candidates
                          if xm.element_contains(stored[position].element, device.element)] or candidates
        taken.add(candidates[0])
        matches[index] = stored[candidates[0]]
    return matches


def _same_identity(declared_key, stored_key):
    return all(declared is None or declared == stored for declared, stored in zip(declared_key, stored_key))


def settle_what_runs(base, stored, live):
    """The user's document with what it says only because it was read from the running guest put back to
    the stored definition: libvirt expands a definition when the guest starts (``<cpu check='full'>`` with
    the host's features, ``<resource>``, a dynamic ``<seclabel>``, the listen address of a console), and a
    ``virsh dumpxml`` of the running guest fed back as ``xml`` must not write that expansion as a change.

    An element counts as such when the stored one does not hold it, the running guest's holds it, and the
    running guest's also holds the stored one (it is an expansion of it, not a pending change).
    """
    settled = base.copy()
    root = settled.element
    for element in list(root):
        if not isinstance(element.tag, str) or element.tag == "devices":
            continue
        stored_element = stored.element.find(element.tag)
        if _runs_as(element, stored_element, live.element.find(element.tag)):
            if stored_element is None:
                root.remove(element)
            else:
                root.replace(element, _copy(stored_element))
    devices = root.find("devices")
    if devices is None:
        return settled
    stored_groups, live_groups = devices_by_tag(stored), devices_by_tag(live)
    for tag, elements in devices_by_tag(settled).items():
        kind_class = device_class(tag)
        stored_devices = [kind_class(element) for element in stored_groups.get(tag, ())]
        live_devices = [kind_class(element) for element in live_groups.get(tag, ())]
        to_stored = match_devices([kind_class(element) for element in elements], stored_devices)
        stored_to_live = {id(stored_devices[index].element): device
                          for index, device in match_devices(stored_devices, live_devices).items()}
        for index, element in enumerate(elements):
            match = to_stored.get(index)
            running = stored_to_live.get(id(match.element)) if match is not None else None
            if running is not None and _runs_as(element, match.element, running.element):
                devices.replace(element, _copy(match.element))
    return settled


# What libvirt replaces when the guest starts, so the running guest's element does not hold it: the CPU's
# check (set to 'full'), and firmware autoselection (<os firmware='efi'> becomes the loader and NVRAM picked).
_REPLACED_AT_START = {"cpu": ("check", ()), "os": ("firmware", ("firmware",))}
# Elements whose running value is the guest's state, not its definition: the balloon's current size.
_RUNTIME_STATE = ("currentMemory",)


def _runs_as(declared, stored, live):
    if live is None or (stored is not None and xm.element_contains(stored, declared)):
        return False
    if not xm.element_contains(live, declared):
        return False
    if declared.tag in _RUNTIME_STATE:
        return True  # the running guest's: what its balloon holds now, not the target it was given
    return stored is None or runs_with(live, stored)


def runs_with(live, stored):
    """Whether the running guest's element ``live`` holds the stored definition's element ``stored``, as
    libvirt expands it when the guest starts (so a running guest's additions are no difference)."""
    if live is None:
        return False
    expected = _copy(stored)
    attribute, children = _REPLACED_AT_START.get(expected.tag, (None, ()))
    if attribute is not None and (expected.tag != "os" or live.find("loader") is not None):
        expected.attrib.pop(attribute, None)
        for child in [child for child in expected if child.tag in children]:
            expected.remove(child)
    return xm.element_contains(live, expected)


def _compact(element):
    """An element as one line of XML, for ``differences``."""
    text = xm.etree.tostring(element, encoding="unicode", with_tail=False)
    return re.sub(r">\s+<", "><", text).strip()


def _merge_unmodelled_children_of_features(desired, base, tracker):
    desired_features = desired.find(("features",))
    for declared in base.element.find("features"):
        if not isinstance(declared.tag, str) or (not len(declared) and not declared.attrib):
            continue
        current = desired_features.find(declared.tag) if desired_features is not None else None
        if current is not None and not xm.element_contains(current, declared):
            desired_features.replace(current, _copy(declared))
            tracker.add("features.%s" % declared.tag, xm.describe_element(current), xm.describe_element(declared))


def _device_label(device, index):
    """``disks[vda]``, ``interfaces[52:54:00:00:10:01]``, ``devices.channel[virtio:org.qemu.guest_agent.0]``."""
    kind = _KIND_OF_TAG.get(device.TAG)
    identity = device.identity_label(index)
    if kind is None:
        return "devices.%s[%s]" % (device.TAG, identity) if identity else "devices.%s" % device.TAG
    return "%s[%s]" % (kind, identity if identity is not None else index)


# -- disks on storage volumes ----------------------------------------------------------------------
def _disk_on_volume(values, item, option):
    """``disks[].volume`` and ``disks[].pool``: a ``<disk type='volume'>`` whose source is a volume of a pool."""
    volume, pool = item.get("volume"), item.get("pool")
    values["source_volume"] = xm.TEXT.normalize(volume, option + ".volume") if volume else None
    values["source_pool"] = xm.TEXT.normalize(pool, option + ".pool") if pool else None
    if not volume and not pool:
        return
    if not (volume and pool):
        raise InputError("a disk on a storage volume needs both volume and pool",
                         option=option + (".pool" if volume else ".volume"))
    if values["source"] is not None:
        raise InputError("a disk's source is a path or a volume (volume and pool), not both", option=option + ".source")
    if values["type"] not in (None, "volume"):
        raise InputError("is %s, but a disk on a storage volume has type volume" % values["type"],
                         option=option + ".type")
    values["type"] = "volume"


# -- talking to libvirt ----------------------------------------------------------------------------
# Power states in which the guest runs no longer.
STOPPED = ("shutoff", "crashed")


def _network_exists(connection, name):
    """False only when libvirt says there is no such network (a driver without networks cannot say)."""
    try:
        connection.conn.networkLookupByName(name)
    except libvirt.libvirtError as error:
        return not is_libvirt_error(error, libvirt.VIR_ERR_NO_NETWORK)
    return True


def _power_state(domain):
    with translate_libvirt_errors("reading the state of %s" % domain.name()):
        return POWER_STATE_NAMES.get(domain.state()[0], "unknown")


def _persistent_xml(domain):
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE
    with translate_libvirt_errors("reading the definition of %s" % domain.name()):
        return domain.XMLDesc(flags)


def _live_xml(domain):
    with translate_libvirt_errors("reading the running definition of %s" % domain.name()):
        return domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)


def _undefine_flags(domain, definition, remove_nvram=False):
    """Only the flags this guest needs: drivers refuse flags they do not support (as virsh does)."""
    def has(probe):
        try:
            return bool(probe())
        except libvirt.libvirtError:
            return False  # the driver has no such feature, so the guest has none of it

    flags = 0
    if has(lambda: domain.hasManagedSaveImage(0)):
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    if has(lambda: domain.snapshotNum(0)):
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    if has(lambda: domain.listAllCheckpoints(0)):
        flags |= getattr(libvirt, "VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA", 0)
    if definition.has_nvram():
        # NVRAM holds the guest's firmware variables: kept like disk images, removed with them.
        flags |= getattr(libvirt, "VIR_DOMAIN_UNDEFINE_NVRAM" if remove_nvram else "VIR_DOMAIN_UNDEFINE_KEEP_NVRAM", 0)
    return flags


def _wait_for_shutoff(domain, timeout):
    deadline = time.monotonic() + max(timeout, 0)
    while True:
        if _power_state(domain) in STOPPED:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


class DomainAdapter(Adapter):
    """How the shared converger brings one guest to its declared state. The definition is written in one
    ``defineXML``; on a running guest what libvirt can apply goes live and the rest is ``pending`` until a
    restart (``_domain_live``); the state is a power state (running, paused, shutdown, destroyed), not
    active/inactive; a new guest whose first start fails is undefined again; ``remove_storage`` deletes the
    guest's disk images with it (``_domain_storage``)."""

    KIND = "domain"
    NOUN = "guest"
    RESULT_KEY = "domain"
    HAS_ACTIVE_STATE = True
    HAS_AUTOSTART = True

    def __init__(self, connection, params, prefix=""):
        super().__init__(connection, params, prefix)
        self.before_xml = None  # the persistent definition as read (restored when a restart fails)
        self.running_xml = None  # the running guest's document, when it runs
        self.stored = None  # the definition as libvirt stores it after the write
        self.created = False
        self.power = "shutoff"  # the power state after the write (and a restart)
        self.running = None  # the RunningGuest: what went live and what is pending
        self.restart_required = False
        self.removed_storage = None  # what remove_storage deleted (None: no guest was removed)
        self.kept_storage = []

    # -- declare, read, plan -----------------------------------------------------------------------------
    def declare(self):
        # With state absent the definition may come along (decommissioning flips state on the same
        # declaration), but it must be valid: a bad one removes nothing.
        timeout = self.params.get("shutdown_timeout")
        if timeout is not None and timeout < 0:
            raise InputError("must be 0 or more seconds, got %d" % timeout, option=self.option("shutdown_timeout"))
        return DeclaredDomain(self.params, self.prefix)

    def read(self, handle):
        self.before_xml = _persistent_xml(handle)
        return Domain.from_xml(self.before_xml)

    def plan(self, declared, current, handle):
        if handle is not None and _power_state(handle) not in STOPPED:
            self.running_xml = _live_xml(handle)
        # A declared document may have been read from the running guest: compare it with that too.
        live = Domain.from_xml(self.running_xml) if self.running_xml and declared.base is not None else None
        if any(disk.source_volume for disk in declared.devices.get("disks") or []):
            from ansible_collections.virt.libvirt.plugins.module_utils._domain_storage import check_disk_volumes
            self.warnings.extend(check_disk_volumes(self.connection, declared, self.check_mode))
        plan = DomainPlan(declared, current, live=live, machines=self.connection.canonical_machine,
                          host_arch=lambda: self.connection.capabilities().host_arch)
        self._warn_about_missing_networks(declared)
        return plan

    def _warn_about_missing_networks(self, declared):
        """libvirt defines a guest on a network that does not exist (it fails only when the guest starts):
        say so, naming the interface option."""
        interfaces = [(interface.option + ".network", interface.network)
                      for interface in declared.devices["interfaces"] or [] if interface.type == "network"]
        if declared.base is not None:
            interfaces += [(self.option("xml: devices/interface[%d]" % (index + 1)), interface.network)
                           for index, interface in enumerate(declared.base.interfaces)
                           if interface.type == "network" and interface.network]
        for option, network in interfaces:
            if not _network_exists(self.connection, network):
                self.warnings.append(
                    "%s: the network %s does not exist on %s: libvirt accepts the definition, but the guest cannot "
                    "start until the network exists" % (option, network, self.connection.uri))

    # -- write: the definition, live changes, a restart --------------------------------------------------
    def write(self, converger, declared, plan, handle):
        defined = plan.changed and not self.check_mode
        self.created = defined and handle is None
        if defined:
            handle = converger.write(
                "defining the guest %s" % declared.name, lambda: self.connection.conn.defineXML(plan.desired.to_xml()),
                plan.tracker.fields, raced=lambda: self._definition_now(declared.name) != self.before_xml,
                option=self.option("xml") if declared.base is not None else None)
        # The definition as libvirt stores it now: read back only when this run wrote it (one XMLDesc and
        # one parse less per unchanged guest).
        self.stored = Domain.from_xml(_persistent_xml(handle)) if defined else plan.current
        if self.running_xml is not None and declared.state in ("present", "running", "paused"):
            # What libvirt can apply to the running guest goes live; what it still lacks is pending.
            from ansible_collections.virt.libvirt.plugins.module_utils._domain_live import RunningGuest
            self.running = RunningGuest(handle, self.running_xml, self.check_mode).converge(
                plan.current, plan.desired if self.check_mode else self.stored,
                apply_live=self.params.get("live", True) is not False, restart=bool(self.params.get("restart")))
            self.restart_required = bool(self.running.pending)
        self.power = _power_state(handle) if handle is not None else "shutoff"
        if self.restart_required and self.params.get("restart"):
            self._restart(converger, handle, declared.name)
            self.power = "running"
            self.restart_required = False
            self.running.restarted()
        return handle

    def _definition_now(self, name):
        """The guest's persistent definition as libvirt holds it at this moment (None when undefined)."""
        domain = self.lookup_name(name)
        return _persistent_xml(domain) if domain is not None else None

    def _restart(self, converger, domain, name):
        if self.check_mode:
            converger.tracker.add("state", self.power, "running (restarted)")
            return
        if self.power not in STOPPED:
            try:
                self._shutdown(converger, domain, name, self.power)
            except VirtLibvirtError as error:
                # The guest would not stop: put its old definition back, so the task changes nothing and a
                # rerun (with force) sees the change again and restarts.
                with translate_libvirt_errors("restoring the definition of %s after the failed restart" % name):
                    self.connection.conn.defineXML(self.before_xml)
                converger.forget_writes()
                raise VirtLibvirtError("%s. The guest's definition is left as it was" % error.message,
                                       option=error.option, libvirt_message=error.libvirt_message,
                                       **error.details) from None
        converger.write("starting the guest %s" % name, domain.create, ["state"])
        converger.tracker.add("state", "shutoff", "running")

    # -- power state -------------------------------------------------------------------------------------
    def converge_state(self, converger, declared, handle):
        try:
            self._converge_power(converger, handle, declared.name, declared.state)
        except VirtLibvirtError as error:
            if not self.created:
                raise
            raise self._undefine_new_guest(converger, handle, declared.name, error) from None

    def _converge_power(self, converger, domain, name, state):
        power = self.power
        active = power not in STOPPED
        if state == "running":
            if power == "paused":
                self._call(converger, domain, "resuming", "resume", before=power, after="running")
            elif not active:
                self._call(converger, domain, "starting", "create", before=power, after="running")
        elif state == "paused":
            if not active:
                self._call(converger, domain, "starting paused", "createWithFlags", libvirt.VIR_DOMAIN_START_PAUSED,
                           before=power, after="paused")
            elif power != "paused":
                self._call(converger, domain, "pausing", "suspend", before=power, after="paused")
        elif state == "destroyed":
            if active:
                self._call(converger, domain, "destroying", "destroy", before=power, after="shutoff")
        elif state == "shutdown":
            if active:
                self._shutdown(converger, domain, name, power)

    def _power_changed_underneath(self, domain, power):
        return lambda: self.lookup_name(domain.name()) is None or _power_state(domain) != power

    def _call(self, converger, domain, action, method, *args, **states):
        converger.tracker.add("state", states["before"], states["after"])
        if domain is None:
            return  # check mode: the guest this run would define
        converger.write("%s the guest %s" % (action, domain.name()), lambda: getattr(domain, method)(*args),
                        ["state"], raced=self._power_changed_underneath(domain, states["before"]))

    def _shutdown(self, converger, domain, name, power):
        converger.tracker.add("state", power, "shutoff")
        if self.check_mode:
            return
        timeout = self.params.get("shutdown_timeout")
        timeout = 120 if timeout is None else timeout
        converger.write("shutting down the guest %s" % name, domain.shutdown, [],
                        raced=self._power_changed_underneath(domain, power))
        if _wait_for_shutoff(domain, timeout):
            converger.count_written(["state"])
            return
        if not self.params.get("force"):
            raise VirtLibvirtError(
                "the guest %s did not shut down within %d seconds (shutdown_timeout); it may ignore ACPI "
                "shutdown. Set force: true to power it off" % (name, timeout), option=self.option("shutdown_timeout"))
        converger.write("forcing off the guest %s" % name, domain.destroy, ["state"],
                        raced=self._power_changed_underneath(domain, power))

    def _undefine_new_guest(self, converger, domain, name, error):
        """A guest this task defined and could not start is undefined again, as the network module does with a
        network whose first start fails: the task leaves nothing behind, and a rerun defines and starts it."""
        try:
            with translate_libvirt_errors("undefining the new guest %s again" % name):
                domain.undefineFlags(_undefine_flags(domain, self.stored))
        except VirtLibvirtError as undefine_error:
            return VirtLibvirtError("%s. The new guest stays defined: %s" % (error.message, undefine_error.message),
                                    option=error.option, libvirt_message=error.libvirt_message, **error.details)
        converger.forget_writes()
        return VirtLibvirtError("%s. The new guest was undefined again, so the task changed nothing"
                                % error.message, option=error.option, libvirt_message=error.libvirt_message,
                                **error.details)

    # -- absent --------------------------------------------------------------------------------------
    def remove(self, converger, declared, handle, before):
        removal = None
        remove_storage = bool(self.params.get("remove_storage"))
        if remove_storage:
            # Decided before anything is removed: an image another guest uses is never deleted.
            from ansible_collections.virt.libvirt.plugins.module_utils._domain_storage import StorageRemoval
            removal = StorageRemoval(self.connection, handle, before, self.option("remove_storage"), self.warnings)
        removable = removal.removable if removal is not None else []
        power = _power_state(handle)
        if power not in STOPPED:
            self._call(converger, handle, "destroying", "destroy", before=power, after="shutoff")
        converger.tracker.add("domain", "defined", None)
        for path, _remover in removable:
            converger.tracker.add("storage", path, None)
        if remove_storage and before.has_nvram():
            converger.tracker.add("nvram", before.element.findtext("os/nvram") or "defined", None)
        self.removed_storage = [path for path, _remover in removable]
        self.kept_storage = removal.kept if removal is not None else []
        if self.check_mode:
            return
        with translate_libvirt_errors("reading the guest %s" % declared.name):
            persistent = handle.isPersistent()
        if persistent:
            flags = _undefine_flags(handle, before, remove_nvram=remove_storage)
            converger.write("undefining the guest %s" % declared.name, lambda: handle.undefineFlags(flags), [])
        converger.count_written(["domain"])
        for _path, remover in removable:
            remover()
            converger.count_written(["storage"])

    # -- reporting ---------------------------------------------------------------------------------------
    def document(self, model):
        return model.to_masked_xml()

    def definition_after(self, handle, plan):
        return plan.desired if handle is None or self.check_mode else self.stored

    def differences(self, tracker):
        masked = []
        for difference in tracker.as_list():
            if difference["field"].endswith("password"):
                difference = dict(difference, before=MASK if difference["before"] else None, after=MASK)
            masked.append(difference)
        return masked

    def extra_result(self):
        result = {
            "restart_required": self.restart_required,
            "live_changes": self.running.applied if self.running is not None else [],
            "pending": self.running.pending if self.running is not None else [],
        }
        if self.removed_storage is not None:
            result["removed_storage"] = self.removed_storage
        if self.kept_storage:
            result["kept_storage"] = self.kept_storage
        return result

    def describe(self, handle, plan, declared, check_mode):
        desired = plan.desired
        if handle is None:
            return {"name": desired.name, "uuid": desired.uuid, "id": None,
                    "state": "shutoff" if declared.state != "running" else "running",
                    "autostart": bool(self.params.get("autostart")), "persistent": True,
                    "xml": desired.to_masked_xml(pretty=False)}
        with translate_libvirt_errors("describing the guest %s" % handle.name()):
            domain_id = handle.ID()
            info = {
                "name": handle.name(),
                "uuid": handle.UUIDString(),
                "id": domain_id if domain_id >= 0 else None,
                "state": _power_state(handle),
                "autostart": bool(handle.autostart()),
                "persistent": bool(handle.isPersistent()),
            }
        info["xml"] = (desired if check_mode else self.stored).to_masked_xml(pretty=False)
        return info


# -- the module's entry point ----------------------------------------------------------------------
def domain_secret_values(params):
    """Passwords that ``no_log`` cannot reach: written inside ``xml``, or in the items of ``domains`` (whose
    options are checked here, not by AnsibleModule)."""
    values = secret_values_in_xml(params.get("xml"))
    items = params.get("domains")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        values |= secret_values_in_xml(item.get("xml"))
        graphics_list = item.get("graphics")
        for graphics in graphics_list if isinstance(graphics_list, list) else []:
            if isinstance(graphics, dict) and graphics.get("password") not in (None, ""):
                values.add(str(graphics["password"]))
    return values


class DomainModule(VirtLibvirtModule):
    """The collection's AnsibleModule, which also masks the console passwords given inside ``xml`` or bulk
    items (``domain_secret_values``)."""

    def secret_values(self, params):
        return super().secret_values(params) | domain_secret_values(params)


# Task-level options a bulk item inherits when it does not set them.
_TASK_LEVEL_OPTIONS = ("state", "purge_devices", "restart", "live", "force", "shutdown_timeout", "remove_storage",
                       "autostart")


def run_domain_module(params, check_mode, want_diff):
    """Converge the single guest (``name``) or every guest of ``domains`` over one connection."""
    return run_module(DomainAdapter, params, check_mode, want_diff, "domains", "guest", _TASK_LEVEL_OPTIONS,
                      item_argument_spec(DOMAIN_ITEM_SPEC))
