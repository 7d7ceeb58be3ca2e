"""The capabilities models and the facts built from them, on the example of libvirt's format documentation,
libvirt's own test documents (the corpus' capabilities folder) and domain capabilities captured from real hosts."""
from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.virt.libvirt.plugins.module_utils import _capabilities_model as cm
from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._capabilities import (
    capabilities_facts, domain_capabilities_facts, version_string,
)
from ansible_collections.virt.libvirt.plugins.module_utils._errors import ModelError
from tests.support.harness import CORPUS
from tests.support.source_documents import format_capabilities

CORPUS_DIR = CORPUS / "capabilities"
CORPUS_FILES = sorted(path.name for path in CORPUS_DIR.glob("*.xml"))
(FORMAT_EXAMPLE,) = format_capabilities()

# Captured from this project's CI host: `virsh domcapabilities --virttype kvm --arch x86_64` (libvirt 9.0.0,
# QEMU 7.2), with the long CPU model and feature lists cut down.
CAPTURED_KVM_X86_64 = """<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <domain>kvm</domain>
  <machine>pc-i440fx-7.2</machine>
  <arch>x86_64</arch>
  <vcpu max='255'/>
  <iothreads supported='yes'/>
  <os supported='yes'>
    <enum name='firmware'/>
    <loader supported='yes'>
      <enum name='type'>
        <value>rom</value>
        <value>pflash</value>
      </enum>
      <enum name='readonly'>
        <value>yes</value>
        <value>no</value>
      </enum>
      <enum name='secure'>
        <value>no</value>
      </enum>
    </loader>
  </os>
  <cpu>
    <mode name='host-passthrough' supported='yes'>
      <enum name='hostPassthroughMigratable'>
        <value>on</value>
        <value>off</value>
      </enum>
    </mode>
    <mode name='maximum' supported='yes'>
      <enum name='maximumMigratable'>
        <value>on</value>
        <value>off</value>
      </enum>
    </mode>
    <mode name='host-model' supported='yes'>
      <model fallback='forbid'>Broadwell-noTSX-IBRS</model>
      <vendor>Intel</vendor>
      <feature policy='require' name='vme'/>
      <feature policy='require' name='ss'/>
      <feature policy='disable' name='pni'/>
    </mode>
    <mode name='custom' supported='yes'>
      <model usable='no' vendor='unknown'>qemu64</model>
      <model usable='yes' vendor='unknown'>pentium3</model>
      <model usable='yes' vendor='Intel'>Broadwell-noTSX-IBRS</model>
    </mode>
  </cpu>
  <memoryBacking supported='yes'>
    <enum name='sourceType'>
      <value>file</value>
      <value>anonymous</value>
      <value>memfd</value>
    </enum>
  </memoryBacking>
  <devices>
    <disk supported='yes'>
      <enum name='diskDevice'>
        <value>disk</value>
        <value>cdrom</value>
        <value>floppy</value>
        <value>lun</value>
      </enum>
      <enum name='bus'>
        <value>ide</value>
        <value>fdc</value>
        <value>scsi</value>
        <value>virtio</value>
        <value>usb</value>
        <value>sata</value>
      </enum>
      <enum name='model'>
        <value>virtio</value>
        <value>virtio-transitional</value>
        <value>virtio-non-transitional</value>
      </enum>
    </disk>
    <graphics supported='yes'>
      <enum name='type'>
        <value>sdl</value>
        <value>vnc</value>
        <value>spice</value>
        <value>egl-headless</value>
        <value>dbus</value>
      </enum>
    </graphics>
    <video supported='yes'>
      <enum name='modelType'>
        <value>vga</value>
        <value>cirrus</value>
        <value>virtio</value>
      </enum>
    </video>
    <hostdev supported='yes'>
      <enum name='mode'>
        <value>subsystem</value>
      </enum>
      <enum name='subsysType'>
        <value>usb</value>
        <value>pci</value>
        <value>scsi</value>
      </enum>
      <enum name='capsType'/>
    </hostdev>
  </devices>
  <features>
    <gic supported='no'/>
    <vmcoreinfo supported='yes'/>
    <sev supported='no'/>
    <hyperv supported='yes'>
      <enum name='features'>
        <value>spinlocks</value>
        <value>vendor_id</value>
      </enum>
    </hyperv>
  </features>
</domainCapabilities>
"""

