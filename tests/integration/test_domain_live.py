"""Live changes on real running KVM guests (QEMU TCG where /dev/kvm is missing): what libvirt can apply to a
running guest goes live in the same task, the rest is pending - with its reason, on every run, whichever run
made it - until ``restart: true`` restarts the guest once; and a network restarted, stopped or removed under
running guests names them and plugs them into its new bridge.

The guests have no operating system: they sit in their firmware, which is running for libvirt. Such a guest
cannot acknowledge a disk unplug, which is how the unplug a guest never confirms is tested. Guests are small
(128 MiB) and each test reuses one guest across its steps. The networks are isolated, without addresses:
nothing leaves their bridges."""
from __future__ import annotations

import os

import pytest
from lxml import etree

from tests.support.harness import run_module
from tests.support.libvirt_api import libvirt_binding

pytestmark = pytest.mark.integration

MAC1, MAC2, MAC3 = "52:54:00:14:01:01", "52:54:00:14:01:02", "52:54:00:14:01:03"
# virt-install gives a q35 guest spare PCIe root ports for hot-plugged devices (libvirt alone gives it one).
Q35_HOTPLUG_PORTS = "<domain><devices><controller type='pci' index='0' model='pcie-root'/>%s</devices></domain>" % "".join(
    "<controller type='pci' index='%d' model='pcie-root-port'/>" % index for index in range(1, 9))


@pytest.fixture(scope="module")
def lab(qemu_uri, run_prefix, image_dir):
    """Two isolated networks (their own bridges, no addresses), a data image and two CD-ROM images."""
    networks = {}
    for label in ("a", "b"):
        name, bridge = "%s-live-%s" % (run_prefix, label), "%sl%s" % (run_prefix, label)
        created = run_module("network", {"uri": qemu_uri, "name": name, "state": "active",
                                         "bridge": {"name": bridge}, "forward": {"mode": "none"}})
        assert created.changed and not created.failed, created
        networks[label] = name
    files = {}
    for label, size in (("data", 16 << 20), ("data2", 16 << 20), ("media", 1 << 20), ("media2", 1 << 20)):
        files[label] = os.path.join(image_dir, "%s-live-%s.img" % (run_prefix, label))
        with open(files[label], "wb") as stream:
            stream.truncate(size)
    yield dict(networks, **files)
    for name in networks.values():
        run_module("network", {"uri": qemu_uri, "name": name, "state": "absent"})


@pytest.fixture
def guests(qemu_uri):
    """Names of the guests a test makes; removed after it, whatever happened."""
    names = []
    yield names
    for name in names:
        run_module("domain", {"uri": qemu_uri, "name": name, "state": "absent"})


def running_guest(lab, qemu_uri, domain_type, name, machine="pc"):
    """A small guest with an empty CD-ROM, a NIC on network a, a VNC password and room for 4 vCPUs, 1 online."""
    cdrom = {"device": "cdrom", "target": "hdc", "bus": "ide"} if machine == "pc" else \
        {"device": "cdrom", "target": "sda", "bus": "sata"}
    options = {"uri": qemu_uri, "name": name, "type": domain_type, "memory": "128MiB", "max_vcpu": 4, "vcpu": 1,
               "os": {"type": "hvm", "machine": machine, "boot": ["hd"]}, "disks": [cdrom],
               "interfaces": [{"type": "network", "network": lab["a"], "mac": MAC1, "model": "virtio"}],
               "graphics": [{"type": "vnc", "port": -1, "listen": "127.0.0.1", "password": "first1"}],
               "state": "running"}
    if machine == "q35":
        options["xml"] = Q35_HOTPLUG_PORTS.replace("<domain>", "<domain type='%s'><name>%s</name>" % (domain_type, name))
    created = run_module("domain", options)
    assert created.changed and not created.failed, created
    return options


def documents(connection, name):
    """The running guest's document and its persistent definition, as lxml trees (passwords included)."""
    libvirt = libvirt_binding()
    domain = connection.lookupByName(name)
    return (etree.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)),
            etree.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE)))


