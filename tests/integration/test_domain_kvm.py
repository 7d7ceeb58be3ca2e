"""virt.libvirt.domain against the real daemon: a KVM (or QEMU TCG) guest through its whole life."""
from __future__ import annotations

import os

import pytest

from tests.support.harness import run_module

pytestmark = pytest.mark.integration


def state_of(connection, name):
    import libvirt
    names = {libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_PAUSED: "paused",
             libvirt.VIR_DOMAIN_SHUTOFF: "shutoff"}
    return names.get(connection.lookupByName(name).state()[0], "other")


def persistent_xml(connection, name):
    import libvirt
    return connection.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)


@pytest.fixture
def guest(unique_name, kvm_domain_type, qemu_uri, make_image):
    """Options for a small guest with a real (empty) disk image; it sits in firmware when started, which
    also means it ignores ACPI shutdown requests."""
    image = make_image()
    name = unique_name("kvm")
    yield {"uri": qemu_uri, "name": name, "type": kvm_domain_type, "memory": "64MiB", "vcpu": 1,
           "os": {"type": "hvm", "boot": ["hd"]},
           "disks": [{"type": "file", "device": "disk", "source": str(image), "target": "vda", "bus": "virtio",
                      "driver_name": "qemu", "driver_type": "raw"}],
           "interfaces": [{"type": "user", "model": "virtio"}],
           "graphics": [{"type": "vnc", "port": -1, "listen": "127.0.0.1", "password": "s3cretpw"}]}
    run_module("domain", {"uri": qemu_uri, "name": name, "state": "absent"})


def test_lifecycle(guest, libvirt_connection):
    conn = libvirt_connection(guest["uri"])
    name = guest["name"]

    predicted = run_module("domain", dict(guest, state="running"), check_mode=True)
    assert predicted.changed and "state" in predicted["changes"]
    assert name not in [d.name() for d in conn.listAllDomains()]  # check mode defined nothing

    created = run_module("domain", dict(guest, state="running"), diff=True)
    assert created.changed, created
    assert state_of(conn, name) == "running"
    assert created["domain"]["state"] == "running" and created["domain"]["id"] is not None
    assert created["diff"]["before"] == "" and "<name>%s</name>" % name in created["diff"]["after"]
    assert "s3cretpw" not in str(created) and "s3cretpw" in persistent_xml(conn, name)

    again = run_module("domain", dict(guest, state="running"))
    assert not again.changed, again["changes"]

    paused = run_module("domain", dict(guest, state="paused"))
    assert paused.changed and paused["changes"] == ["state"] and state_of(conn, name) == "paused"
    assert not run_module("domain", dict(guest, state="paused")).changed
    resumed = run_module("domain", dict(guest, state="running"))
    assert resumed.changed and state_of(conn, name) == "running"

    # The guest sits in firmware and ignores ACPI: the timeout fails the task, force powers it off.
    refused = run_module("domain", dict(guest, state="shutdown", shutdown_timeout=2))
    assert refused.failed and "did not shut down within 2 seconds" in refused["msg"]
    assert "force: true" in refused["msg"] and state_of(conn, name) == "running"
    forced = run_module("domain", dict(guest, state="shutdown", shutdown_timeout=2, force=True))
    assert forced.changed and state_of(conn, name) == "shutoff"

    started = run_module("domain", dict(guest, state="running"))
    assert started.changed and state_of(conn, name) == "running"
    destroyed = run_module("domain", dict(guest, state="destroyed"))
    assert destroyed.changed and state_of(conn, name) == "shutoff"
    assert not run_module("domain", dict(guest, state="destroyed")).changed

    paused_from_off = run_module("domain", dict(guest, state="paused"))
    assert paused_from_off.changed and state_of(conn, name) == "paused"

    absent = run_module("domain", {"uri": guest["uri"], "name": name, "state": "absent"}, diff=True)
    assert absent.changed and absent["diff"]["after"] == ""
    assert name not in [d.name() for d in conn.listAllDomains()]
    assert os.path.exists(guest["disks"][0]["source"])  # disk images are kept by default
    assert not run_module("domain", {"uri": guest["uri"], "name": name, "state": "absent"}).changed