# The shape libvirt's libxl driver answers for a Xen PV guest (libvirt's tests/domaincapsdata/libxl-xenpv.xml),
# written out here in short: no CPU modes, Xen disk bus, the xen PCI backend.
XEN_PV_DOMAIN_CAPABILITIES = """<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <domain>xen</domain>
  <machine>xenpv</machine>
  <arch>x86_64</arch>
  <vcpu max='512'/>
  <iothreads supported='no'/>
  <os supported='yes'>
    <loader supported='no'/>
  </os>
  <cpu>
    <mode name='host-passthrough' supported='no'/>
    <mode name='custom' supported='no'/>
  </cpu>
  <devices>
    <disk supported='yes'>
      <enum name='diskDevice'><value>disk</value><value>cdrom</value></enum>
      <enum name='bus'><value>ide</value><value>scsi</value><value>xen</value></enum>
    </disk>
    <hostdev supported='yes'>
      <enum name='pciBackend'><value>xen</value></enum>
    </hostdev>
  </devices>
</domainCapabilities>
"""

# An AMD host with OVMF installed and SEV available (values as libvirt's own domaincapsdata write them):
# loader paths, firmware choices and SEV's leaf settings, which the CI host cannot show.
SEV_OVMF_DOMAIN_CAPABILITIES = """<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <domain>kvm</domain>
  <machine>pc-q35-7.2</machine>
  <arch>x86_64</arch>
  <os supported='yes'>
    <enum name='firmware'><value>bios</value><value>efi</value></enum>
    <loader supported='yes'>
      <value>/usr/share/OVMF/OVMF_CODE.fd</value>
      <value>/usr/share/OVMF/OVMF_CODE.secboot.fd</value>
      <enum name='type'><value>rom</value><value>pflash</value></enum>
      <enum name='secure'><value>yes</value><value>no</value></enum>
    </loader>
  </os>
  <cpu>
    <mode name='custom' supported='yes'>
      <model usable='yes' vendor='AMD' canonical='EPYC-v1'>EPYC</model>
      <model usable='yes' vendor='AMD'>EPYC-v1</model>
      <model usable='unknown' vendor='AMD'>EPYC-Genoa</model>
    </mode>
  </cpu>
  <features>
    <sev supported='yes'>
      <cbitpos>47</cbitpos>
      <reducedPhysBits>1</reducedPhysBits>
      <maxGuests>15</maxGuests>
    </sev>
  </features>
</domainCapabilities>
"""

DOMAIN_CAPABILITIES_DOCUMENTS = [CAPTURED_KVM_X86_64, XEN_PV_DOMAIN_CAPABILITIES, SEV_OVMF_DOMAIN_CAPABILITIES]


def corpus(name):
    return (CORPUS_DIR / name).read_text(encoding="utf-8")


def parse(name):
    return cm.Capabilities.from_xml(corpus(name))


def guest_by(capabilities_or_facts, os_type, arch):
    guests = capabilities_or_facts["guests"] if isinstance(capabilities_or_facts, dict) else capabilities_or_facts.guests
    for guest in guests:
        values = guest if isinstance(guest, dict) else {"os_type": guest.os_type, "arch": guest.arch}
        if values["os_type"] == os_type and values["arch"] == arch:
            return guest
    raise AssertionError("no %s guest of arch %s" % (os_type, arch))


# -- the format documentation's example ----------------------------------------------------------------------
def test_format_example():
    capabilities = cm.Capabilities.from_xml(FORMAT_EXAMPLE)
    assert capabilities.host.arch == "x86_64"
    assert capabilities.host.cpu_features == ["vmx"]  # the documentation's <features><vmx/></features>
    pv, hvm = capabilities.guests
    assert (pv.os_type, pv.arch, pv.wordsize, pv.domain_types) == ("xen", "x86_64", 64, ["xen"])
    assert (pv.emulator, pv.machines, pv.loader, pv.features) == ("/usr/lib64/xen/bin/qemu-dm", [], None, [])
    assert (hvm.os_type, hvm.arch, hvm.wordsize, hvm.domain_types) == ("hvm", "i686", 32, ["xen"])
    assert (hvm.emulator, hvm.machines, hvm.loader) == ("/usr/lib/xen/bin/qemu-dm", ["pc", "isapc"],
                                                        "/usr/lib/xen/boot/hvmloader")
    # A 64-bit Xen host with VT-x: PV guests, 32-bit HVM guests, no KVM.
    assert (capabilities.hvm, capabilities.paravirt, capabilities.pvh, capabilities.kvm) == (True, True, False, False)
    assert capabilities.guest_arches == ["x86_64", "i686"]


