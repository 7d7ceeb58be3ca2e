# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Typed objects over libvirt's domain XML (Xen PV, Xen HVM, KVM, QEMU guests)."""
from __future__ import annotations

import re

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, ModelError
from ansible_collections.virt.libvirt.plugins.module_utils._options import Option
from ansible_collections.virt.libvirt.plugins.module_utils._options import labels as option_labels

DOMAIN_TYPES = ("xen", "kvm", "qemu", "kqemu", "lxc", "uml", "openvz", "test", "vmware", "hyperv", "vbox",
                "phyp", "parallels", "bhyve", "vz", "hvf", "none")
LIFECYCLE_ACTIONS = ("destroy", "restart", "preserve", "rename-restart")
CRASH_ACTIONS = LIFECYCLE_ACTIONS + ("coredump-destroy", "coredump-restart")
BOOT_DEVICES = ("fd", "hd", "cdrom", "network")
OS_TYPES = ("hvm", "linux", "xen", "xenpvh", "exe", "uml")
DISK_TYPES = ("file", "block", "dir", "network", "volume", "nvme", "vhostuser")
DISK_DEVICES = ("disk", "cdrom", "floppy", "lun")
DISK_BUSES = ("ide", "scsi", "virtio", "xen", "usb", "sata", "sd", "fdc")
INTERFACE_TYPES = ("user", "network", "bridge", "ethernet", "mcast", "server", "client", "udp", "direct",
                   "hostdev", "vhostuser", "vdpa", "null", "vds")
GRAPHICS_TYPES = ("vnc", "sdl", "spice", "rdp", "desktop", "egl-headless", "dbus")
# An interface's link state (<link state=...>): what the guest sees, changed live with no unplug.
LINK_STATES = ("up", "down")
CONSOLE_TYPES = ("pty", "dev", "file", "null", "vc", "stdio", "tcp", "udp", "unix", "spicevmc", "pipe", "spiceport",
                 "nmdm", "qemu-vdagent", "dbus")
MASK = "********"
# Disks with media that come and go; one declared with no source has its medium ejected (source EMPTY_MEDIUM).
REMOVABLE_DEVICES = ("cdrom", "floppy")
EMPTY_MEDIUM = ""
# Attributes whose values are secrets (graphics passwd): masked in results, diffs and logs.
SECRET_ATTRIBUTES = ("passwd", "password")
_SECRET_ATTRIBUTE_TEXT = re.compile(r"""\b(?:%s)\s*=\s*(?:"([^"]*)"|'([^']*)')""" % "|".join(SECRET_ATTRIBUTES))

# libvirt's virDomainState codes, as the modules and the inventory plugin report them.
POWER_STATE_NAMES = {
    0: "nostate", 1: "running", 2: "blocked", 3: "paused", 4: "shutdown", 5: "shutoff", 6: "crashed",
    7: "pmsuspended",
}

# Characters libvirt refuses in a domain name, and names that are not files on the host.
_NAME_CODEC = xm.TextCodec(forbid="/")
_PORT = xm.IntCodec(minimum=-1, maximum=65535)


class Device(xm.XMLModel):
    """One element of ``<devices>``.

    ``IDENTITY`` says which device of a stored definition a declared one is (virt-manager's
    ``compare_device`` table, one row per class): alternatives of field names, tried in order. A declared
    device uses the first alternative whose fields it all sets, or else the last one, where the fields it
    leaves out match anything. ``()`` (no fields) matches by position, for kinds a guest has one of
    (memballoon) or whose order is their identity (video: the first is the primary).
    """

    IDENTITY = ((),)
    # A device built from a task's options (from_options): the declared values, normalised (None: not
    # declared), and the option they came from (``disks[0]``), for messages.
    options = None
    option = None

    @classmethod
    def from_options(cls, values, option):
        """A new device built from its structured options (``values``, already normalised), remembering them:
        ``stored.apply_options(declared.options, ...)`` lays them over a device the guest has."""
        device = cls()
        device.options = values
        device.option = option
        device.apply_options(values, DifferenceTracker(), record=False)
        return device

    def apply_options(self, values, tracker, prefix="", record=True):
        """Set each declared value that differs, recording it in ``tracker`` under ``prefix`` when ``record``."""
        self.apply(values, tracker if record else DifferenceTracker(), prefix)

    def settle(self, key, value):
        """A declared value settled after the options were read: an ejected medium (EMPTY_MEDIUM), a volume's
        image format read from the volume."""
        self.options[key] = value
        self.apply_options({key: value}, DifferenceTracker(), record=False)

    def identity_fields(self):
        """The alternative this (declared) device is matched by."""
        for names in self.IDENTITY:
            if all(getattr(self, name) is not None for name in names):
                return names
        return self.IDENTITY[-1]

    def identity_values(self, names):
        return tuple(getattr(self, name) for name in names)

    def identity_label(self, index=None):
        """How ``changes`` names the device: its identity values (``disks[vda]``, ``channel[virtio:org.qemu.guest_agent.0]``)."""
        values = [str(value) for value in self.identity_values(self.identity_fields()) if value is not None]
        return ":".join(values) if values else None

    def describe(self):
        return xm.describe_element(self.element)


