"""Live changes without a daemon: what of a running guest's document is no difference from its definition
(``pending``), which changes of a run go live and with which call, and the options behind them (``max_vcpu``,
``interfaces[].link``, an ejected medium). tests/integration/test_domain_live.py runs them on real guests."""
from __future__ import annotations

import pytest

from ansible_collections.virt.libvirt.plugins.module_utils._domain import DeclaredDomain, DomainPlan
from ansible_collections.virt.libvirt.plugins.module_utils._domain_live import (
    comparable, differences, live_operations,
)
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import Domain
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, ModelError

# A guest's persistent definition as libvirt 9.0 stores it (virsh dumpxml --inactive), and the same guest
# running (virsh dumpxml), as read from a real KVM guest: runtime data and what the start expanded.
PERSISTENT = """<domain type='kvm'>
  <name>g</name><uuid>27bfd207-9c1e-4c15-bae3-b88bc9f0c1a2</uuid>
  <memory unit='KiB'>131072</memory><currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static' current='1'>4</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdc' bus='ide'/><readonly/>
      <address type='drive' controller='0' bus='1' target='0' unit='0'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/img/data.img'/>
      <target dev='vdb' bus='virtio'/><address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/></disk>
    <controller type='usb' index='0' model='piix3-uhci'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/></controller>
    <controller type='pci' index='0' model='pci-root'/>
    <interface type='network'><mac address='52:54:00:4a:6a:23'/><source network='lab'/><model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
    <serial type='pty'><target type='isa-serial' port='0'><model name='isa-serial'/></target></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <input type='mouse' bus='ps2'/><input type='keyboard' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='s3cret'>
      <listen type='address' address='127.0.0.1'/></graphics>
    <audio id='1' type='none'/>
    <video><model type='cirrus' vram='16384' heads='1' primary='yes'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></video>
    <memballoon model='virtio'><address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></memballoon>
  </devices>
</domain>"""

RUNNING = """<domain type='kvm' id='226'>
  <name>g</name><uuid>27bfd207-9c1e-4c15-bae3-b88bc9f0c1a2</uuid>
  <memory unit='KiB'>131072</memory><currentMemory unit='KiB'>102400</currentMemory>
  <vcpu placement='static' current='1'>4</vcpu>
  <vcpus><vcpu id='0' enabled='yes' hotpluggable='no' order='1'/><vcpu id='1' enabled='no' hotpluggable='yes'/>
    <vcpu id='2' enabled='no' hotpluggable='yes'/><vcpu id='3' enabled='no' hotpluggable='yes'/></vcpus>
  <resource><partition>/machine</partition></resource>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='full'><model fallback='forbid'>qemu64</model>
    <feature policy='require' name='x2apic'/><feature policy='require' name='hypervisor'/></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='cdrom'><driver name='qemu'/><source index='3'/><target dev='hdc' bus='ide' tray='open'/>
      <readonly/><alias name='ide0-1-0'/><address type='drive' controller='0' bus='1' target='0' unit='0'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/img/data.img' index='2'/>
      <backingStore/><target dev='vdb' bus='virtio'/><alias name='virtio-disk1'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/></disk>
    <controller type='usb' index='0' model='piix3-uhci'><alias name='usb'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/></controller>
    <controller type='pci' index='0' model='pci-root'><alias name='pci.0'/></controller>
    <interface type='network'><mac address='52:54:00:4a:6a:23'/>
      <source network='lab' portid='52b138fc-56fc-4f62-a279-ba83b9652da1' bridge='virbr7'/>
      <target dev='vnet182'/><model type='virtio'/><alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
    <serial type='pty'><source path='/dev/pts/0'/><target type='isa-serial' port='0'><model name='isa-serial'/></target>
      <alias name='serial0'/></serial>
    <console type='pty' tty='/dev/pts/0'><source path='/dev/pts/0'/><target type='serial' port='0'/>
      <alias name='serial0'/></console>
    <input type='mouse' bus='ps2'><alias name='input0'/></input>
    <input type='keyboard' bus='ps2'><alias name='input1'/></input>
    <graphics type='vnc' port='5902' autoport='yes' listen='127.0.0.1' passwd='s3cret'>
      <listen type='address' address='127.0.0.1'/></graphics>
    <audio id='1' type='none'/>
    <video><model type='cirrus' vram='16384' heads='1' primary='yes'/><alias name='video0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></video>
    <memballoon model='virtio'><alias name='balloon0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></memballoon>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'><label>+995:+994</label><imagelabel>+995:+994</imagelabel></seclabel>
</domain>"""