def test_change_to_a_running_guest(guest, libvirt_connection):
    conn = libvirt_connection(guest["uri"])
    name = guest["name"]
    assert run_module("domain", dict(guest, state="running")).changed
    domain_id = conn.lookupByName(name).ID()

    predicted = run_module("domain", dict(guest, state="running", memory="96MiB"), check_mode=True, diff=True)
    assert predicted.changed and predicted["changes"] == ["memory", "current_memory"] and predicted["restart_required"]
    assert "98304" in predicted["diff"]["after"] and "65536" in predicted["diff"]["before"]
    assert "98304" not in persistent_xml(conn, name)  # check mode wrote nothing

    changed = run_module("domain", dict(guest, state="running", memory="96MiB"))
    assert changed.changed and changed["restart_required"]
    assert changed["differences"] == [{"field": "memory", "before": 65536, "after": 98304},
                                      {"field": "current_memory", "before": 65536, "after": 98304}]
    assert "<memory unit='KiB'>98304</memory>" in persistent_xml(conn, name)
    assert conn.lookupByName(name).ID() == domain_id  # not restarted

    # restart: true applies it; the firmware-only guest needs force to go down
    restarted = run_module("domain", dict(guest, state="running", memory="96MiB", vcpu=2, restart=True,
                                          shutdown_timeout=1, force=True))
    assert restarted.changed and not restarted["restart_required"]
    assert conn.lookupByName(name).ID() != domain_id and state_of(conn, name) == "running"
    assert conn.lookupByName(name).info()[3] == 2  # the running guest has 2 vCPUs now
    assert not run_module("domain", dict(guest, state="running", memory="96MiB", vcpu=2)).changed


def test_raw_xml_guest_without_mac_is_idempotent(unique_name, qemu_uri, kvm_domain_type, libvirt_connection):
    name = unique_name("xml")
    document = ("<domain type='%s'><name>%s</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
                "<devices><interface type='user'/><interface type='user'/><graphics type='vnc' port='-1'/>"
                "<video><model type='vga'/></video></devices></domain>") % (kvm_domain_type, name)
    try:
        assert run_module("domain", {"uri": qemu_uri, "name": name, "xml": document}).changed
        stored = persistent_xml(libvirt_connection(qemu_uri), name)
        assert stored.count("<mac address=") == 2  # libvirt made the MACs
        second = run_module("domain", {"uri": qemu_uri, "name": name, "xml": document}, check_mode=True)
        assert not second.changed, second["changes"]
        both = run_module("domain", {"uri": qemu_uri, "name": name, "xml": document, "vcpu": 1, "memory": "64MiB"})
        assert not both.changed, both["changes"]
        assert persistent_xml(libvirt_connection(qemu_uri), name) == stored
    finally:
        run_module("domain", {"uri": qemu_uri, "name": name, "state": "absent"})


def test_remove_storage_deletes_only_writable_disks(unique_name, qemu_uri, kvm_domain_type, make_image):
    from pathlib import Path
    disk, iso = Path(make_image("root")), Path(make_image("media", suffix=".iso"))
    name = unique_name("rm")
    assert run_module("domain", {"uri": qemu_uri, "name": name, "type": kvm_domain_type, "memory": 65536,
                                 "disks": [{"source": str(disk), "target": "vda"},
                                           {"source": str(iso), "target": "hdc", "device": "cdrom",
                                            "readonly": True}]}).changed
    predicted = run_module("domain", {"uri": qemu_uri, "name": name, "state": "absent", "remove_storage": True},
                           check_mode=True)
    assert predicted["removed_storage"] == [str(disk)] and disk.exists()
    removed = run_module("domain", {"uri": qemu_uri, "name": name, "state": "absent", "remove_storage": True})
    assert removed.changed and not disk.exists() and iso.exists()


def test_autostart(guest, libvirt_connection):
    conn = libvirt_connection(guest["uri"])
    assert run_module("domain", dict(guest, autostart=True)).changed
    assert conn.lookupByName(guest["name"]).autostart() == 1
    assert not run_module("domain", dict(guest, autostart=True)).changed
    off = run_module("domain", dict(guest, autostart=False))
    assert off.changed and off["changes"] == ["autostart"] and conn.lookupByName(guest["name"]).autostart() == 0
