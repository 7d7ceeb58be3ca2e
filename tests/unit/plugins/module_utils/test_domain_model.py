"""The domain model on the examples of libvirt's domain XML format documentation, libvirt's schema, round trips
and comparison."""
from __future__ import annotations

import pytest
from lxml import etree

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._domain import DeclaredDomain, DomainPlan
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import Domain, removable_storage
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, ModelError
from tests.support.harness import SCHEMAS
from tests.support.source_documents import fix_format_mac_quote, format_domains, format_interfaces

FORMAT_PV, FORMAT_LIFECYCLE, FORMAT_HVM, FORMAT_KVM, FORMAT_QEMU = format_domains()


@pytest.fixture(scope="module")
def domain_schema():
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "domain.rng")))


def assert_valid(schema, domain):
    document = etree.fromstring(domain.to_xml())
    assert schema.validate(document), "%s\n%s" % (schema.error_log, domain.to_pretty_xml())


def test_format_xen_pv_example():
    domain = Domain.from_user_xml(FORMAT_PV)
    assert (domain.type, domain.name, domain.memory, domain.vcpu) == ("xen", "fc4", 131072, 1)
    assert (domain.os_type, domain.kernel, domain.initrd, domain.root) == (
        "linux", "/boot/vmlinuz-2.6.15-1.43_FC5guest", "/boot/initrd-2.6.15-1.43_FC5guest.img", "/dev/sda1")
    assert domain.cmdline == " ro selinux=0 3"  # kept exactly, leading space included
    assert "id" not in domain.element.attrib  # runtime id dropped
    (disk,) = domain.disks
    assert (disk.type, disk.source, disk.target, disk.effective_device) == ("file", "/u/fc4.img", "sda1", "disk")
    (interface,) = domain.interfaces
    assert (interface.type, interface.bridge, interface.mac, interface.script) == (
        "bridge", "xenbr0", "aa:00:00:00:00:11", "/etc/xen/scripts/vif-bridge")
    # The tty of a pty console is what the running guest got (virsh dumpxml): read, never configured.
    assert Domain.from_xml(FORMAT_PV).consoles[0].tty == "/dev/pts/5"
    assert domain.consoles[0].tty is None and domain.consoles[0].element.tag == "console"


def test_format_lifecycle_snippet():
    domain = Domain.from_user_xml(FORMAT_LIFECYCLE)
    assert (domain.on_reboot, domain.on_poweroff, domain.on_crash) == ("restart", "destroy", "rename-restart")


def test_format_xen_hvm_example(domain_schema):
    domain = Domain.from_user_xml(FORMAT_HVM)
    assert domain.uuid == "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"  # dashes added
    assert (domain.os_type, domain.loader, domain.boot) == ("hvm", "/usr/lib/xen/boot/hvmloader", ["hd"])
    assert domain.features == ["acpi", "apic", "pae"]
    assert domain.emulator == "/usr/lib/xen/bin/qemu-dm"
    assert [(d.effective_device, d.target, d.readonly) for d in domain.disks] == [
        ("disk", "hda", False), ("cdrom", "hdc", True), ("floppy", "fda", False)]
    assert [(g.type, g.port) for g in domain.graphics] == [("vnc", 5904)]
    assert_valid(domain_schema, domain)


def test_format_kvm_example(domain_schema):
    domain = Domain.from_user_xml(FORMAT_KVM)
    assert (domain.type, domain.uuid) == ("kvm", "4dea24b3-1d52-d8f3-2516-782e98a23fa0")
    assert domain.interfaces[0].type == "user" and domain.interfaces[0].mac == "24:42:53:21:52:45"
    # port='-1' is libvirt's other spelling of autoport='yes', which libvirt stores without a port.
    assert (domain.graphics[0].port, domain.graphics[0].autoport) == (None, True)
    assert_valid(domain_schema, domain)


def test_format_qemu_example_has_the_network_typo():
    with pytest.raises(ModelError, match=r"<source name='default'/>.*<source network='default'/>"):
        Domain.from_user_xml(FORMAT_QEMU)