class Disk(Device):
    """``<disk type= device=>`` with source, target dev/bus, driver and readonly."""

    TAG = "disk"
    IDENTITY = (("target",),)
    CHILD_ORDER = {"": ["driver", "source", "backingStore", "target", "iotune", "boot", "readonly",
                        "shareable", "transient", "serial", "wwn", "vendor", "product", "encryption",
                        "alias", "address"]}

    type = xm.Field("", attr="type", codec=xm.EnumCodec(DISK_TYPES))
    device = xm.Field("", attr="device", codec=xm.EnumCodec(DISK_DEVICES))
    source_file = xm.Field("source", attr="file")
    source_dev = xm.Field("source", attr="dev")
    source_pool = xm.Field("source", attr="pool")
    source_volume = xm.Field("source", attr="volume")
    target = xm.Field("target", attr="dev", codec=xm.TextCodec(forbid="/ "))
    bus = xm.Field("target", attr="bus", codec=xm.EnumCodec(DISK_BUSES))
    driver_name = xm.Field("driver", attr="name")
    driver_type = xm.Field("driver", attr="type")
    readonly = xm.FlagField("readonly")

    @property
    def source(self):
        """The file (type file) or device (type block) path."""
        if self.effective_type == "block":
            return self.source_dev
        return self.source_file

    @source.setter
    def source(self, path):
        if self.effective_type == "volume":
            # A volume disk's source is its pool and volume: a path carried over from another type goes.
            self.source_file = self.source_dev = None
            return
        self.source_pool = self.source_volume = None
        if self.effective_type == "block":
            self.source_file = None
            self.source_dev = path
        else:
            self.source_dev = None
            self.source_file = path

    @property
    def effective_type(self):
        return self.type or "file"

    @property
    def effective_device(self):
        return self.device or "disk"

    def apply_options(self, values, tracker, prefix="", record=True):
        """The declared values, with the disk's own: ``source`` (a path, or EMPTY_MEDIUM: eject) and
        ``readonly``; moving between file and block carries the source over to the right attribute."""
        scratch = tracker if record else DifferenceTracker()
        plain = {k: v for k, v in values.items() if k not in ("source", "readonly", "password")}
        if plain.get("type") and self.type != plain["type"]:
            source = self.source
            self.apply({"type": plain.pop("type")}, scratch, prefix)
            if source is not None and values.get("source") is None:
                self.source = source
        self.apply(plain, scratch, prefix)
        if values.get("source") == EMPTY_MEDIUM:
            if record and self.effective_device not in REMOVABLE_DEVICES:
                raise InputError("'' (no medium) is only for a cdrom or floppy, and %s is a %s"
                                 % (self.target, self.effective_device), option=prefix + "source")
            if self.source is not None:  # ejected: the whole <source>, with what it says about the medium
                scratch.add(prefix + "source", self.source, None)
                self.element.remove(self.element.find("source"))
        elif values.get("source") is not None and self.source != values["source"]:
            scratch.add(prefix + "source", self.source, values["source"])
            self.source = values["source"]
        if values.get("readonly") is not None and self.readonly != values["readonly"]:
            scratch.add(prefix + "readonly", self.readonly, values["readonly"])
            self.readonly = values["readonly"]

    def describe(self):
        where = "%s/%s" % (self.source_pool, self.source_volume) if self.source_volume else self.source
        return "%s %s %s" % (self.effective_device, self.target, where or "(no media)")