def test_format_example_as_facts():
    facts = capabilities_facts(cm.Capabilities.from_xml(FORMAT_EXAMPLE))
    assert facts["host"]["arch"] == "x86_64" and facts["host"]["cpu_features"] == ["vmx"]
    assert facts["host"]["uuid"] is None and facts["host"]["numa_cells"] is None  # not in the example: null
    assert facts["guests"] == [
        {"os_type": "xen", "arch": "x86_64", "wordsize": 64, "domain_types": ["xen"],
         "emulator": "/usr/lib64/xen/bin/qemu-dm", "loader": None, "machines": [], "machine_aliases": {},
         "machine_details": [], "features": [], "feature_settings": {}, "domain_type_overrides": {}},
        {"os_type": "hvm", "arch": "i686", "wordsize": 32, "domain_types": ["xen"],
         "emulator": "/usr/lib/xen/bin/qemu-dm", "loader": "/usr/lib/xen/boot/hvmloader",
         "machines": ["pc", "isapc"], "machine_aliases": {},
         "machine_details": [{"name": "pc", "canonical": None, "max_cpus": None, "deprecated": False},
                             {"name": "isapc", "canonical": None, "max_cpus": None, "deprecated": False}],
         "features": [], "feature_settings": {}, "domain_type_overrides": {}},
    ]
    assert (facts["hvm"], facts["paravirt"], facts["kvm"]) == (True, True, False)
    assert (facts["guest_arches"], facts["hvm_arches"], facts["paravirt_arches"], facts["kvm_arches"]) == (
        ["x86_64", "i686"], ["i686"], ["x86_64"], [])
    assert facts["domain_types"] == ["xen"]


# -- every corpus document ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_document_round_trips_and_gives_typed_facts(name):
    text = corpus(name)
    capabilities = cm.Capabilities.from_xml(text)
    # Nothing is lost or reordered: comments, resctrl, HMAT, memory bandwidth all come back.
    assert xm.elements_equivalent(etree.fromstring(capabilities.to_xml()), etree.fromstring(text.encode()))
    facts = capabilities_facts(capabilities)
    host = facts["host"]
    assert host["arch"] and isinstance(host["cpu_features"], list)
    assert host["numa_cells"] is None or (isinstance(host["numa_cells"], int) and
                                          host["numa_cells"] == len(host["numa_topology"]))
    assert all(isinstance(size, int) for size in host["page_sizes_kib"])
    for cell in host["numa_topology"]:
        assert isinstance(cell["id"], int) and all(isinstance(cpu, int) for cpu in cell["cpus"])
        assert cell["memory_kib"] is None or isinstance(cell["memory_kib"], int)
    for guest in facts["guests"]:
        assert guest["os_type"] in ("hvm", "xen", "xenpvh", "exe")
        assert guest["wordsize"] in (32, 64) and guest["domain_types"]
        assert set(guest["machine_aliases"].values()) <= set(guest["machines"])
    assert facts["guest_arches"] == list(dict.fromkeys(guest["arch"] for guest in facts["guests"]))
    assert facts["hvm"] == any(guest["os_type"] == "hvm" for guest in facts["guests"])


def test_xen_pv_only_host():
    facts = capabilities_facts(parse("xen-x86_64.xml"))
    assert (facts["hvm"], facts["paravirt"], facts["kvm"]) == (False, True, False)
    assert facts["host"]["cpu_features"] == ["svm"]
    assert facts["host"]["migration"] == {"live": True, "uri_transports": ["xenmigr"]}
    assert facts["host"]["power_management"] == []  # <power_management/>: reported, no suspend mode
    (guest,) = facts["guests"]
    assert (guest["os_type"], guest["wordsize"], guest["machines"], guest["domain_types"]) == (
        "xen", 64, ["xenpv"], ["xen"])