def test_format_qemu_example_with_the_typo_fixed(domain_schema):
    domain = Domain.from_user_xml(FORMAT_QEMU.replace("<source name='default'/>", "<source network='default'/>"))
    assert (domain.type, domain.os_arch, domain.os_machine, domain.boot) == ("qemu", "i686", "pc", ["cdrom"])
    assert (domain.memory, domain.current_memory, domain.vcpu) == (219200, 219200, 2)
    assert domain.interfaces[0].network == "default"
    assert_valid(domain_schema, domain)


@pytest.mark.parametrize("example", format_domains()[:1] + format_domains()[2:4])
def test_format_examples_render_valid_and_round_trip(example, domain_schema):
    domain = Domain.from_user_xml(example)
    assert_valid(domain_schema, domain)
    again = Domain.from_xml(domain.to_xml())
    assert again.values() == domain.values()


KVM_WRAPPER = "<domain type='kvm'><name>n</name><memory>1024</memory><os><type>hvm</type></os><devices>%s</devices></domain>"


@pytest.mark.parametrize("index", range(len(format_interfaces())))
def test_every_format_interface(index, domain_schema):
    snippet = format_interfaces()[index]
    if "11:22:33:44:55:66:/>" in snippet:
        with pytest.raises(ModelError, match="not well-formed"):
            Domain.from_user_xml(KVM_WRAPPER % snippet)
        with pytest.raises(ModelError, match="not a MAC address"):
            Domain.from_user_xml(KVM_WRAPPER % fix_format_mac_quote(snippet))
        return
    domain = Domain.from_user_xml(KVM_WRAPPER % snippet)
    (interface,) = domain.interfaces
    assert interface.type in ("user", "network", "bridge", "ethernet", "mcast", "server", "client")
    if interface.type == "bridge":
        assert interface.bridge == "br0"  # the documentation's <source dev='br0'/> is libvirt's bridge='br0'
    if interface.type in ("mcast", "server", "client"):
        assert interface.port == 5558 and interface.address
    assert_valid(domain_schema, domain)


def test_round_trip_keeps_unknown_xml():
    text = """<domain type='kvm' xmlns:my='http://example.org/my'>
  <name>keep</name>
  <!-- an operator's comment -->
  <metadata><my:owner team='infra'>ops</my:owner></metadata>
  <memory unit='MiB'>512</memory>
  <cpu mode='host-passthrough'><topology sockets='1' cores='2' threads='1'/></cpu>
  <os><type arch='x86_64'>hvm</type><bootmenu enable='yes'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>
      <source file='/var/lib/x.qcow2'/><target dev='vda' bus='virtio'/><serial>abc</serial></disk>
    <controller type='usb' model='qemu-xhci'/>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>"""
    domain = Domain.from_user_xml(text)
    assert xm.elements_equivalent(etree.fromstring(text), etree.fromstring(domain.to_xml()))
    domain.memory = 1048576
    domain.disks[0].bus = "scsi"
    rendered = etree.fromstring(domain.to_xml())
    assert rendered.find("{http://example.org/my}owner") is None  # namespaced child stays inside metadata
    assert rendered.find("metadata/{http://example.org/my}owner").text == "ops"
    assert rendered.find("cpu/topology").get("cores") == "2"
    assert rendered.find("devices/disk/serial").text == "abc"
    assert rendered.find("devices/rng/backend").text == "/dev/urandom"
    assert "<!-- an operator's comment -->" in domain.to_xml()
    assert rendered.find("memory").text == "1048576" and rendered.find("memory").get("unit") == "KiB"


def plan(params, current_xml=None):
    declared = DeclaredDomain(dict({"name": "g"}, **params))
    current = Domain.from_xml(current_xml) if current_xml else None
    return DomainPlan(declared, current)


LIBVIRT_STORED = """<domain type='kvm'>
  <name>g</name>
  <uuid>4dea24b3-1d52-d8f3-2516-782e98a23fa0</uuid>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>
  <cpu mode='host-model' check='partial'/>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/img/a.img'/>
      <target dev='hda' bus='ide'/><address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>
    <controller type='ide' index='0'/>
    <interface type='user'><mac address='52:54:00:aa:bb:cc'/><model type='e1000'/></interface>
    <graphics type='vnc' port='-1' autoport='yes'><listen type='address'/></graphics>
    <video><model type='cirrus' vram='16384' heads='1' primary='yes'/></video>
  </devices>
</domain>"""