class Interface(Device):
    """``<interface type=...>`` in each of the kinds of libvirt's domain XML format."""

    TAG = "interface"
    # By MAC; one declared without a MAC (libvirt generates it) by what it is plugged into.
    IDENTITY = (("mac",), ("type", "source_key"))
    CHILD_ORDER = {"": ["start", "mac", "source", "virtualport", "ip", "route", "script", "downscript",
                        "backenddomain", "target", "guest", "model", "driver", "backend", "alias", "rom",
                        "bandwidth", "vlan", "link", "mtu", "coalesce", "teaming", "address", "acpi"]}

    OPTION_LABELS = {"source_dev": "dev"}

    type = xm.Field("", attr="type", codec=xm.EnumCodec(INTERFACE_TYPES))
    mac = xm.Field("mac", attr="address", codec=xm.MAC)
    network = xm.Field("source", attr="network")
    bridge = xm.Field("source", attr="bridge", codec=xm.TextCodec(forbid="/ "))
    source_dev = xm.Field("source", attr="dev")
    address = xm.Field("source", attr="address")
    port = xm.Field("source", attr="port", codec=xm.IntCodec(minimum=1, maximum=65535))
    target = xm.Field("target", attr="dev", codec=xm.TextCodec(forbid="/ "))
    script = xm.Field("script", attr="path")
    model = xm.Field("model", attr="type")
    ip = xm.Field("ip", attr="address")
    link = xm.Field("link", attr="state", codec=xm.EnumCodec(LINK_STATES))

    @property
    def source_key(self):
        """What the interface is plugged into, for matching when no MAC is declared."""
        where = self.network or self.bridge or self.source_dev or self.address
        if where is None and self.port is None:
            return None
        return (where, self.port)

    def identity_label(self, index=None):
        if self.mac:
            return self.mac
        where = self.network or self.bridge or self.source_dev or self.address
        return "%s:%s" % (self.type, where if where is not None else index)

    def describe(self):
        where = self.network or self.bridge or self.source_dev or (
            "%s:%s" % (self.address, self.port) if self.address else "")
        return "%s %s %s" % (self.type, where, self.mac or "(mac assigned by libvirt)")


class Graphics(Device):
    TAG = "graphics"
    IDENTITY = (("type",),)
    CHILD_ORDER = {"": ["listen", "channel", "image", "streaming", "clipboard", "mouse", "filetransfer", "gl",
                        "audio"]}

    type = xm.Field("", attr="type", codec=xm.EnumCodec(GRAPHICS_TYPES))
    port = xm.Field("", attr="port", codec=_PORT)
    autoport = xm.Field("", attr="autoport", codec=xm.BOOL)
    listen = xm.Field("", attr="listen")
    password = xm.Field("", attr="passwd", codec=xm.RAW_TEXT)

    def apply_options(self, values, tracker, prefix="", record=True):
        """The declared values; ``autoport`` drops a port left in the definition, ``password`` is masked."""
        scratch = tracker if record else DifferenceTracker()
        self.apply({k: v for k, v in values.items() if k != "password"}, scratch, prefix)
        if values.get("autoport"):
            # Ports are picked at each start: a fixed port or a picked one left in the definition is not kept.
            self.element.attrib.pop("port", None)
            self.element.attrib.pop("tlsPort", None)
        if values.get("password") is not None and self.password != values["password"]:
            scratch.add(prefix + "password", MASK if self.password else None, MASK)
            self.password = values["password"]

    def describe(self):
        return "%s %s" % (self.type, "autoport" if self.autoport or self.port == -1 else "port %s" % self.port)


class Console(Device):
    TAG = "console"
    IDENTITY = (("target_port",),)
    CHILD_ORDER = {"": ["source", "protocol", "log", "target", "alias", "address"]}

    OPTION_LABELS = {"source_path": "tty"}

    type = xm.Field("", attr="type", codec=xm.EnumCodec(CONSOLE_TYPES))
    tty = xm.Field("", attr="tty")
    source_path = xm.Field("source", attr="path")
    target_type = xm.Field("target", attr="type")
    target_port = xm.Field("target", attr="port", codec=xm.IntCodec(minimum=0))

    def describe(self):
        return "%s %s" % (self.type or "pty", self.source_path or self.tty or "")


class Serial(Device):
    TAG = "serial"
    IDENTITY = (("target_port",),)
    target_port = xm.Field("target", attr="port", codec=xm.IntCodec())


class Parallel(Serial):
    TAG = "parallel"


class Channel(Device):
    TAG = "channel"
    # virtio channels by name (org.qemu.guest_agent.0), guestfwd channels by address and port.
    IDENTITY = (("target_type", "target_name", "target_address", "target_port"),)
    target_type = xm.Field("target", attr="type")
    target_name = xm.Field("target", attr="name")
    target_address = xm.Field("target", attr="address")
    target_port = xm.Field("target", attr="port", codec=xm.IntCodec())


class Controller(Device):
    TAG = "controller"
    # By index; libvirt numbers the ones declared without an index, so those match by model, in order.
    IDENTITY = (("type", "index"), ("type", "model"))
    type = xm.Field("", attr="type")
    index = xm.Field("", attr="index", codec=xm.IntCodec())
    model = xm.Field("", attr="model")


class Video(Device):
    TAG = "video"  # by position: the first is the primary

    @staticmethod
    def in_libvirt_order(elements):
        """libvirt puts the video whose model says primary='yes' first, whatever its place."""
        return sorted(elements, key=lambda video: video.find("model[@primary='yes']") is None)


