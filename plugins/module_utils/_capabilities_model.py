# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Typed objects over libvirt's two capabilities documents.

``<capabilities>`` (virConnectGetCapabilities) describes the host and, per guest kind, the OS type,
architecture, word size, domain types, emulator, machine types and loader. ``<domainCapabilities>``
(virConnectGetDomainCapabilities) describes what one emulator offers one domain type: disk buses,
graphics types, firmware, CPU modes. Both are read-only in use; like every model they keep the
whole document, so anything not named here survives a parse/render round trip.
"""
from __future__ import annotations

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm

# os_type values of <guest> (libvirt's virDomainOSType as capabilities spell it).
OS_TYPE_HVM = "hvm"
OS_TYPE_XEN_PV = "xen"
OS_TYPE_XEN_PVH = "xenpvh"


class ScaledSizeCodec(xm.Codec):
    """A size held in an attribute with a sibling unit attribute (``size='2048' unit='KiB'``), as KiB."""

    type_name = "size"

    def __init__(self, unit_attr="unit"):
        self.unit_attr = unit_attr

    def decode(self, raw, element):
        try:
            number = int(raw.strip())
        except ValueError:
            return raw
        size = xm.scale_to_bytes(number, element.get(self.unit_attr))
        if size is None:
            return raw
        return -(-size // 1024)

    def write(self, element, attr, value):
        element.set(attr, str(value))
        element.set(self.unit_attr, "KiB")


SIZE_KIB = ScaledSizeCodec()


class EnumValuesField(xm.Field):
    """The values of ``<enum name='NAME'><value>...</value></enum>`` under ``path`` (domain capabilities).

    Reads [] when the element or the enum is absent: libvirt offers none of them there.
    """

    def __init__(self, path, enum_name):
        super().__init__(path)
        self.enum_name = enum_name

    def _enum(self, model):
        parent = model.find(self.steps)
        if parent is None:
            return None
        for enum in parent.findall("enum"):
            if enum.get("name") == self.enum_name:
                return enum
        return None

    def __get__(self, model, owner=None):
        if model is None:
            return self
        enum = self._enum(model)
        if enum is None:
            return []
        return [xm.TEXT.read(value, None) for value in enum.findall("value")]

    def __set__(self, model, values):
        enum = self._enum(model)
        if enum is None:
            if values is None:
                return
            enum = xm.etree.SubElement(model.ensure(self.steps), "enum", name=self.enum_name)
        for value in enum.findall("value"):
            enum.remove(value)
        for value in values or ():
            xm.etree.SubElement(enum, "value").text = str(value)

    def raw(self, model):
        return None


# ----------------------------------------------------------------------------------------------
# <capabilities>: guests
# ----------------------------------------------------------------------------------------------

class Machine(xm.XMLModel):
    """``<machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>``: a machine type or an alias."""

    TAG = "machine"

    name = xm.Field("")
    # The machine type this name is an alias of.
    canonical = xm.Field("", attr="canonical")
    max_cpus = xm.Field("", attr="maxCpus", codec=xm.INT)
    deprecated = xm.Field("", attr="deprecated", codec=xm.BOOL)


class GuestDomain(xm.XMLModel):
    """``<domain type='kvm'>``, optionally with an emulator and machines of its own."""

    TAG = "domain"
    CHILD_ORDER = {"": ["emulator", "machine"]}

    type = xm.Field("", attr="type")
    emulator = xm.Field("emulator")
    machines = xm.ListField("", "machine")

    @property
    def machine_entries(self):
        return self.children("", "machine", Machine)


class GuestFeature(xm.XMLModel):
    """One child of a guest's ``<features>`` (``<acpi default='on' toggle='yes'/>``, ``<pae/>``)."""

    # Whether the feature is on unless configured.
    default = xm.Field("", attr="default", codec=xm.BOOL)
    # Whether a guest may switch it.
    toggle = xm.Field("", attr="toggle", codec=xm.BOOL)

    @property
    def name(self):
        return self.element.tag