def test_libvirt_defaults_are_not_changes():
    same = plan({"memory": "128MiB", "vcpu": 1, "os": {"type": "hvm"}, "uuid": "4DEA24B31D52D8F32516782E98A23FA0",
                 "disks": [{"target": "hda", "source": "/img/a.img"}], "interfaces": [{"type": "user"}],
                 "graphics": [{"type": "vnc", "autoport": True}]}, LIBVIRT_STORED)
    assert same.tracker.as_list() == []


def test_user_xml_without_defaults_is_not_a_change():
    user_xml = """<domain type='kvm'><name>g</name><memory>131072</memory><vcpu>1</vcpu>
      <os><type>hvm</type></os><cpu mode='host-model'/>
      <devices><disk type='file'><source file='/img/a.img'/><target dev='hda'/></disk>
      <interface type='user'/><graphics type='vnc' port='-1'/><video><model type='cirrus'/></video></devices></domain>"""
    assert plan({"xml": user_xml}, LIBVIRT_STORED).tracker.as_list() == []


def test_user_xml_changes_are_found():
    user_xml = """<domain type='kvm'><name>g</name><memory>262144</memory><os><type>hvm</type></os>
      <cpu mode='host-passthrough'/><devices><controller type='usb' model='qemu-xhci'/></devices></domain>"""
    result = plan({"xml": user_xml}, LIBVIRT_STORED)
    # A controller without an index is the one libvirt would give the lowest free index of its type: the
    # stored USB controller 0, changed in place, never a second one.
    assert result.tracker.fields == ["memory", "cpu", "devices.controller[usb:0]"]
    usb = result.desired.element.findall("devices/controller[@type='usb']")
    assert [(c.get("index"), c.get("model")) for c in usb] == [("0", "qemu-xhci")]
    assert result.desired.element.find("cpu").get("mode") == "host-passthrough"
    assert result.desired.element.find("devices/video") is not None  # kept


def test_structured_options_override_the_xml_once():
    stored = LIBVIRT_STORED.replace("<memory unit='KiB'>131072</memory>", "<memory unit='KiB'>262144</memory>")
    user_xml = "<domain type='kvm'><name>g</name><memory>131072</memory><os><type>hvm</type></os></domain>"
    assert plan({"xml": user_xml, "memory": "256MiB"}, stored).tracker.as_list() == []
    changed = plan({"xml": user_xml, "memory": "512MiB"}, stored)
    assert changed.tracker.as_list() == [{"field": "memory", "before": 262144, "after": 524288}]
    with pytest.raises(InputError, match="^uuid: .*conflicts with the uuid 4dea24b3"):
        plan({"xml": LIBVIRT_STORED, "uuid": "00000000-0000-0000-0000-000000000001"}, LIBVIRT_STORED)


def test_current_memory_follows_a_declared_memory():
    grown = plan({"memory": "256MiB"}, LIBVIRT_STORED)
    assert grown.tracker.as_list() == [{"field": "memory", "before": 131072, "after": 262144},
                                       {"field": "current_memory", "before": 131072, "after": 262144}]
    ballooned = LIBVIRT_STORED.replace("<currentMemory unit='KiB'>131072", "<currentMemory unit='KiB'>65536")
    assert plan({"memory": "256MiB"}, ballooned).tracker.fields == ["memory"]  # set below memory on purpose
    assert plan({"memory": "32MiB"}, ballooned).tracker.fields == ["memory", "current_memory"]  # no longer fits
    assert plan({"memory": "256MiB", "current_memory": "128MiB"}, LIBVIRT_STORED).tracker.fields == ["memory"]