class Input(Device):
    TAG = "input"
    IDENTITY = (("type", "bus"),)
    type = xm.Field("", attr="type")
    bus = xm.Field("", attr="bus")


class Sound(Device):
    TAG = "sound"
    IDENTITY = (("model",),)
    model = xm.Field("", attr="model")


class Watchdog(Device):
    TAG = "watchdog"  # one per guest


class Rng(Device):
    TAG = "rng"
    IDENTITY = (("model", "backend_model"),)
    model = xm.Field("", attr="model")
    backend_model = xm.Field("backend", attr="model")


class Tpm(Device):
    TAG = "tpm"  # one per guest


class Memballoon(Device):
    TAG = "memballoon"  # one per guest: changing its model changes it in place, never adds a second


class Filesystem(Device):
    TAG = "filesystem"
    IDENTITY = (("target_dir",),)
    target_dir = xm.Field("target", attr="dir")


class Hostdev(Device):
    TAG = "hostdev"
    IDENTITY = (("type", "source_key"),)
    type = xm.Field("", attr="type")

    @property
    def source_key(self):
        """The host device passed through: its ``<source>`` with numbers normalised (0x02 is 2)."""
        source = self.element.find("source")
        if source is None:
            return None
        parts = []
        for element in source.iter():
            if not isinstance(element.tag, str):
                continue
            attributes = sorted((name, xm.canonical_number_text(value)) for name, value in element.attrib.items())
            parts.append((element.tag, tuple(attributes), xm.canonical_number_text((element.text or "").strip())))
        return tuple(parts)


class Redirdev(Device):
    TAG = "redirdev"
    IDENTITY = (("bus", "type"),)
    bus = xm.Field("", attr="bus")
    type = xm.Field("", attr="type")


class Smartcard(Device):
    TAG = "smartcard"
    IDENTITY = (("mode",),)
    mode = xm.Field("", attr="mode")


class Panic(Device):
    TAG = "panic"
    IDENTITY = (("model",),)
    model = xm.Field("", attr="model")


class Vsock(Device):
    TAG = "vsock"  # one per guest


class Iommu(Device):
    TAG = "iommu"  # one per guest


class Hub(Device):
    TAG = "hub"
    IDENTITY = (("type",),)
    type = xm.Field("", attr="type")


class Shmem(Device):
    TAG = "shmem"
    IDENTITY = (("name",),)
    name = xm.Field("", attr="name")


class Lease(Device):
    TAG = "lease"
    IDENTITY = (("lockspace", "key"),)
    lockspace = xm.Field("lockspace")
    key = xm.Field("key")


class Audio(Device):
    TAG = "audio"
    IDENTITY = (("id",),)
    id = xm.Field("", attr="id", codec=xm.IntCodec())


class Crypto(Device):
    TAG = "crypto"
    IDENTITY = (("model", "type"),)
    model = xm.Field("", attr="model")
    type = xm.Field("", attr="type")


# Device kinds the model knows, by the name of their list on Domain.
DEVICE_CLASSES = {"disks": Disk, "interfaces": Interface, "graphics": Graphics, "consoles": Console}

# Every device kind by its tag: how a device of a declared document is matched with a stored one. A tag not
# listed (a kind newer than this table) is matched by position and containment, and is never added twice.
DEVICE_KINDS = {cls.TAG: cls for cls in (
    Disk, Interface, Graphics, Console, Serial, Parallel, Channel, Controller, Video, Input, Sound, Watchdog,
    Rng, Tpm, Memballoon, Filesystem, Hostdev, Redirdev, Smartcard, Panic, Vsock, Iommu, Hub, Shmem, Lease,
    Audio, Crypto,
)}


def device_class(tag):
    return DEVICE_KINDS.get(tag) or type("Device_%s" % tag, (Device,), {"TAG": tag})