# The definition after the data disk vdb was removed from it.
WITHOUT_DATA_DISK = PERSISTENT.split("<disk type='file' device='disk'>", maxsplit=1)[0] + "<controller" + \
    PERSISTENT.split("<controller", 1)[1]


def pending(persistent=PERSISTENT, running=RUNNING):
    return differences(comparable(persistent), comparable(running))


def test_what_a_running_guest_says_about_itself_is_no_difference():
    # ids, aliases, ports, ptys, tap names, a network's portid and bridge, the balloon's size now, the vCPU
    # hot-plug state, an open tray, an ejected medium's index, an empty backing chain, the CPU and the security
    # label the start expanded
    assert pending() == []


@pytest.mark.parametrize("old, new, field", [
    ("machine='pc-i440fx-7.2'", "machine='pc-i440fx-6.2'", "os.machine"),
    ("<features><acpi/><apic/></features>", "<features><acpi/><apic/><pae/></features>", "features"),
    ("<model type='virtio'/><alias name='net0'/>", "<model type='e1000'/><alias name='net0'/>",
     "interfaces[52:54:00:4a:6a:23].model"),
    ("<source network='lab' portid", "<source network='other' portid", "interfaces[52:54:00:4a:6a:23].network"),
    ("<target dev='vdb' bus='virtio'/><alias", "<target dev='vdb' bus='virtio'/><readonly/><alias",
     "disks[vdb].readonly"),  # in the running guest only: a flag the definition no longer has
    ("<clock offset='utc'/>", "<clock offset='localtime'/>", "clock"),
    ("<vcpu placement='static' current='1'>4</vcpu>", "<vcpu placement='static' current='2'>4</vcpu>", "vcpu"),
    ("<vcpu placement='static' current='1'>4</vcpu>", "<vcpu placement='static' current='1'>2</vcpu>", "max_vcpu"),
    ("<memory unit='KiB'>131072</memory>", "<memory unit='KiB'>65536</memory>", "memory"),
    ("passwd='s3cret'>", "passwd='other'>", "graphics[vnc].password"),
    ("<input type='keyboard' bus='ps2'><alias name='input1'/></input>", "", "devices.input[keyboard:ps2]"),
])
def test_a_running_guest_that_differs_is_pending(old, new, field):
    assert old in RUNNING
    assert pending(running=RUNNING.replace(old, new)) == [field]


def test_a_device_on_one_side_only_is_pending():
    unplugged_elsewhere = PERSISTENT.replace("<disk type='file' device='disk'>", "<disk type='file' device='disk' x='1'>")
    assert pending(persistent=unplugged_elsewhere) == ["disks[vdb]"]  # x='1' is not in the running guest's
    assert pending(persistent=WITHOUT_DATA_DISK) == ["disks[vdb]"]  # removed, the guest did not let it go