@pytest.mark.parametrize("memory,kib", [("512MiB", 524288), ("128MiB", 131072)])
def test_current_memory_follows_memory_over_an_xml_template(memory, kib):
    """libvirt's QEMU example as an `xml` template - its <currentMemory> equals its <memory>, no balloon target -
    with `memory:` laid over it, larger or smaller: accepted, and currentMemory follows memory, for a new guest
    and for one defined from the same template before."""
    template = FORMAT_QEMU.replace("<source name='default'/>", "<source network='default'/>")
    assert "<memory>219200</memory>" in template and "<currentMemory>219200</currentMemory>" in template
    declared = {"name": "QEmu-fedora-i686", "xml": template, "memory": memory}
    new = plan(declared)
    assert (new.desired.memory, new.desired.current_memory) == (kib, kib)
    existing = plan(declared, Domain.from_user_xml(template).to_xml())
    assert (existing.desired.memory, existing.desired.current_memory) == (kib, kib)
    assert [d for d in existing.tracker.as_list() if d["field"] in ("memory", "current_memory")] == [
        {"field": "memory", "before": 219200, "after": kib}, {"field": "current_memory", "before": 219200, "after": kib}]


def test_device_identity_and_purge():
    declared = {"disks": [{"target": "hda", "source": "/img/b.img"}, {"target": "vdb", "source": "/img/c.img"}],
                "interfaces": [{"type": "user", "model": "virtio"}]}
    result = plan(declared, LIBVIRT_STORED)
    assert result.tracker.fields == ["disks[hda].source", "disks[vdb]", "interfaces[user:0].model"]
    # the matched interface keeps libvirt's MAC; the disk keeps its driver and address
    assert result.desired.interfaces[0].mac == "52:54:00:aa:bb:cc"
    assert result.desired.disks[0].element.find("address") is not None
    purged = plan({"graphics": [], "purge_devices": True}, LIBVIRT_STORED)
    assert purged.tracker.fields == ["graphics[vnc]"] and purged.desired.graphics == []
    kept = plan({"graphics": []}, LIBVIRT_STORED)
    assert kept.tracker.fields == [] and len(kept.desired.graphics) == 1


def test_interfaces_match_by_mac_first():
    stored = LIBVIRT_STORED.replace(
        "<interface type='user'><mac address='52:54:00:aa:bb:cc'/><model type='e1000'/></interface>",
        "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='a'/></interface>"
        "<interface type='network'><mac address='52:54:00:00:00:02'/><source network='a'/></interface>")
    result = plan({"interfaces": [{"type": "network", "network": "a", "mac": "52:54:00:00:00:02", "model": "virtio"},
                                  {"type": "network", "network": "a"}]}, stored)
    assert result.tracker.fields == ["interfaces[52:54:00:00:00:02].model"]
    assert [i.model for i in result.desired.interfaces] == [None, "virtio"]


def test_features_are_the_declared_set():
    stored = LIBVIRT_STORED.replace("<cpu ", "<features><acpi/><apic/><hyperv mode='custom'><relaxed state='on'/></hyperv></features><cpu ")
    result = plan({"features": ["acpi", "hyperv", "pae"]}, stored)
    assert result.tracker.as_list() == [{"field": "features", "before": ["acpi", "apic", "hyperv"],
                                         "after": ["acpi", "hyperv", "pae"]}]
    assert result.desired.element.find("features/hyperv/relaxed") is not None


def test_new_guest_defaults_and_required_memory():
    with pytest.raises(InputError, match="^memory: is required to create the new guest g"):
        plan({"vcpu": 1})
    pv = plan({"type": "xen", "memory": 1024, "os": {"kernel": "/boot/vmlinuz"}}).desired
    assert (pv.os_type, pv.vcpu) == ("linux", 1)
    kvm = plan({"memory": 1024}).desired
    assert (kvm.type, kvm.os_type) == ("kvm", "hvm")


def x86_plan(params, host_arch="x86_64", current_xml=None):
    declared = DeclaredDomain(dict({"name": "g", "memory": 1024}, **params))
    return DomainPlan(declared, Domain.from_xml(current_xml) if current_xml else None, host_arch=lambda: host_arch)