def test_xen_32_bit_pae_host_with_hvm():
    capabilities = parse("xen-i686-pae-hvm.xml")
    facts = capabilities_facts(capabilities)
    assert facts["host"]["arch"] == "i686" and facts["host"]["cpu_features"] == ["vmx"]
    assert facts["guest_arches"] == ["i686"]  # a 32-bit host runs only 32-bit guests
    hvm = guest_by(facts, "hvm", "i686")
    assert hvm["loader"] == "/usr/lib/xen/boot/hvmloader" and hvm["machines"] == ["xenfv"]
    assert hvm["features"] == ["acpi", "apic", "nonpae", "pae"]
    assert hvm["feature_settings"] == {"acpi": {"default": True, "toggle": True},
                                       "apic": {"default": True, "toggle": True}}
    assert guest_by(facts, "xen", "i686")["features"] == ["pae"]


def test_xen_ia64_and_x86_64_hvm_hosts():
    ia64 = capabilities_facts(parse("xen-ia64-hvm.xml"))
    assert ia64["host"]["arch"] == "ia64" and ia64["hvm"] and ia64["paravirt"]
    x86_64 = capabilities_facts(parse("xen-x86_64-hvm.xml"))
    assert x86_64["guest_arches"] == ["x86_64", "i686"]
    assert {(g["os_type"], g["arch"], g["wordsize"]) for g in x86_64["guests"]} >= {
        ("xen", "x86_64", 64), ("hvm", "i686", 32), ("hvm", "x86_64", 64)}


def test_qemu_kvm_host():
    capabilities = parse("caps-qemu-kvm.xml")
    facts = capabilities_facts(capabilities)
    assert facts["kvm"] and facts["kvm_arches"] == ["i686", "x86_64"]
    # xenner: Xen PV guests run by KVM still make paravirt true; libvirt offers them.
    assert facts["paravirt"] and facts["paravirt_arches"] == ["i686", "x86_64"]
    x86_64 = guest_by(facts, "hvm", "x86_64")
    assert x86_64["domain_types"] == ["qemu", "kvm"]
    assert x86_64["machines"] == ["pc-0.11", "pc", "pc-0.10", "isapc"]
    assert x86_64["machine_aliases"] == {"pc": "pc-0.11"}
    assert x86_64["domain_type_overrides"] == {"kvm": {
        "emulator": "/usr/bin/qemu-system-x86_64",
        "machines": ["pc-0.11", "pc", "pc-0.10", "isapc"], "machine_aliases": {"pc": "pc-0.11"}}}
    assert guest_by(facts, "hvm", "i686")["machine_details"][3] == {
        "name": "isapc", "canonical": None, "max_cpus": 1, "deprecated": False}
    assert guest_by(facts, "hvm", "riscv64")["feature_settings"] == {"disksnapshot": {"default": True, "toggle": False}}
    host = facts["host"]
    assert host["uuid"] == "a25c794c-34ad-11b2-a85c-b030533115b8"
    assert (host["cpu_model"], host["cpu_vendor"], host["cpu_microcode"]) == ("Haswell-noTSX", "Intel", "45")
    assert "vmx" in host["cpu_features"] and len(host["cpu_features"]) == 26
    assert host["cpu_topology"] == {"sockets": 1, "dies": 1, "cores": 8, "threads": 1}
    assert host["cpu_address_bits"] == 39
    assert host["page_sizes_kib"] == [4, 2048, 1048576]
    assert host["power_management"] == ["suspend_disk", "suspend_hybrid", "suspend_mem"]
    assert host["numa_cells"] == 2
    cell = host["numa_topology"][1]
    assert (cell["id"], cell["memory_kib"], cell["cpus"]) == (1, 16510060, [1, 3, 5, 7, 9, 11, 13, 15])
    assert cell["pages"][0] == {"size_kib": 4, "count": 4127515}
    assert cell["distances"] == [{"id": 0, "value": 21}, {"id": 1, "value": 10}]
    assert host["cache_banks"][0] == {"id": 0, "level": 3, "type": "both", "size_kib": 20 * 1024,
                                      "cpus": "0,2,4,6,8,10,12,14"}
    assert host["security_models"] == [
        {"model": "selinux", "doi": "0",
         "base_labels": {"kvm": "system_u:system_r:svirt_t:s0", "qemu": "system_u:system_r:svirt_tcg_t:s0"}},
        {"model": "dac", "doi": "0", "base_labels": {"kvm": "+107:+107", "qemu": "+107:+107"}}]
    assert host["iommu"] is None  # not reported by this document