class Guest(xm.XMLModel):
    """``<guest>``: one kind of guest the host can run (an OS type on an architecture)."""

    TAG = "guest"
    CHILD_ORDER = {
        "": ["os_type", "arch", "features"],
        "arch": ["wordsize", "emulator", "loader", "machine", "domain"],
    }

    os_type = xm.Field("os_type")
    arch = xm.Field("arch", attr="name")
    wordsize = xm.Field("arch/wordsize", codec=xm.INT)
    emulator = xm.Field("arch/emulator")
    loader = xm.Field("arch/loader")
    # Every machine name, canonical names and aliases alike.
    machines = xm.ListField("arch", "machine")
    domain_types = xm.ListField("arch", "domain", attr="type")
    features = xm.ChildTagsField("features")

    @property
    def machine_entries(self):
        return self.children("arch", "machine", Machine)

    @property
    def domains(self):
        return self.children("arch", "domain", GuestDomain)

    @property
    def feature_entries(self):
        parent = self.element.find("features")
        if parent is None:
            return []
        return [GuestFeature(child) for child in parent if isinstance(child.tag, str)]


# ----------------------------------------------------------------------------------------------
# <capabilities>: host
# ----------------------------------------------------------------------------------------------

class PagePool(xm.XMLModel):
    """``<pages unit='KiB' size='2048'>512</pages>``: pages of one size in a NUMA cell."""

    TAG = "pages"

    size = xm.Field("", attr="size", codec=SIZE_KIB)
    count = xm.Field("", codec=xm.INT)


class Sibling(xm.XMLModel):
    """``<sibling id='1' value='21'/>``: the NUMA distance to another cell."""

    TAG = "sibling"

    id = xm.Field("", attr="id", codec=xm.INT)
    value = xm.Field("", attr="value", codec=xm.INT)


class NumaCell(xm.XMLModel):
    TAG = "cell"
    CHILD_ORDER = {"": ["memory", "pages", "distances", "cpus"]}

    id = xm.Field("", attr="id", codec=xm.INT)
    # KiB.
    memory = xm.Field("memory", codec=xm.MEMORY)
    cpu_count = xm.Field("cpus", attr="num", codec=xm.INT)
    cpus = xm.ListField("cpus", "cpu", attr="id", codec=xm.INT)

    @property
    def page_pools(self):
        return self.children("", "pages", PagePool)

    @property
    def distances(self):
        return self.children("distances", "sibling", Sibling)


class CacheBank(xm.XMLModel):
    """``<bank id='0' level='3' type='both' size='15' unit='MiB' cpus='0-5'>``."""

    TAG = "bank"

    id = xm.Field("", attr="id", codec=xm.INT)
    level = xm.Field("", attr="level", codec=xm.INT)
    type = xm.Field("", attr="type")
    size = xm.Field("", attr="size", codec=SIZE_KIB)
    cpus = xm.Field("", attr="cpus")


class BaseLabel(xm.XMLModel):
    TAG = "baselabel"

    type = xm.Field("", attr="type")
    label = xm.Field("")


class SecurityModel(xm.XMLModel):
    """``<secmodel>``: a security driver (selinux, apparmor, dac) and its base labels."""

    TAG = "secmodel"
    CHILD_ORDER = {"": ["model", "doi", "baselabel"]}

    model = xm.Field("model")
    doi = xm.Field("doi")

    @property
    def base_labels(self):
        return self.children("", "baselabel", BaseLabel)