@pytest.mark.parametrize("params,host_arch,features", [
    ({}, "x86_64", ["acpi", "apic"]),
    ({"type": "qemu", "os": {"arch": "i686"}}, "aarch64", ["acpi", "apic"]),
    ({"type": "xen", "os": {"type": "hvm"}}, "i686", ["acpi", "apic"]),
    ({}, "aarch64", None),
    ({"os": {"arch": "aarch64"}}, "x86_64", None),
    ({"type": "xen", "os": {"kernel": "/boot/vmlinuz"}}, "x86_64", None),  # paravirtualized
    ({"type": "lxc", "os": {"type": "exe"}}, "x86_64", None),
    ({"features": []}, "x86_64", None),
    ({"features": ["pae"]}, "x86_64", ["pae"]),
    ({"xml": "<domain><name>g</name><features/></domain>"}, "x86_64", None),
    ({"xml": "<domain><name>g</name><features><pae/></features></domain>"}, "x86_64", ["pae"]),
    ({"xml": "<domain><name>g</name></domain>"}, "x86_64", ["acpi", "apic"]),
])
def test_new_x86_hvm_guests_get_acpi_and_apic_unless_features_are_declared(params, host_arch, features):
    result = x86_plan(params, host_arch)
    assert (result.desired.features or None) == features
    default = {"field": "features", "before": None, "after": ["acpi", "apic"]}
    assert (default in result.tracker.as_list()) == (features == ["acpi", "apic"])  # reported as a change


def test_existing_guests_never_get_the_new_guest_features():
    asked = []
    result = DomainPlan(DeclaredDomain({"name": "g", "vcpu": 2}), Domain.from_xml(LIBVIRT_STORED),
                        host_arch=lambda: asked.append(True) or "x86_64")
    assert result.desired.features is None and result.tracker.fields == ["vcpu"]
    assert not asked  # the host is not even asked


def test_an_empty_feature_list_is_the_same_as_none():
    """features: [] on a guest without <features> is no change (libvirt drops an empty <features/>)."""
    assert not plan({"features": []}, LIBVIRT_STORED).tracker.changed
    assert plan({"features": ["acpi"]}, LIBVIRT_STORED).tracker.fields == ["features"]


@pytest.mark.parametrize("params,option,message", [
    ({"memory": "lots"}, "memory", "is not a size"),
    ({"uuid": "xyz"}, "uuid", "is not a UUID"),
    ({"interfaces": [{"type": "user", "mac": "11:22:33:44:55:66:"}]}, r"interfaces\[0\]\.mac", "not a MAC address"),
    ({"interfaces": [{"type": "user", "mac": "11:22:33:44:55:66"}]}, r"interfaces\[0\]\.mac", "multicast"),
    ({"interfaces": [{"type": "network"}]}, r"interfaces\[0\]\.network", "needs network"),
    ({"interfaces": [{"type": "mcast", "address": "10.0.0.1", "port": 5558}]}, r"interfaces\[0\]\.address", "multicast"),
    ({"disks": [{"target": "hda"}, {"target": "hda"}]}, "disks", "two disks use the target 'hda'"),
    ({"name": "a/b"}, "name", "must not contain '/'"),
    ({"name": "bad\nname"}, "name", "control characters"),
    ({"xml": "<domain><name>g</name>"}, "xml", "not well-formed"),
    ({"xml": "<network><name>g</name></network>"}, "xml", "root element <network>"),
    ({"xml": "<domain><name>other</name></domain>"}, "xml", "names the guest 'other'"),
    ({"xml": "<domain><name>g</name><memory>12 parsecs</memory></domain>"}, "xml: memory", "not a size"),
    ({"graphics": [{"type": "vnc", "port": 5900, "autoport": True}]}, r"graphics\[0\]\.autoport", "conflicts"),
    ({"graphics": [{"type": "vnc", "password": "123456789"}]}, r"graphics\[0\]\.password", "at most 8"),
    ({"os": {"boot": ["tape"]}}, r"os\.boot\[0\]", "unknown value 'tape'"),
    ({"vcpu": 0}, "vcpu", "at least 1"),
])
def test_bad_options_name_the_option(params, option, message):
    with pytest.raises((InputError, ModelError)) as raised:  # an input check's error, or a codec's
        DeclaredDomain(dict({"name": "g"}, **params))
    assert raised.match("^%s: .*%s" % (option, message))