def test_real_full_host():
    facts = capabilities_facts(parse("caps-qemu-real-full.xml"))
    host = facts["host"]
    assert host["cpu_topology"] == {"sockets": 1, "dies": 1, "clusters": 1, "cores": 16, "threads": 2}
    assert host["iommu"] is True and host["migration"]["uri_transports"] == ["tcp", "rdma"]
    assert "svm" not in host["cpu_features"] and "npt" in host["cpu_features"]
    assert len(host["numa_topology"][0]["cpus"]) == 32
    assert {"s390x", "sparc64", "x86_64"} <= set(facts["guest_arches"])
    assert facts["kvm_arches"] == ["i686", "x86_64"] and facts["kvm"]
    armv6l = guest_by(facts, "hvm", "armv6l")
    assert armv6l["machine_aliases"]["virt"] == "virt-11.0"
    deprecated = [m["name"] for m in armv6l["machine_details"] if m["deprecated"]]
    assert "qcom-dc-scm-v1-bmc" in deprecated and "virt-11.0" not in deprecated


def test_test_driver_documents():
    facts = capabilities_facts(parse("caps-test.xml"))
    assert (facts["hvm"], facts["paravirt"], facts["kvm"], facts["domain_types"]) == (True, True, False, ["test"])
    assert facts["host"]["numa_cells"] == 2 and facts["host"]["numa_topology"][1]["cpus"] == list(range(1, 16, 2))
    assert facts["host"]["cpu_features"] == ["nonpae", "pae"]
    no_guests = capabilities_facts(parse("caps-test3.xml"))
    assert no_guests["guests"] == [] and not (no_guests["hvm"] or no_guests["paravirt"] or no_guests["kvm"])


def test_numa_and_cache_documents():
    resctrl = capabilities_facts(parse("vircaps-x86_64-resctrl.xml"))["host"]
    assert resctrl["numa_cells"] == 2 and resctrl["iommu"] is False
    assert resctrl["numa_topology"][0]["pages"] == [
        {"size_kib": 4, "count": 2048}, {"size_kib": 2048, "count": 4096}, {"size_kib": 1048576, "count": 6144}]
    assert [bank["size_kib"] for bank in resctrl["cache_banks"]] == [15 * 1024, 15 * 1024]
    aarch64 = capabilities_facts(parse("vircaps-aarch64-basic.xml"))["host"]
    assert aarch64["arch"] == "aarch64" and aarch64["numa_cells"] == 4


def test_kvm_means_kvm_for_the_host_arch():
    aarch64 = parse("qemucaps-aarch64.xml")
    assert aarch64.kvm and aarch64.host_arch == "aarch64"
    # The same guests on a host of another architecture: kvm is listed, but not for the host's arch.
    foreign = cm.Capabilities.from_xml(corpus("qemucaps-aarch64.xml").replace("<arch>aarch64</arch>", "<arch>x86_64</arch>"))
    assert foreign.arches_of(domain_type="kvm") == ["aarch64"] and foreign.kvm is False
    # Only qemu (TCG) for the host's arch: no acceleration.
    tcg = cm.Capabilities.from_xml(corpus("qemucaps-x86_64.xml").replace("<domain type='kvm'/>", ""))
    assert tcg.hvm and tcg.kvm is False and tcg.domain_types == ["qemu"]


def test_pvh_guest():
    text = FORMAT_EXAMPLE.replace("<os_type>xen</os_type>", "<os_type>xenpvh</os_type>")
    capabilities = cm.Capabilities.from_xml(text)
    assert (capabilities.pvh, capabilities.paravirt, capabilities.hvm) == (True, False, True)