def test_operations_of_a_run():
    before = comparable(PERSISTENT)
    after = comparable(PERSISTENT.replace(
        "<vcpu placement='static' current='1'>4</vcpu>", "<vcpu placement='static' current='3'>4</vcpu>").replace(
        "<target dev='hdc' bus='ide'/>", "<source file='/img/new.iso'/><target dev='hdc' bus='ide'/>").replace(
        "<source network='lab'/>", "<source network='other'/><link state='down'/>").replace(
        "passwd='s3cret'", "passwd='n3w'").replace(
        "<controller type='usb'", "<disk type='file' device='disk'><source file='/img/more.img'/>"
        "<target dev='vdc' bus='virtio'/></disk><disk type='file' device='disk'><source file='/img/ide.img'/>"
        "<target dev='hdb' bus='ide'/></disk><controller type='usb'").replace(
        "<currentMemory unit='KiB'>131072</currentMemory>", "<currentMemory unit='KiB'>98304</currentMemory>"))
    operations = live_operations(before, after, comparable(RUNNING))
    summary = [(o.action, o.fields, o.reason is None) for o in operations]
    assert summary == [
        ("vcpus", ["vcpu"], True),
        ("memory", ["current_memory"], True),
        ("update", ["disks[hdc].source"], True),
        ("attach", ["disks[vdc]"], True),
        ("attach", ["disks[hdb]"], False),  # IDE: no hot-plug
        ("update", ["interfaces[52:54:00:4a:6a:23].network", "interfaces[52:54:00:4a:6a:23].link"], True),
        ("update", ["graphics[vnc].password"], True),
    ]
    assert "ide bus" in operations[4].reason
    assert operations[0].count == 3 and operations[1].count == 98304
    # an update names the device at the address the running guest has it
    assert operations[5].element.find("address").get("slot") == "0x03"


@pytest.mark.parametrize("old, new, refusal", [
    ("<model type='virtio'/>", "<model type='e1000'/>", "model of a running guest's interface"),
    ("<vcpu placement='static' current='1'>4</vcpu>", "<vcpu placement='static'>8</vcpu>", "at most 4 vCPUs"),
    ("<driver name='qemu' type='raw'/><source file='/img/data.img'/>",
     "<driver name='qemu' type='qcow2'/><source file='/img/data.img'/>", "hard disk only hot-plugging"),
    ("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='s3cret'>",
     "<graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0' passwd='s3cret'>", "listen"),
])
def test_what_libvirt_does_not_change_live_waits_for_a_restart(old, new, refusal):
    assert old in PERSISTENT
    operations = live_operations(comparable(PERSISTENT), comparable(PERSISTENT.replace(old, new)), comparable(RUNNING))
    assert len(operations) == 1 and refusal in operations[0].reason, [o.reason for o in operations]


def test_a_removed_device_is_unplugged_and_a_change_the_guest_has_is_not_made_again():
    operations = live_operations(comparable(PERSISTENT), comparable(WITHOUT_DATA_DISK), comparable(RUNNING))
    assert [(o.action, o.label) for o in operations] == [("detach", "disks[vdb]")]
    assert operations[0].element.find("alias") is None and operations[0].element.find("address") is not None
    # the running guest has the new medium already (an earlier attempt): nothing to do
    with_medium = PERSISTENT.replace("<target dev='hdc' bus='ide'/>", "<source file='/img/new.iso'/><target dev='hdc' bus='ide'/>")
    running = RUNNING.replace("<driver name='qemu'/><source index='3'/>",
                              "<driver name='qemu' type='raw'/><source file='/img/new.iso' index='4'/>")
    assert live_operations(comparable(PERSISTENT), comparable(with_medium), comparable(running)) == []


def plan(params, stored=PERSISTENT):
    return DomainPlan(DeclaredDomain(dict({"name": "g"}, **params)), Domain.from_xml(stored) if stored else None)


def test_max_vcpu_and_vcpu():
    assert plan({"max_vcpu": 4, "vcpu": 1}).tracker.as_list() == []
    online = plan({"max_vcpu": 4, "vcpu": 3})
    assert online.tracker.as_list() == [{"field": "vcpu", "before": 1, "after": 3}]
    assert (online.desired.vcpu, online.desired.vcpu_current) == (4, 3)
    ceiling = plan({"max_vcpu": 8})  # the number online is kept
    assert ceiling.tracker.as_list() == [{"field": "max_vcpu", "before": 4, "after": 8}]
    assert (ceiling.desired.vcpu, ceiling.desired.vcpu_current) == (8, 1)
    all_online = plan({"vcpu": 2})  # vcpu alone: that many, all online
    assert all_online.tracker.fields == ["max_vcpu", "vcpu"]
    assert (all_online.desired.vcpu, all_online.desired.vcpu_current) == (2, None)
    assert "current=" not in all_online.desired.to_xml()
    stored_without_ceiling = PERSISTENT.replace("<vcpu placement='static' current='1'>4</vcpu>", "<vcpu>2</vcpu>")
    assert plan({"vcpu": 3}, stored_without_ceiling).tracker.as_list() == [{"field": "vcpu", "before": 2, "after": 3}]
    assert plan({"max_vcpu": 2, "vcpu": 2}, stored_without_ceiling).tracker.as_list() == []
    new = plan({"memory": 1024, "max_vcpu": 4}, None).desired
    assert (new.vcpu, new.vcpu_current) == (4, None)
    with pytest.raises(InputError, match=r"^vcpu: 5 vCPUs online is more than max_vcpu \(4\)"):
        plan({"max_vcpu": 4, "vcpu": 5})
    # libvirt writes no current when every vCPU is online: a document that says it is no change
    assert plan({"xml": PERSISTENT.replace("current='1'>4", "current='4'>4")}, stored_without_ceiling.replace(
        "<vcpu>2</vcpu>", "<vcpu placement='static'>4</vcpu>")).tracker.as_list() == []


