"""The Xen PV and Xen HVM guests of libvirt's domain XML format documentation through libvirt's test driver
(Xen cannot run here)."""
from __future__ import annotations

import pytest

from tests.support.harness import run_module
from tests.support.source_documents import format_domains

pytestmark = pytest.mark.integration

FORMAT_PV, _LIFECYCLE, FORMAT_HVM, _KVM, _QEMU = format_domains()


def renamed(document, old, new):
    return document.replace("<name>%s</name>" % old, "<name>%s</name>" % new)


def test_format_xen_pv_guest_from_xml(test_driver_uri, unique_name, libvirt_connection):
    name = unique_name("pv")
    args = {"uri": test_driver_uri, "name": name, "xml": renamed(FORMAT_PV, "fc4", name), "state": "running"}
    created = run_module("domain", args)
    assert created.changed, created.get("msg")
    domain = libvirt_connection(test_driver_uri).lookupByName(name)
    assert domain.isActive()
    stored = domain.XMLDesc(0)
    assert "<type arch='i686'>linux</type>" in stored and "<kernel>/boot/vmlinuz-2.6.15-1.43_FC5guest</kernel>" in stored
    assert "<source bridge='xenbr0'/>" in stored and "aa:00:00:00:00:11" in stored
    second = run_module("domain", args)
    assert not second.changed, second["changes"]
    # a graceful shutdown works on the test driver
    down = run_module("domain", dict(args, state="shutdown", shutdown_timeout=10))
    assert down.changed and not domain.isActive()
    assert run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"}).changed


def test_format_xen_pv_guest_from_structured_options(test_driver_uri, unique_name):
    name = unique_name("pvs")
    args = {"uri": test_driver_uri, "name": name, "type": "xen", "memory": 131072, "vcpu": 1,
            "os": {"type": "linux", "kernel": "/boot/vmlinuz-2.6.15-1.43_FC5guest",
                   "initrd": "/boot/initrd-2.6.15-1.43_FC5guest.img", "root": "/dev/sda1",
                   "cmdline": " ro selinux=0 3"},
            "disks": [{"type": "file", "source": "/u/fc4.img", "target": "sda1"}],
            "interfaces": [{"type": "bridge", "bridge": "xenbr0", "mac": "AA:00:00:00:00:11",
                            "script": "/etc/xen/scripts/vif-bridge"}],
            "consoles": [{"type": "pty", "tty": "/dev/pts/5"}],
            "on_reboot": "restart", "on_poweroff": "destroy", "on_crash": "rename-restart"}
    try:
        assert run_module("domain", args).changed
        again = run_module("domain", args)
        assert not again.changed, again["changes"]
        assert "<cmdline> ro selinux=0 3</cmdline>" in again["domain"]["xml"]
        assert "<on_crash>rename-restart</on_crash>" in again["domain"]["xml"]
    finally:
        run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"})


def test_format_xen_hvm_guest(test_driver_uri, unique_name, libvirt_connection):
    name = unique_name("hvm")
    document = renamed(FORMAT_HVM, "fv0", name).replace("4dea22b31d52d8f32516782e98ab3fa0", "")
    args = {"uri": test_driver_uri, "name": name, "xml": document}
    try:
        created = run_module("domain", args, diff=True)
        assert created.changed, created.get("msg")
        stored = libvirt_connection(test_driver_uri).lookupByName(name).XMLDesc(0)
        for expected in (">/usr/lib/xen/boot/hvmloader</loader>", "<boot dev='hd'/>", "<pae/>", "<acpi/>",
                         "<apic/>", "<emulator>/usr/lib/xen/bin/qemu-dm</emulator>", "device='cdrom'",
                         "device='floppy'", "<readonly/>", "port='5904'"):
            assert expected in stored, expected
        assert not run_module("domain", args).changed
        # structured options on top of the same document: one field changes
        changed = run_module("domain", dict(args, memory="1GiB", features=["acpi", "apic"]), diff=True)
        assert changed.changed and changed["changes"] == ["memory", "features", "current_memory"]
        assert "<pae/>" in changed["diff"]["before"] and "<pae/>" not in changed["diff"]["after"]
        assert not run_module("domain", dict(args, memory="1GiB", features=["acpi", "apic"])).changed
    finally:
        run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"})


def test_format_uuid_is_kept(test_driver_uri, unique_name, libvirt_connection):
    name = unique_name("uuid")
    args = {"uri": test_driver_uri, "name": name, "type": "xen", "memory": 524288, "os": {"type": "hvm"},
            "uuid": "4dea22b31d52d8f32516782e98ab3fa0"}
    try:
        assert run_module("domain", args).changed
        assert libvirt_connection(test_driver_uri).lookupByName(name).UUIDString() == "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
        assert not run_module("domain", dict(args, uuid="4DEA22B3-1D52-D8F3-2516-782E98AB3FA0")).changed
        refused = run_module("domain", dict(args, uuid="00000000-0000-0000-0000-000000000001"))
        assert refused.failed and refused["msg"].startswith("uuid: ") and "cannot be changed" in refused["msg"]
    finally:
        run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"})