class Host(xm.XMLModel):
    TAG = "host"
    CHILD_ORDER = {
        "": ["uuid", "cpu", "power_management", "iommu", "migration_features", "topology", "cache",
             "memory_bandwidth", "secmodel"],
        "cpu": ["arch", "model", "vendor", "microcode", "signature", "counter", "topology", "maxphysaddr",
                "features", "feature", "pages"],
    }

    uuid = xm.Field("uuid", codec=xm.UUID)
    arch = xm.Field("cpu/arch")
    cpu_model = xm.Field("cpu/model")
    cpu_vendor = xm.Field("cpu/vendor")
    cpu_microcode = xm.Field("cpu/microcode", attr="version")
    # Old documents (libvirt's early format pages, Xen) write flags as <features><vmx/></features>; newer ones as
    # <feature name='vmx'/>. cpu_features joins both.
    cpu_flag_features = xm.ChildTagsField("cpu/features")
    cpu_named_features = xm.ListField("cpu", "feature", attr="name")
    cpu_sockets = xm.Field("cpu/topology", attr="sockets", codec=xm.INT)
    cpu_dies = xm.Field("cpu/topology", attr="dies", codec=xm.INT)
    cpu_clusters = xm.Field("cpu/topology", attr="clusters", codec=xm.INT)
    cpu_cores = xm.Field("cpu/topology", attr="cores", codec=xm.INT)
    cpu_threads = xm.Field("cpu/topology", attr="threads", codec=xm.INT)
    cpu_address_bits = xm.Field("cpu/maxphysaddr", attr="bits", codec=xm.INT)
    # KiB.
    page_sizes = xm.ListField("cpu", "pages", attr="size", codec=SIZE_KIB)
    power_management = xm.ChildTagsField("power_management")
    iommu = xm.Field("iommu", attr="support", codec=xm.BOOL)
    migration_features = xm.ChildTagsField("migration_features")
    migration_transports = xm.ListField("migration_features/uri_transports", "uri_transport")
    numa_cell_count = xm.Field("topology/cells", attr="num", codec=xm.INT)

    @property
    def cpu_features(self):
        features = list(self.cpu_flag_features or [])
        for name in self.cpu_named_features:
            if name not in features:
                features.append(name)
        return features

    @property
    def cpu_topology(self):
        """sockets/dies/clusters/cores/threads as libvirt reports them (absent ones left out)."""
        topology = {}
        for key in ("sockets", "dies", "clusters", "cores", "threads"):
            value = getattr(self, "cpu_" + key)
            if value is not None:
                topology[key] = value
        return topology or None

    @property
    def live_migration(self):
        features = self.migration_features
        return None if features is None else "live" in features

    @property
    def numa_cells(self):
        return self.children("topology/cells", "cell", NumaCell)

    @property
    def cache_banks(self):
        return self.children("cache", "bank", CacheBank)

    @property
    def security_models(self):
        return self.children("", "secmodel", SecurityModel)


# ----------------------------------------------------------------------------------------------
# <capabilities>
# ----------------------------------------------------------------------------------------------