def test_passwords_are_masked():
    domain = Domain.from_xml("<domain><name>g</name><devices><graphics type='vnc' passwd='s3cret'/></devices></domain>")
    assert "s3cret" not in domain.to_masked_xml() and "********" in domain.to_masked_xml()
    assert domain.graphics[0].password == "s3cret"


def test_removable_storage_skips_media():
    domain = Domain.from_user_xml(FORMAT_HVM)
    assert removable_storage(domain) == ["/root/fv0"]


def test_what_a_typed_child_carries_beyond_its_fields_is_compared():
    """A disk's <driver cache>, <target removable> and an interface's <source portgroup> are not fields, but a
    change of them in xml is a change (found with libvirt's own normalisation pairs, changing one attribute)."""
    stored = """<domain type='kvm'><name>g</name><memory unit='KiB'>131072</memory><os><type>hvm</type></os>
      <devices><disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>
      <source file='/img/a.img'/><target dev='vda' bus='virtio'/></disk>
      <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default' portgroup='a'/></interface>
      </devices></domain>"""
    user_xml = stored.replace("cache='none'", "cache='unsafe'").replace("bus='virtio'/>", "bus='virtio' rotation_rate='1'/>")
    user_xml = user_xml.replace("portgroup='a'", "portgroup='b'")
    result = plan({"xml": user_xml}, stored)
    assert result.tracker.fields == ["disks[vda].driver@cache", "disks[vda].target@rotation_rate",
                                     "interfaces[52:54:00:00:00:01].source@portgroup"]
    assert result.desired.element.find("devices/disk/driver").get("cache") == "unsafe"
    assert result.desired.element.find("devices/interface/source").get("portgroup") == "b"
    assert plan({"xml": stored}, stored).tracker.fields == []


def test_device_identity_table():
    """Each kind is matched by its identity: the same identity is the same device, another is a new one."""
    from lxml import etree
    from ansible_collections.virt.libvirt.plugins.module_utils._domain import match_devices
    from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import device_class

    cases = [
        # (stored, declared same device, declared other device)
        ("<controller type='pci' index='3' model='pcie-root-port'/>", "<controller type='pci' model='pcie-root-port'/>",
         "<controller type='pci' model='pci-bridge'/>"),
        ("<crypto model='virtio' type='qemu'><backend model='builtin'/></crypto>",
         "<crypto model='virtio' type='qemu'/>", "<crypto model='virtio' type='other'/>"),
        ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
         "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
         "<channel type='unix'><target type='virtio' name='org.example.other'/></channel>"),
        ("<input type='tablet' bus='usb'/>", "<input type='tablet'/>", "<input type='keyboard' bus='usb'/>"),
        ("<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x06' slot='0x12' "
         "function='0x5'/></source></hostdev>",
         "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' slot='18' function='5'/>"
         "</source></hostdev>",
         "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' slot='18' function='6'/>"
         "</source></hostdev>"),
        ("<memballoon model='virtio'/>", "<memballoon model='none'/>", None),
        ("<filesystem type='mount'><source dir='/srv'/><target dir='share'/></filesystem>",
         "<filesystem type='mount'><source dir='/other'/><target dir='share'/></filesystem>",
         "<filesystem type='mount'><source dir='/srv'/><target dir='other'/></filesystem>"),
    ]
    for stored_xml, same_xml, other_xml in cases:
        stored = etree.fromstring(stored_xml)
        kind = device_class(stored.tag)
        stored_devices = [kind(stored)]
        assert match_devices([kind(etree.fromstring(same_xml))], stored_devices) == {0: stored_devices[0]}, same_xml
        if other_xml is not None:
            assert match_devices([kind(etree.fromstring(other_xml))], stored_devices) == {}, other_xml
    # Two declared devices never land on one stored device, and a kind the table does not know is never doubled.
    stored = [device_class("newkind")(etree.fromstring("<newkind a='1'/>"))]
    declared = [device_class("newkind")(etree.fromstring("<newkind a='1'/>")) for _copy in range(2)]
    assert match_devices(declared, stored) == {0: stored[0]}