def test_not_a_capabilities_document():
    with pytest.raises(ModelError, match=r"root element <domain>, but a <capabilities> document is expected"):
        cm.Capabilities.from_xml("<domain/>", option="capabilities")
    with pytest.raises(ModelError, match="not well-formed"):
        cm.DomainCapabilities.from_xml("<domainCapabilities>", option="domain_capabilities")


def test_fields_write_only_what_they_name():
    capabilities = parse("caps-qemu-kvm.xml")
    host = capabilities.host
    host.page_sizes = [4, 2048]
    bank = host.cache_banks[0]
    bank.size = 1024  # written as KiB; the unit attribute follows
    assert (host.page_sizes, bank.size) == ([4, 2048], 1024)
    # The same two edits made by hand on the original: everything else is identical.
    expected = etree.fromstring(corpus("caps-qemu-kvm.xml").encode())
    cpu = expected.find("host/cpu")
    cpu.remove(cpu.findall("pages")[2])
    expected.find("host/cache/bank").set("size", "1024")
    expected.find("host/cache/bank").set("unit", "KiB")
    assert xm.elements_equivalent(etree.fromstring(capabilities.to_xml()), expected)

    document = cm.DomainCapabilities.from_xml(CAPTURED_KVM_X86_64)
    document.disk_buses = ["virtio", "sata"]
    document.firmware = ["efi"]
    document.video_models = None
    assert (document.disk_buses, document.firmware, document.video_models) == (["virtio", "sata"], ["efi"], [])
    assert document.graphics_types == ["sdl", "vnc", "spice", "egl-headless", "dbus"]  # untouched
    assert document.element.find("devices/video/enum[@name='modelType']") is not None  # emptied, kept


# -- domain capabilities -------------------------------------------------------------------------------
def test_captured_kvm_domain_capabilities():
    document = cm.DomainCapabilities.from_xml(CAPTURED_KVM_X86_64)
    assert xm.elements_equivalent(etree.fromstring(document.to_xml()), etree.fromstring(CAPTURED_KVM_X86_64))
    facts = domain_capabilities_facts(document)
    assert (facts["emulator"], facts["domain_type"], facts["machine"], facts["arch"]) == (
        "/usr/bin/qemu-system-x86_64", "kvm", "pc-i440fx-7.2", "x86_64")
    assert (facts["vcpu_max"], facts["iothreads"]) == (255, True)
    assert facts["disk_buses"] == ["ide", "fdc", "scsi", "virtio", "usb", "sata"]
    assert facts["disk_devices"] == ["disk", "cdrom", "floppy", "lun"]
    assert facts["disk_models"] == ["virtio", "virtio-transitional", "virtio-non-transitional"]
    assert facts["graphics_types"] == ["sdl", "vnc", "spice", "egl-headless", "dbus"]
    assert facts["video_models"] == ["vga", "cirrus", "virtio"]
    assert facts["hostdev_subsystem_types"] == ["usb", "pci", "scsi"]
    assert (facts["firmware"], facts["loaders"], facts["loader_types"]) == ([], [], ["rom", "pflash"])
    assert facts["os"] == {"supported": True, "firmware": [], "loader": {
        "supported": True, "type": ["rom", "pflash"], "readonly": ["yes", "no"], "secure": ["no"]}}
    assert facts["supported_cpu_modes"] == ["host-passthrough", "maximum", "host-model", "custom"]
    assert facts["usable_cpu_models"] == ["pentium3", "Broadwell-noTSX-IBRS"]
    assert facts["cpu_modes"]["host-passthrough"] == {"supported": True, "hostPassthroughMigratable": ["on", "off"]}
    assert facts["cpu_modes"]["host-model"] == {
        "supported": True, "model": "Broadwell-noTSX-IBRS", "fallback": "forbid", "vendor": "Intel",
        "features_required": ["vme", "ss"], "features_disabled": ["pni"]}
    assert facts["cpu_modes"]["custom"] == {"supported": True, "models": ["qemu64", "pentium3", "Broadwell-noTSX-IBRS"],
                                            "usable_models": ["pentium3", "Broadwell-noTSX-IBRS"]}
    assert facts["memory_backing"] == {"supported": True, "sourceType": ["file", "anonymous", "memfd"]}
    assert facts["devices"]["hostdev"] == {"supported": True, "mode": ["subsystem"], "subsysType": ["usb", "pci", "scsi"],
                                           "capsType": []}
    assert facts["features"] == {"gic": {"supported": False}, "vmcoreinfo": {"supported": True},
                                 "sev": {"supported": False},
                                 "hyperv": {"supported": True, "features": ["spinlocks", "vendor_id"]}}