class Capabilities(xm.XMLModel):
    """The host's capabilities document and the answers derived from it."""

    TAG = "capabilities"
    CHILD_ORDER = {"": ["host", "guest"]}

    host_arch = xm.Field("host/cpu/arch")

    @property
    def host(self):
        element = self.element.find("host")
        return Host(element if element is not None else xm.etree.Element("host"))

    @property
    def guests(self):
        return self.children("", "guest", Guest)

    def canonical_machine(self, arch, domain_type, name):
        """The machine type ``name`` is an alias of for guests of ``arch`` and ``domain_type`` (``pc`` ->
        ``pc-i440fx-7.2``), or None when it is no alias here."""
        for guest in self.guests:
            if arch is not None and guest.arch != arch:
                continue
            entries = list(guest.machine_entries)
            for domain in guest.domains:
                if domain.type == domain_type:
                    entries = list(domain.machine_entries) + entries
            for machine in entries:
                if machine.name == name and machine.canonical:
                    return machine.canonical
        return None

    def _unique(self, values):
        seen = []
        for value in values:
            if value is not None and value not in seen:
                seen.append(value)
        return seen

    @property
    def guest_arches(self):
        """Every guest architecture, in the order libvirt lists them."""
        return self._unique(guest.arch for guest in self.guests)

    @property
    def domain_types(self):
        """Every domain type (hypervisor) any guest offers: [qemu, kvm], [xen], [test]..."""
        return self._unique(kind for guest in self.guests for kind in guest.domain_types)

    def arches_of(self, os_type=None, domain_type=None):
        return self._unique(guest.arch for guest in self.guests
                            if (os_type is None or guest.os_type == os_type)
                            and (domain_type is None or domain_type in guest.domain_types))

    def domain_types_for(self, arch):
        """The domain types offered for guests of ``arch``, whatever their OS type."""
        return self._unique(kind for guest in self.guests if guest.arch == arch for kind in guest.domain_types)

    @property
    def hvm(self):
        """Fully virtualized guests (os_type hvm) are possible."""
        return any(guest.os_type == OS_TYPE_HVM for guest in self.guests)

    @property
    def paravirt(self):
        """Xen paravirtualized guests (os_type xen) are possible."""
        return any(guest.os_type == OS_TYPE_XEN_PV for guest in self.guests)

    @property
    def pvh(self):
        """Xen PVH guests (os_type xenpvh) are possible."""
        return any(guest.os_type == OS_TYPE_XEN_PVH for guest in self.guests)

    @property
    def kvm(self):
        """Hardware acceleration is usable: some guest of the host's own architecture lists domain
        type kvm. libvirt lists kvm only when /dev/kvm is usable and the emulator supports it."""
        arch = self.host_arch
        return arch is not None and any(
            guest.arch == arch and "kvm" in guest.domain_types for guest in self.guests)


# ----------------------------------------------------------------------------------------------
# <domainCapabilities>
# ----------------------------------------------------------------------------------------------

def _scalar(element):
    """The text of a leaf element, as an integer when it is one (``<cbitpos>47</cbitpos>``)."""
    value = xm.INT.read(element, None)
    return value.strip() if isinstance(value, str) else value


class Enum(xm.XMLModel):
    """``<enum name='bus'><value>virtio</value>...</enum>``."""

    TAG = "enum"

    name = xm.Field("", attr="name")
    values = xm.ListField("", "value")


class SupportBlock(xm.XMLModel):
    """Any element of the domain capabilities that carries ``supported='yes|no'``, with its enums
    (``<disk supported='yes'><enum name='bus'>...``), plain values (the loader paths) and nested
    blocks (``<os><loader supported=...>``)."""

    supported = xm.Field("", attr="supported", codec=xm.BOOL)
    values = xm.ListField("", "value")

    @property
    def tag(self):
        return self.element.tag

    @property
    def enums(self):
        return self.children("", "enum", Enum)

    def as_dict(self):
        """``supported``, each enum by name, ``values`` when given, nested blocks by tag, and leaf
        settings (SEV's ``cbitpos``) by tag. Deeper structures stay in the XML only."""
        result = {"supported": self.supported}
        if self.values:
            result["values"] = self.values
        for enum in self.enums:
            result[enum.name] = enum.values
        for child in self.element:
            if not isinstance(child.tag, str) or child.tag in ("enum", "value") or child.tag in result:
                continue
            if child.get("supported") is not None:
                result[child.tag] = SupportBlock(child).as_dict()
            elif not len(child) and (child.text or "").strip():
                result[child.tag] = _scalar(child)
        return result


class CpuModel(xm.XMLModel):
    """``<model usable='yes' vendor='Intel' canonical='Broadwell-v2'>Broadwell-noTSX</model>``."""

    TAG = "model"

    name = xm.Field("")
    # Yes, no or unknown.
    usable = xm.Field("", attr="usable", codec=xm.BOOL)
    vendor = xm.Field("", attr="vendor")
    canonical = xm.Field("", attr="canonical")