def disk(document, target):
    found = [d for d in document.findall("devices/disk") if d.find("target").get("dev") == target]
    return found[0] if found else None


def interface(document, mac):
    found = [i for i in document.findall("devices/interface") if i.find("mac").get("address") == mac]
    return found[0] if found else None


def fields(result):
    return sorted(entry["field"] for entry in result["pending"])


def with_item(options, kind, index, **changes):
    items = [dict(item) for item in options[kind]]
    items[index].update(changes)
    return dict(options, **{kind: items})


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_a_running_guest_gets_its_changes_live(machine, lab, qemu_uri, kvm_domain_type, unique_name, guests,
                                               libvirt_connection):
    libvirt = libvirt_binding()
    conn = libvirt_connection(qemu_uri)
    name = unique_name("live")
    guests.append(name)
    options = running_guest(lab, qemu_uri, kvm_domain_type, name, machine)
    cdrom = options["disks"][0]["target"]
    domain_id = conn.lookupByName(name).ID()

    # In one task: a second virtio disk, a CD-ROM medium, a NIC on another network, a vCPU within max_vcpu.
    change = dict(options, vcpu=2,
                  disks=[dict(options["disks"][0], source=lab["media"]),
                         {"source": lab["data"], "target": "vdb", "bus": "virtio", "driver_type": "raw"}],
                  interfaces=options["interfaces"] + [{"type": "network", "network": lab["b"], "mac": MAC2,
                                                       "model": "virtio"}])
    live_fields = sorted(["vcpu", "disks[%s].source" % cdrom, "disks[vdb]", "interfaces[%s]" % MAC2])
    predicted = run_module("domain", change, check_mode=True)
    assert predicted.changed and not predicted["restart_required"] and predicted["pending"] == [], predicted
    assert sorted(predicted["live_changes"]) == live_fields
    running, persistent = documents(conn, name)
    assert disk(running, "vdb") is None and disk(persistent, "vdb") is None  # check mode changed nothing

    applied = run_module("domain", change)
    assert applied.changed and applied["restart_required"] is False and applied["pending"] == [], applied
    assert sorted(applied["live_changes"]) == live_fields
    running, persistent = documents(conn, name)
    for document in (running, persistent):
        assert disk(document, "vdb").find("source").get("file") == lab["data"]
        assert disk(document, cdrom).find("source").get("file") == lab["media"]
        assert interface(document, MAC2).find("source").get("network") == lab["b"]
        assert document.find("vcpu").get("current") == "2" and document.find("vcpu").text == "4"
    assert conn.lookupByName(name).vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2

    again = run_module("domain", change)
    assert not again.changed and again["restart_required"] is False and again["pending"] == [], again

    # Eject the medium, move the first NIC to network b with its link down, a new console password, a lower
    # balloon target: live too (the guest has no balloon driver to give the memory back, and a running guest's
    # <currentMemory> is what it gave back, so that is no difference).
    second = with_item(with_item(dict(change, graphics=[dict(change["graphics"][0], password="second")],
                                      current_memory="96MiB"),
                                 "disks", 0, source=None), "interfaces", 0, network=lab["b"], link="down")
    moved = run_module("domain", second)
    assert moved.changed and moved["restart_required"] is False and moved["pending"] == [], moved
    assert sorted(moved["live_changes"]) == sorted([
        "disks[%s].source" % cdrom, "interfaces[%s].network" % MAC1, "interfaces[%s].link" % MAC1,
        "graphics[vnc].password", "current_memory"])
    running, persistent = documents(conn, name)
    for document in (running, persistent):
        assert disk(document, cdrom).find("source") is None or disk(document, cdrom).find("source").get("file") is None
        assert interface(document, MAC1).find("source").get("network") == lab["b"]
        assert interface(document, MAC1).find("link").get("state") == "down"
        assert document.find("devices/graphics").get("passwd") == "second"
    assert "second" not in str(moved)  # the password is masked in the result
    assert persistent.find("currentMemory").text == "98304"
    assert not run_module("domain", second).changed
    # virsh dumpxml of the running guest, fed back as xml: nothing to change, nothing pending.
    fed_back = run_module("domain", {"uri": qemu_uri, "name": name, "xml": conn.lookupByName(name).XMLDesc(0)})
    assert not fed_back.changed and fed_back["pending"] == [], fed_back
    assert conn.lookupByName(name).ID() == domain_id  # the guest never stopped