def test_xen_pv_domain_capabilities():
    facts = domain_capabilities_facts(cm.DomainCapabilities.from_xml(XEN_PV_DOMAIN_CAPABILITIES))
    assert (facts["domain_type"], facts["machine"], facts["iothreads"]) == ("xen", "xenpv", False)
    assert facts["disk_buses"] == ["ide", "scsi", "xen"] and facts["graphics_types"] == []
    assert facts["os"] == {"supported": True, "loader": {"supported": False}}
    assert facts["supported_cpu_modes"] == [] and facts["usable_cpu_models"] == []
    assert facts["devices"]["hostdev"] == {"supported": True, "pciBackend": ["xen"]}
    assert facts["memory_backing"] is None and facts["features"] == {}


def test_firmware_loaders_and_sev_settings():
    facts = domain_capabilities_facts(cm.DomainCapabilities.from_xml(SEV_OVMF_DOMAIN_CAPABILITIES))
    assert facts["firmware"] == ["bios", "efi"]
    assert facts["loaders"] == ["/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_CODE.secboot.fd"]
    assert facts["os"]["loader"]["values"] == facts["loaders"]
    assert facts["features"]["sev"] == {"supported": True, "cbitpos": 47, "reducedPhysBits": 1, "maxGuests": 15}
    assert facts["vcpu_max"] is None
    # libvirt 10 names each model's canonical version; "unknown" usability is neither usable nor refused.
    assert facts["cpu_modes"]["custom"] == {"supported": True, "models": ["EPYC", "EPYC-v1", "EPYC-Genoa"],
                                            "usable_models": ["EPYC", "EPYC-v1"], "model_aliases": {"EPYC": "EPYC-v1"}}


# -- every modelled field is read by some document (as virtinst's test_checkprops) -----------------------
def _all_models():
    documents = [cm.Capabilities.from_xml(FORMAT_EXAMPLE)] + [parse(name) for name in CORPUS_FILES]
    models = {}

    def add(model):
        models.setdefault(type(model), []).append(model)

    for capabilities in documents:
        add(capabilities)
        host = capabilities.host
        add(host)
        for cell in host.numa_cells:
            add(cell)
            for child in cell.page_pools + cell.distances:
                add(child)
        for child in host.cache_banks + host.security_models:
            add(child)
        for model in host.security_models:
            for label in model.base_labels:
                add(label)
        for guest in capabilities.guests:
            add(guest)
            for child in guest.machine_entries + guest.feature_entries + guest.domains:
                add(child)
            for domain in guest.domains:
                for machine in domain.machine_entries:
                    add(machine)
    for text in DOMAIN_CAPABILITIES_DOCUMENTS:
        document = cm.DomainCapabilities.from_xml(text)
        add(document)
        blocks = document.devices + document.features + [document.os]
        blocks += [cm.SupportBlock(element) for element in document.element.iter("loader")]
        for block in blocks:
            add(block)
            for enum in block.enums:
                add(enum)
        for mode in document.cpu_modes:
            add(mode)
            for model in mode.models:
                add(model)
    return models


def test_every_field_is_exercised():
    unread = []
    for model_class, instances in _all_models().items():
        for name in model_class.fields():
            if all(getattr(instance, name) in (None, [], {}) for instance in instances):
                unread.append("%s.%s" % (model_class.__name__, name))
    assert not unread, "fields no test document fills: %s" % unread


# -- small helpers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("number, text", [(7002022, "7.2.22"), (9000000, "9.0.0"), (4017001, "4.17.1"),
                                          (2, "0.0.2"), (0, None), (None, None)])
def test_version_string(number, text):
    assert version_string(number) == text