def test_link_state():
    down = plan({"interfaces": [{"type": "network", "network": "lab", "mac": "52:54:00:4A:6A:23", "link": "down"}]})
    assert down.tracker.as_list() == [{"field": "interfaces[52:54:00:4a:6a:23].link", "before": None, "after": "down"}]
    assert down.desired.interfaces[0].link == "down"
    with pytest.raises(ModelError, match="^interfaces\\[0\\].link: unknown value 'sideways'"):
        plan({"interfaces": [{"type": "user", "link": "sideways"}]})


def test_an_empty_cdrom_ejects_its_medium():
    with_medium = PERSISTENT.replace("<target dev='hdc' bus='ide'/>", "<source file='/img/a.iso'/><target dev='hdc' bus='ide'/>")
    ejected = plan({"disks": [{"target": "hdc", "device": "cdrom"}]}, with_medium)
    assert ejected.tracker.as_list() == [{"field": "disks[hdc].source", "before": "/img/a.iso", "after": None}]
    assert ejected.desired.element.find("devices/disk[@device='cdrom']/source") is None
    assert plan({"disks": [{"target": "hdc", "source": ""}]}, with_medium).tracker.fields == ["disks[hdc].source"]
    assert plan({"disks": [{"target": "hdc", "device": "cdrom"}]}).tracker.as_list() == []  # empty already
    # a hard disk declared without a source keeps it (not declared); with '' it is refused
    assert plan({"disks": [{"target": "vdb"}]}).tracker.as_list() == []
    with pytest.raises(InputError, match=r"^disks\[vdb\].source: '' \(no medium\) is only for a cdrom or floppy"):
        plan({"disks": [{"target": "vdb", "source": ""}]})
    with pytest.raises(InputError, match=r"^disks\[0\].source: '' \(no medium\) is only for a cdrom or floppy"):
        plan({"disks": [{"target": "vdb", "device": "disk", "source": ""}]})


def test_what_the_start_fills_in_is_no_difference():
    # a console's listen address from qemu.conf, the firmware auto-selection's loader and NVRAM
    persistent = PERSISTENT.replace(" listen='127.0.0.1' passwd", " passwd").replace(
        "<listen type='address' address='127.0.0.1'/>", "").replace("<os>", "<os firmware='efi'>")
    running = RUNNING.replace("<os>", "<os><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
                              "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/g_VARS.fd"
                              "</nvram>")
    assert pending(persistent, running) == []
    assert pending(PERSISTENT.replace("<os>", "<os firmware='efi'>")) == ["os"]  # no firmware picked: not started so


def test_a_running_guests_document_fed_back_as_xml_changes_nothing():
    stored = PERSISTENT.replace("<currentMemory unit='KiB'>131072", "<currentMemory unit='KiB'>98304")
    running = RUNNING.replace("<driver name='qemu'/><source index='3'/>", "<driver name='qemu' type='raw'/>").replace(
        " tray='open'", "")
    fed_back = DomainPlan(DeclaredDomain({"name": "g", "xml": running}), Domain.from_xml(stored),
                          live=Domain.from_xml(running))
    assert fed_back.tracker.as_list() == []  # <currentMemory> of a running guest is its balloon's size now