def test_what_cannot_go_live_is_pending_until_a_restart(lab, qemu_uri, kvm_domain_type, unique_name, guests,
                                                        libvirt_connection):
    libvirt = libvirt_binding()
    conn = libvirt_connection(qemu_uri)
    name = unique_name("pend")
    guests.append(name)
    options = running_guest(lab, qemu_uri, kvm_domain_type, name)
    domain_id = conn.lookupByName(name).ID()

    # The machine version, an interface model and the features cannot change while the guest runs.
    change = with_item(dict(options, os=dict(options["os"], machine="pc-i440fx-6.2"), features=["acpi", "apic", "pae"]),
                       "interfaces", 0, model="e1000")
    expected = sorted(["os.machine", "features", "interfaces[%s].model" % MAC1])
    predicted = run_module("domain", change, check_mode=True)
    assert predicted.changed and predicted["restart_required"] is True and fields(predicted) == expected
    changed = run_module("domain", change)
    assert changed.changed and changed["restart_required"] is True and changed["live_changes"] == []
    assert fields(changed) == expected
    assert all("cannot change" in entry["reason"] for entry in changed["pending"]), changed["pending"]

    # Nothing changes on the next run, and the restart it needs is still reported.
    again = run_module("domain", change)
    assert not again.changed and again["restart_required"] is True and fields(again) == expected
    assert all("changed before this task" in entry["reason"] for entry in again["pending"])

    # restart: true restarts it once, for a change made by the earlier run; then nothing is pending.
    restarted = run_module("domain", dict(change, restart=True, shutdown_timeout=1, force=True))
    assert restarted.changed and restarted["restart_required"] is False and restarted["pending"] == []
    new_id = conn.lookupByName(name).ID()
    assert new_id != domain_id
    running, _persistent = documents(conn, name)
    assert running.find("os/type").get("machine") == "pc-i440fx-6.2"
    assert interface(running, MAC1).find("model").get("type") == "e1000"
    after = run_module("domain", dict(change, restart=True, shutdown_timeout=1, force=True))
    assert not after.changed and after["restart_required"] is False and conn.lookupByName(name).ID() == new_id

    # Changed with virsh define behind the module's back while it runs: the difference is pending.
    domain = conn.lookupByName(name)
    behind = domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE).replace(
        "<on_crash>destroy</on_crash>", "<on_crash>restart</on_crash>")
    conn.defineXML(behind)
    noticed = run_module("domain", change)
    assert not noticed.changed and noticed["restart_required"] is True and fields(noticed) == ["on_crash"]

    # A disk hot-plugged, then removed: the guest has no OS and never acknowledges the unplug. The task
    # succeeds, the definition no longer has the disk, and the restart it needs says why.
    with_disk = dict(change, disks=options["disks"] + [{"source": lab["data2"], "target": "vdb", "bus": "virtio"}])
    plugged = run_module("domain", with_disk)
    assert plugged["live_changes"] == ["disks[vdb]"] and fields(plugged) == ["on_crash"]
    unplugged = run_module("domain", dict(change, purge_devices=True))
    assert unplugged.changed and not unplugged.failed and unplugged["changes"] == ["disks[vdb]"], unplugged
    assert unplugged["live_changes"] == [] and unplugged["restart_required"] is True
    reasons = {entry["field"]: entry["reason"] for entry in unplugged["pending"]}
    assert set(reasons) == {"on_crash", "disks[vdb]"} and "did not release the device" in reasons["disks[vdb]"]
    running, persistent = documents(conn, name)
    assert disk(persistent, "vdb") is None and disk(running, "vdb") is not None
    assert conn.lookupByName(name).ID() == new_id