class CpuMode(xm.XMLModel):
    """``<mode name='host-model' supported='yes'>``: a CPU mode and, for host-model, the CPU it gives;
    for custom, the named models and whether each is usable on this host."""

    TAG = "mode"

    name = xm.Field("", attr="name")
    supported = xm.Field("", attr="supported", codec=xm.BOOL)
    # The model host-model expands to.
    host_model = xm.Field("model")
    host_model_fallback = xm.Field("model", attr="fallback")
    vendor = xm.Field("vendor")

    @property
    def models(self):
        """The custom mode's models (host-model's single <model> carries no usable attribute)."""
        return [model for model in self.children("", "model", CpuModel) if model.usable is not None]

    def features_with_policy(self, policy):
        return [feature.get("name") for feature in self.element.findall("feature") if feature.get("policy") == policy]

    def as_dict(self):
        result = SupportBlock(self.element).as_dict()
        result.pop("model", None)  # leaves the generic reading picks up; described below instead
        result.pop("vendor", None)
        if self.name == "host-model":
            result.update({"model": self.host_model, "fallback": self.host_model_fallback, "vendor": self.vendor,
                           "features_required": self.features_with_policy("require"),
                           "features_disabled": self.features_with_policy("disable")})
        models = self.models
        if models:
            result["models"] = [model.name for model in models]
            result["usable_models"] = [model.name for model in models if model.usable is True]
            aliases = {model.name: model.canonical for model in models if model.canonical}
            if aliases:
                result["model_aliases"] = aliases
        return result


class DomainCapabilities(xm.XMLModel):
    """What one emulator offers one domain type on one architecture and machine."""

    TAG = "domainCapabilities"
    CHILD_ORDER = {"": ["path", "domain", "machine", "arch", "vcpu", "iothreads", "os", "cpu", "memoryBacking",
                        "devices", "features"]}

    emulator = xm.Field("path")
    domain_type = xm.Field("domain")
    machine = xm.Field("machine")
    arch = xm.Field("arch")
    vcpu_max = xm.Field("vcpu", attr="max", codec=xm.INT)
    iothreads = xm.Field("iothreads", attr="supported", codec=xm.BOOL)
    os_supported = xm.Field("os", attr="supported", codec=xm.BOOL)
    # Values of <os firmware=...>: bios, efi.
    firmware = EnumValuesField("os", "firmware")
    loader_supported = xm.Field("os/loader", attr="supported", codec=xm.BOOL)
    # Firmware image paths.
    loaders = xm.ListField("os/loader", "value")
    loader_types = EnumValuesField("os/loader", "type")
    disk_devices = EnumValuesField("devices/disk", "diskDevice")
    disk_buses = EnumValuesField("devices/disk", "bus")
    disk_models = EnumValuesField("devices/disk", "model")
    graphics_types = EnumValuesField("devices/graphics", "type")
    video_models = EnumValuesField("devices/video", "modelType")
    hostdev_subsystem_types = EnumValuesField("devices/hostdev", "subsysType")

    def _block(self, path):
        element = self.find(tuple(step for step in path.split("/") if step))
        return None if element is None else SupportBlock(element)

    @property
    def os(self):
        return self._block("os")

    @property
    def memory_backing(self):
        return self._block("memoryBacking")

    @property
    def cpu_modes(self):
        return self.children("cpu", "mode", CpuMode)

    def _blocks_under(self, path):
        parent = self.find((path,))
        if parent is None:
            return []
        return [SupportBlock(child) for child in parent if isinstance(child.tag, str)]

    @property
    def devices(self):
        return self._blocks_under("devices")

    @property
    def features(self):
        return self._blocks_under("features")

    @property
    def supported_cpu_modes(self):
        return [mode.name for mode in self.cpu_modes if mode.supported is True]

    @property
    def usable_cpu_models(self):
        for mode in self.cpu_modes:
            if mode.name == "custom":
                return [model.name for model in mode.models if model.usable is True]
        return []