class Domain(xm.XMLModel):
    TAG = "domain"
    CHILD_ORDER = {
        "": ["name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
             "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
             "iothreadids", "cputune", "numatune", "resource", "sysinfo", "bootloader", "bootloader_args",
             "os", "idmap", "features", "cpu", "clock", "on_poweroff", "on_reboot", "on_crash",
             "on_lockfailure", "pm", "perf", "devices", "seclabel", "keywrap", "launchSecurity"],
        "os": ["type", "firmware", "loader", "nvram", "kernel", "initrd", "cmdline", "shim", "dtb", "root",
               "initarg", "initenv", "initdir", "inituser", "initgroup", "boot", "bootmenu", "smbios", "bios",
               "acpi"],
        "features": ["acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "xen", "pvspinlock",
                     "gic", "smm", "ioapic", "vmport", "vmcoreinfo"],
        "devices": ["emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard", "serial",
                    "parallel", "console", "channel", "input", "tpm", "graphics", "sound", "audio", "video",
                    "hostdev", "redirdev", "redirfilter", "hub", "watchdog", "memballoon", "rng", "panic",
                    "shmem", "memory", "iommu", "vsock", "crypto"],
    }

    type = xm.Field("", attr="type", codec=xm.EnumCodec(DOMAIN_TYPES))
    name = xm.Field("name", codec=_NAME_CODEC)
    uuid = xm.Field("uuid", codec=xm.UUID)
    memory = xm.Field("memory", codec=xm.MEMORY)
    current_memory = xm.Field("currentMemory", codec=xm.MEMORY)
    vcpu = xm.Field("vcpu", codec=xm.IntCodec(minimum=1, maximum=16384))
    # The vCPUs online when the guest starts, when fewer than ``vcpu`` (the hot-plug ceiling); None: all of them.
    vcpu_current = xm.Field("vcpu", attr="current", codec=xm.IntCodec(minimum=1, maximum=16384))
    os_type = xm.Field("os/type", codec=xm.EnumCodec(OS_TYPES))
    os_arch = xm.Field("os/type", attr="arch")
    os_machine = xm.Field("os/type", attr="machine")
    loader = xm.Field("os/loader")
    kernel = xm.Field("os/kernel")
    initrd = xm.Field("os/initrd")
    cmdline = xm.Field("os/cmdline", codec=xm.RAW_TEXT)
    root = xm.Field("os/root")
    boot = xm.ListField("os", "boot", attr="dev", codec=xm.EnumCodec(BOOT_DEVICES))
    features = xm.ChildTagsField("features")
    on_poweroff = xm.Field("on_poweroff", codec=xm.EnumCodec(LIFECYCLE_ACTIONS))
    on_reboot = xm.Field("on_reboot", codec=xm.EnumCodec(LIFECYCLE_ACTIONS))
    on_crash = xm.Field("on_crash", codec=xm.EnumCodec(CRASH_ACTIONS))
    emulator = xm.Field("devices/emulator")

    # -- devices ------------------------------------------------------------------------------
    @property
    def disks(self):
        return self.children("devices", "disk", Disk)

    @property
    def interfaces(self):
        return self.children("devices", "interface", Interface)

    @property
    def graphics(self):
        return self.children("devices", "graphics", Graphics)

    @property
    def consoles(self):
        return self.children("devices", "console", Console)

    def devices_of(self, kind):
        return getattr(self, kind)

    def add_device(self, device):
        self.append_child("devices", device)

    def remove_device(self, device):
        device.element.getparent().remove(device.element)

    # -- documents from users -------------------------------------------------------------------
    @classmethod
    def from_user_xml(cls, text, option="xml"):
        """A guest document written by a user: checked, runtime data dropped, old spellings handled."""
        domain = cls.from_xml(text, option)
        domain.drop_runtime_data()
        domain.drop_what_libvirt_does_not_store()
        for index, interface in enumerate(domain.interfaces):
            where = "%s: devices/interface[%d]" % (option, index + 1)
            source = interface.element.find("source")
            if source is None:
                continue
            if interface.type == "bridge" and source.get("bridge") is None and source.get("dev") is not None:
                # libvirt-format.html (libvirt 0.2) writes a bridge as <source dev='br0'/>; libvirt
                # reads only <source bridge='br0'/> now.
                source.set("bridge", source.attrib.pop("dev"))
            if interface.type == "network" and source.get("network") is None and source.get("name") is not None:
                raise ModelError(
                    "<interface type='network'> names its network with <source name='%s'/>; libvirt needs "
                    "<source network='%s'/>" % (source.get("name"), source.get("name")), option=where)
        domain.validate_raw(option)
        for kind, device_class in DEVICE_CLASSES.items():
            for index, device in enumerate(domain.devices_of(kind)):
                device.validate_raw("%s: devices/%s[%d]" % (option, device_class.TAG, index + 1))
        check_unique_disk_targets(domain.disks, option)
        return domain

    def numa_memory(self):
        """The guest's memory in KiB as its NUMA cells and memory devices add it up (libvirt's total when the
        guest has NUMA cells), or None without cells or with a cell size that is not one."""
        cells = self.element.findall("cpu/numa/cell")
        if not cells:
            return None
        total = 0
        sized = [(cell.get("memory"), cell.get("unit")) for cell in cells]
        for device in self.element.findall("devices/memory"):
            size = device.find("target/size")
            if size is not None and device.get("model") != "sgx-epc":  # enclave memory is not guest RAM
                sized.append((size.text, size.get("unit")))
        for digits, unit in sized:
            size = xm.size_in_bytes(digits.strip(), unit) if digits and digits.strip().isdigit() else None
            if size is None:
                return None
            total += size
        return -(-total // 1024)

    def drop_runtime_data(self):
        """Remove what a running guest's document (``virsh dumpxml``) carries that is not configuration, as
        libvirt itself drops it when it reads a definition (its inactive parse): the domain id, the aliases
        libvirt gave devices (a user's ``ua-`` alias stays), the ports picked for autoport consoles, the tap
        name, port id and bridge of a running interface, the pty a character device got, the socket path
        libvirt generated for a channel (and ``<source mode='bind'/>``, which asks for one) and its
        connection state, the labels of a dynamic security label (and every image label), and a disk's
        block job (``<mirror>``), backing-chain indexes (and a ``<source>`` left with nothing else: an ejected
        medium) and the labels skipped on its images.
        """
        root = self.element
        root.attrib.pop("id", None)
        for alias in root.iter("alias"):
            if not (alias.get("name") or "").startswith("ua-"):
                alias.getparent().remove(alias)
        devices = root.find("devices")
        for device in devices if devices is not None else ():
            if not isinstance(device.tag, str):
                continue
            if device.tag == "graphics":
                _drop_allocated_ports(device)
            elif device.tag == "interface":
                _drop_interface_runtime(device)
            elif device.tag in ("console", "serial", "parallel", "channel"):
                _drop_character_device_runtime(device)
            elif device.tag == "disk":
                _drop_disk_runtime(device)
        for seclabel in root.findall("seclabel"):
            for label in seclabel.findall("imagelabel") + (
                    seclabel.findall("label") if seclabel.get("type") == "dynamic" else []):
                seclabel.remove(label)

    def drop_what_libvirt_does_not_store(self):
        """Remove spellings of "the default" that libvirt reads and then does not store, so that a document
        saying them compares equal to the definition libvirt keeps (found with libvirt's own qemuxml2xml
        test pairs): empty top-level elements (``<cpu/>``), an unlimited memtune limit, an empty or zero
        interrupt coalescing, ``-1`` (any) in a USB redirection filter, a boot menu timeout with the menu
        off, a host-model CPU's ``<model fallback=.../>``, the type of an empty CD-ROM or floppy, a SCSI
        iSCSI disk or host device name without its LUN (``/0``), ``autoport='no'`` on a console with no port,
        ``<vcpu current>`` equal to the number of vCPUs, and an ISA serial port on a machine that is not x86."""
        root = self.element
        for element in root.findall("memtune/*"):
            if (element.text or "").strip() == _UNLIMITED_KIB and element.get("unit") in (None, "KiB", "k", "K"):
                element.getparent().remove(element)
        for coalesce in root.findall("devices/interface/coalesce"):
            for frames in coalesce.findall("rx/frames"):
                if frames.get("max") in ("0", None):
                    frames.getparent().remove(frames)
            for rx in coalesce.findall("rx"):
                if not len(rx) and not rx.attrib:
                    coalesce.remove(rx)
            if not len(coalesce) and not coalesce.attrib:
                coalesce.getparent().remove(coalesce)
        for usbdev in root.findall("devices/redirfilter/usbdev"):
            for name in ("class", "vendor", "product", "version"):
                if usbdev.get(name) == "-1":
                    usbdev.attrib.pop(name)
            version = usbdev.get("version") or ""
            if re.match(r"^\d+\.\d$", version):
                usbdev.set("version", version + "0")  # binary-coded: 9.4 is 0x0940, written 9.40
        bootmenu = root.find("os/bootmenu")
        if bootmenu is not None and bootmenu.get("enable") == "no":
            bootmenu.attrib.pop("timeout", None)
        cpu = root.find("cpu")
        if cpu is not None and cpu.get("mode") == "host-model":
            model = cpu.find("model")
            if model is not None and not (model.text or "").strip() and set(model.attrib) <= {"fallback"}:
                cpu.remove(model)
        for disk in root.findall("devices/disk"):
            if disk.get("device") in ("cdrom", "floppy") and disk.find("source") is None:
                disk.attrib.pop("type", None)  # no medium: libvirt stores it as type file
        for source in root.findall("devices/hostdev/source[@protocol='iscsi']") + \
                root.findall("devices/disk/source[@protocol='iscsi']"):
            if source.get("name") and "/" not in source.get("name"):
                source.set("name", source.get("name") + "/0")
        arch = root.find("os/type").get("arch") if root.find("os/type") is not None else None
        if arch is not None and arch not in ("x86_64", "i686"):
            for target in root.findall("devices/serial/target[@type='isa-serial']"):
                # An ISA serial port is x86's; libvirt gives other machines their own (pl011, spapr-vty).
                if set(target.attrib) == {"type"} and not len(target):
                    target.getparent().remove(target)
        for graphics in root.findall("devices/graphics"):
            if graphics.get("autoport") == "no" and graphics.get("port") is None and graphics.get("tlsPort") is None:
                graphics.attrib.pop("autoport")
        numatune_memory = root.find("numatune/memory")
        vcpu = root.find("vcpu")
        if vcpu is not None and vcpu.get("current") is not None \
                and xm.canonical_number_text(vcpu.get("current")) == xm.canonical_number_text((vcpu.text or "").strip()):
            vcpu.attrib.pop("current")  # every vCPU online: libvirt writes no current
        if numatune_memory is not None and numatune_memory.get("placement") == "auto" and vcpu is not None \
                and vcpu.get("cpuset") is None and root.find("cputune") is None:
            vcpu.set("placement", "auto")  # vCPUs follow the memory's automatic placement
        for element in list(root):
            # (An empty <features/> stays: for a new guest it says "no features", not "the defaults".)
            if isinstance(element.tag, str) and element.tag != "features" and not len(element) \
                    and not element.attrib and not (element.text or "").strip():
                root.remove(element)

    def has_nvram(self):
        """Whether the guest boots UEFI firmware with a variable store (NVRAM) of its own."""
        os_element = self.element.find("os")
        if os_element is None:
            return False
        loader = os_element.find("loader")
        return (os_element.find("nvram") is not None or os_element.get("firmware") == "efi"
                or (loader is not None and loader.get("type") == "pflash"))

    # -- output -----------------------------------------------------------------------------------
    def to_masked_xml(self, pretty=True):
        """The document with every password replaced by a mask, for results and diffs."""
        masked = self.copy()
        for element in masked.element.iter():
            for secret in SECRET_ATTRIBUTES:
                if element.get(secret) is not None:
                    element.set(secret, MASK)
        return masked.to_pretty_xml() if pretty else masked.to_xml()


# libvirt's "no limit" for memtune (VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, in KiB).
_UNLIMITED_KIB = str(2 ** 53 - 1)


def _drop_allocated_ports(graphics):
    # port='-1' is libvirt's other spelling of autoport='yes'; with autoport the ports are picked at each
    # start (a running guest shows them), and libvirt drops them from a definition.
    if graphics.get("port") == "-1" and graphics.get("autoport") is None:
        graphics.set("autoport", "yes")
    if graphics.get("autoport") == "yes":
        for attribute in ("port", "tlsPort"):
            graphics.attrib.pop(attribute, None)
        if graphics.get("websocket") not in (None, "-1"):
            graphics.attrib.pop("websocket")


def _drop_interface_runtime(interface):
    target = interface.find("target")
    if target is not None and is_generated_interface_name(target.get("dev")):
        # The tap name libvirt gave a running guest; libvirt drops such names from a definition.
        target.attrib.pop("dev")
        if not len(target) and not target.attrib:
            interface.remove(target)
    source = interface.find("source")
    if source is not None and interface.get("type") == "network":
        source.attrib.pop("portid", None)  # the port of the running guest on its network
        source.attrib.pop("bridge", None)  # the network's bridge, filled in while the guest runs
    elif source is not None:
        source.attrib.pop("portid", None)


def _drop_disk_runtime(disk):
    for mirror in disk.findall("mirror"):
        disk.remove(mirror)
    for element in [disk] + disk.findall(".//backingStore"):
        source = element.find("source")
        if element is not disk:
            element.attrib.pop("index", None)
        if source is not None:
            source.attrib.pop("index", None)
            for label in source.findall("seclabel"):
                if label.get("labelskip") == "yes":
                    source.remove(label)
            if element is disk and not source.attrib and not len(source):
                disk.remove(source)  # <source index='3'/>: a medium ejected from the running guest, so none


# Where libvirt puts the sockets it generates for unix channels (qemu driver's channelTargetDir).
_GENERATED_CHANNEL_PATH = re.compile(r"/channel/target/domain-[^/]+/[^/]+$")


def _drop_character_device_runtime(device):
    kind = device.get("type") or "pty"
    source = device.find("source")
    if kind == "pty":
        device.attrib.pop("tty", None)  # the pty the running guest got, allocated at each start
        if source is not None:
            source.attrib.pop("path", None)
    elif kind == "unix" and source is not None and source.get("mode") == "bind" \
            and _GENERATED_CHANNEL_PATH.search(source.get("path") or ""):
        source.attrib.pop("path")
    if kind == "unix" and source is not None and dict(source.attrib) == {"mode": "bind"} and not len(source):
        # A listening socket at a path libvirt picks: what libvirt stores as no <source> at all.
        source.attrib.pop("mode")
    if source is not None and not source.attrib and not len(source):
        device.remove(source)
    target = device.find("target")
    if target is not None and device.tag == "channel":
        target.attrib.pop("state", None)  # connected/disconnected: the guest agent's state now


def secret_values_in_xml(text):
    """Every secret attribute value written in the domain XML ``text``, as parsed and as written (escaped),
    so that either form can be masked in output. Works on text that is not well formed, too: a password in
    a document the task refuses must not be echoed either."""
    if not isinstance(text, str):
        return set()
    values = set()
    for double_quoted, single_quoted in _SECRET_ATTRIBUTE_TEXT.findall(text):
        written = double_quoted or single_quoted
        if written:
            values.add(written)
            values.add(_xml_unescape(written))
    return values


def _xml_unescape(text):
    for entity, character in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(entity, character)
    return text


def check_unique_disk_targets(disks, option):
    """Each disk (of a document, or built from the options) on a target of its own."""
    seen = {}
    for index, disk in enumerate(disks):
        target = disk.target
        if target is None:
            continue
        if target in seen:
            raise ModelError("two disks use the target %r (entries %d and %d); each disk needs its own target"
                             % (target, seen[target] + 1, index + 1), option=option)
        seen[target] = index


def guess_disk_bus(target):
    """libvirt's bus for a target name (hda -> ide, sda -> scsi, vda -> virtio, xvda -> xen, fda -> fdc)."""
    for prefix, bus in (("xvd", "xen"), ("hd", "ide"), ("sd", "scsi"), ("vd", "virtio"), ("fd", "fdc"),
                        ("ubd", "uml")):
        if target and target.startswith(prefix):
            return bus
    return None


def removable_storage(domain):
    """Paths of writable hard-disk images (never CD-ROM, floppy or read-only media)."""
    paths = []
    for disk in domain.disks:
        if disk.effective_device == "disk" and not disk.readonly and disk.effective_type in ("file", "block") \
                and disk.source:
            paths.append(disk.source)
    return paths


def removable_volumes(domain):
    """(pool, volume) of every disk on a storage volume, CD-ROMs included: a guest's cloud-init disk is its own."""
    return [(disk.source_pool, disk.source_volume) for disk in domain.disks
            if disk.effective_type == "volume" and disk.source_pool and disk.source_volume]


# Prefixes of the tap and macvtap names libvirt generates; it drops a <target dev> starting with one from a
# definition (virDomainNetDefParseXML) and picks its own name when the guest starts.
GENERATED_INTERFACE_PREFIXES = ("vnet", "macvtap", "macvlan")


def is_generated_interface_name(name):
    return bool(name) and name.startswith(GENERATED_INTERFACE_PREFIXES)


# The guest's scalar options, each declared once: what the task spells, its argument spec and the field it sets
# (see _options.py). The argument spec, the normalisation and the labels in ``changes`` come from here.
DOMAIN_OPTIONS = (
    Option("type", "type", {"type": "str", "choices": list(DOMAIN_TYPES)}),
    Option("uuid", "uuid", {"type": "str"}),
    Option("memory", "memory", {"type": "raw"}),
    Option("current_memory", "current_memory", {"type": "raw"}),
    Option("on_poweroff", "on_poweroff", {"type": "str", "choices": list(LIFECYCLE_ACTIONS)}),
    Option("on_reboot", "on_reboot", {"type": "str", "choices": list(LIFECYCLE_ACTIONS)}),
    Option("on_crash", "on_crash", {"type": "str", "choices": list(CRASH_ACTIONS)}),
    Option("emulator", "emulator", {"type": "str"}),
    Option("features", "features", {"type": "list", "elements": "str"}),
    Option("os.type", "os_type", {"type": "str", "choices": list(OS_TYPES)}),
    Option("os.arch", "os_arch", {"type": "str"}),
    Option("os.machine", "os_machine", {"type": "str"}),
    Option("os.kernel", "kernel", {"type": "str"}),
    Option("os.initrd", "initrd", {"type": "str"}),
    Option("os.cmdline", "cmdline", {"type": "str"}),
    Option("os.root", "root", {"type": "str"}),
    Option("os.loader", "loader", {"type": "str"}),
    Option("os.boot", "boot", {"type": "list", "elements": "str", "choices": list(BOOT_DEVICES)}),
)
# vcpu_current is set by DomainPlan from vcpu and max_vcpu (<vcpu current=...>), not by a row of its own.
Domain.OPTION_LABELS = dict(option_labels(DOMAIN_OPTIONS), vcpu_current="vcpu@current")