def test_live_false_paused_guests_and_diff(lab, qemu_uri, kvm_domain_type, unique_name, guests, libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    name = unique_name("lfal")
    guests.append(name)
    options = running_guest(lab, qemu_uri, kvm_domain_type, name)
    with_disk = dict(options, disks=options["disks"] + [{"source": lab["data2"], "target": "vdb", "bus": "virtio"}])

    # live: false writes the definition only; the running guest lacks the disk until it restarts.
    written = run_module("domain", dict(with_disk, live=False), diff=True)
    assert written.changed and written["changes"] == ["disks[vdb]"] and written["live_changes"] == []
    assert written["restart_required"] is True and fields(written) == ["disks[vdb]"]
    assert "live: false" in written["pending"][0]["reason"]
    assert lab["data2"] not in written["diff"]["before"] and lab["data2"] in written["diff"]["after"]
    running, persistent = documents(conn, name)
    assert disk(running, "vdb") is None and disk(persistent, "vdb") is not None
    # A later run with live: true does not push it: nothing changes, and the restart is still needed.
    later = run_module("domain", with_disk)
    assert not later.changed and later["restart_required"] is True and fields(later) == ["disks[vdb]"]

    # A paused guest gets live changes too, and stays paused.
    paused = dict(with_disk, state="paused")
    assert run_module("domain", paused)["changes"] == ["state"]
    change = with_item(dict(paused, interfaces=paused["interfaces"] + [
        {"type": "network", "network": lab["a"], "mac": MAC3, "model": "virtio"}]), "disks", 0, source=lab["media2"])
    predicted = run_module("domain", change, check_mode=True, diff=True)
    assert sorted(predicted["live_changes"]) == ["disks[hdc].source", "interfaces[%s]" % MAC3]
    assert MAC3 in predicted["diff"]["after"] and MAC3 not in predicted["diff"]["before"]
    applied = run_module("domain", change)
    assert sorted(applied["live_changes"]) == ["disks[hdc].source", "interfaces[%s]" % MAC3]
    assert fields(applied) == ["disks[vdb]"]  # still pending from the live: false run
    running, _persistent = documents(conn, name)
    assert interface(running, MAC3) is not None and disk(running, "hdc").find("source").get("file") == lab["media2"]
    assert conn.lookupByName(name).state()[0] == libvirt_binding().VIR_DOMAIN_PAUSED
    assert not run_module("domain", change).changed


def test_bulk_form_lists_the_guests_that_need_a_restart(lab, qemu_uri, kvm_domain_type, unique_name, guests):
    first, second = unique_name("bulk"), unique_name("bulk")
    guests.extend([first, second])
    items = [running_guest(lab, qemu_uri, kvm_domain_type, name) for name in (first, second)]
    items = [{key: value for key, value in item.items() if key != "uri"} for item in items]
    items[0] = dict(items[0], disks=items[0]["disks"] + [{"source": lab["data"], "target": "vdb", "bus": "virtio",
                                                         "readonly": True}])
    items[1] = with_item(items[1], "interfaces", 0, model="e1000")
    result = run_module("domain", {"uri": qemu_uri, "domains": items})
    assert result.changed and not result.failed, result
    assert result["restart_required"] == [second]
    assert result["results"][0]["live_changes"] == ["disks[vdb]"] and result["results"][0]["pending"] == []
    assert [entry["field"] for entry in result["results"][1]["pending"]] == ["interfaces[%s].model" % MAC1]
    again = run_module("domain", {"uri": qemu_uri, "domains": items})
    assert not again.changed and again["restart_required"] == [second]


def test_xen_guests_of_the_test_driver_keep_working(test_driver_uri, unique_name):
    """The test driver cannot plug devices into a running guest: the change waits for a restart, with libvirt's
    own reason, and the task succeeds."""
    name = unique_name("xlive")
    options = {"uri": test_driver_uri, "name": name, "type": "xen", "memory": 131072, "vcpu": 1,
               "os": {"type": "linux", "kernel": "/boot/vmlinuz", "root": "/dev/xvda1"},
               "disks": [{"source": "/var/lib/xen/%s.img" % name, "target": "xvda"}],
               "interfaces": [{"type": "bridge", "bridge": "xenbr0", "mac": "00:16:3e:14:00:01"}], "state": "running"}
    try:
        assert run_module("domain", options).changed
        assert run_module("domain", options)["pending"] == []
        change = dict(options, disks=options["disks"] + [{"source": "/var/lib/xen/%s-b.img" % name, "target": "xvdb"}])
        changed = run_module("domain", change)
        assert changed.changed and not changed.failed and changed["restart_required"] is True
        assert fields(changed) == ["disks[xvdb]"] and "not supported" in changed["pending"][0]["reason"]
        restarted = run_module("domain", dict(change, restart=True))
        assert restarted.changed and not restarted["restart_required"] and restarted["pending"] == []
        assert not run_module("domain", change)["restart_required"]
    finally:
        run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"})


def master_of(device):
    link = "/sys/class/net/%s/master" % device
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


def test_a_network_restarted_under_running_guests_plugs_them_in_again(lab, qemu_uri, kvm_domain_type, run_prefix,
                                                                      unique_name, guests, libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    network, bridge = unique_name("rnet"), run_prefix + "lr"
    declared = {"uri": qemu_uri, "name": network, "bridge": {"name": bridge}, "forward": {"mode": "none"},
                "state": "active"}
    name = unique_name("rguest")
    guests.append(name)
    try:
        assert run_module("network", declared).changed
        options = dict(running_guest(lab, qemu_uri, kvm_domain_type, name), interfaces=[
            {"type": "network", "network": network, "mac": MAC1, "model": "virtio"}])
        assert run_module("domain", options)["live_changes"] == ["interfaces[%s].network" % MAC1]
        tap = interface(documents(conn, name)[0], MAC1).find("target").get("dev")
        assert master_of(tap) == bridge

        predicted = run_module("network", dict(declared, mtu=1400, restart=True), check_mode=True)
        assert predicted["guests"] == [name] and predicted["replugged"] == [{"guest": name, "mac": MAC1}]
        restarted = run_module("network", dict(declared, mtu=1400, restart=True))
        assert restarted.changed and restarted["guests"] == [name], restarted
        assert restarted["replugged"] == [{"guest": name, "mac": MAC1}] and restarted["unplugged"] == []
        assert any(name in warning and "restarted" in warning for warning in restarted["warnings"])
        assert master_of(tap) == bridge  # libvirt made a new bridge; the guest's tap is on it again

        stopped = run_module("network", dict(declared, mtu=1400, state="inactive"))
        assert stopped["guests"] == [name] and any("cut off" in warning for warning in stopped["warnings"])
        assert master_of(tap) is None
        predicted_start = run_module("network", dict(declared, mtu=1400), check_mode=True)
        assert predicted_start["replugged"] == [{"guest": name, "mac": MAC1}] and master_of(tap) is None
        started = run_module("network", dict(declared, mtu=1400))
        assert started["replugged"] == [{"guest": name, "mac": MAC1}] and master_of(tap) == bridge
        # The guest itself sees nothing to change or restart.
        assert run_module("domain", options)["pending"] == []

        removed = run_module("network", dict(declared, state="absent"))
        assert removed.changed and removed["guests"] == [name]
        assert any("removed" in warning and name in warning for warning in removed["warnings"])
    finally:
        run_module("network", {"uri": qemu_uri, "name": network, "state": "absent"})
