"""virt.libvirt.domain reports what it did, and does no damage, against the real daemon: a failure after a write
is a change; a new guest whose first start fails is undefined again; remove_storage never deletes an image
another guest uses; an interface on a missing network is warned about; new x86 HVM guests get ACPI and APIC."""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.harness import run_module

pytestmark = pytest.mark.integration


def persistent_xml(connection, name):
    import libvirt
    return connection.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def defined_names(connection):
    return [domain.name() for domain in connection.listAllDomains()]


def qemu_cmdline(name):
    """The command line of the QEMU process running the guest ``name``."""
    with open("/run/libvirt/qemu/%s.pid" % name, encoding="utf-8") as stream:
        pid = stream.read().strip()
    with open("/proc/%s/cmdline" % pid, encoding="utf-8") as stream:
        return stream.read().split("\0")


@pytest.fixture
def kvm_guests(qemu_uri, kvm_domain_type, unique_name):
    """Makes KVM guest options (no disk: a started guest sits in its firmware); every guest made is removed."""
    made = []

    def make(label="g", **options):
        name = unique_name(label)
        made.append(name)
        return dict({"name": name, "type": kvm_domain_type, "memory": "64MiB", "os": {"type": "hvm"}}, **options)

    yield make
    for name in made:
        run_module("domain", {"uri": qemu_uri, "name": name, "state": "absent"})


# -- a failed start: undefined again when new, reported as a change when a definition was written ------------
def test_new_guest_whose_first_start_fails_is_undefined_again(qemu_uri, run_prefix, kvm_guests, libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    missing = run_prefix + "-nonet"  # no network of this name exists
    on_missing = [{"type": "network", "network": missing}]
    guest = kvm_guests("first", interfaces=on_missing, state="running")

    predicted = run_module("domain", dict(guest, uri=qemu_uri), check_mode=True)
    assert predicted.changed and not predicted.failed  # libvirt would accept the definition
    assert guest["name"] not in defined_names(conn)

    failed = run_module("domain", dict(guest, uri=qemu_uri))
    assert failed.failed and not failed.get("changed"), failed
    assert "starting the guest %s failed" % guest["name"] in failed["msg"] and missing in failed["msg"]
    assert failed["msg"].endswith("The new guest was undefined again, so the task changed nothing")
    assert guest["name"] not in defined_names(conn)
    assert failed["warnings"] == [
        "interfaces[0].network: the network %s does not exist on %s: libvirt accepts the definition, but the "
        "guest cannot start until the network exists" % (missing, qemu_uri)]

    # The bulk form: the same item fails the same way, and the task is changed only by the item that worked.
    good = kvm_guests("first")
    bulk = run_module("domain", {"uri": qemu_uri, "state": "running", "domains": [guest, good]})
    assert bulk.failed and bulk["changed"] is True
    assert [(r["name"], r["failed"], r["changed"]) for r in bulk["results"]] == [
        (guest["name"], True, False), (good["name"], False, True)]
    assert bulk["results"][0]["changes"] == [] and "undefined again" in bulk["results"][0]["msg"]
    assert bulk["warnings"] == ["%s: domains[0].interfaces[0].network: the network %s does not exist on %s: libvirt "
                                "accepts the definition, but the guest cannot start until the network exists"
                                % (guest["name"], missing, qemu_uri)]
    assert guest["name"] not in defined_names(conn) and conn.lookupByName(good["name"]).isActive()


def test_a_failure_after_the_definition_was_written_is_a_change(qemu_uri, run_prefix, kvm_guests, libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    guest = kvm_guests("written")
    assert run_module("domain", dict(guest, uri=qemu_uri)).changed  # defined, shut off
    on_missing = [{"type": "network", "network": run_prefix + "-nonet"}]

    failed = run_module("domain", dict(guest, uri=qemu_uri, vcpu=2, interfaces=on_missing, state="running"))
    assert failed.failed and failed["changed"] is True, failed
    assert failed["changes"] == ["vcpu", "interfaces[network:%s-nonet]" % run_prefix]
    assert "Network not found" in failed["msg"] and "undefined" not in failed["msg"]
    assert ">2</vcpu>" in persistent_xml(conn, guest["name"])  # the definition was written, and is kept
    assert not conn.lookupByName(guest["name"]).isActive()

    bulk = run_module("domain", {"uri": qemu_uri, "domains": [dict(guest, vcpu=3, state="running")]})
    assert bulk.failed and bulk["changed"] is True
    assert bulk["results"][0]["changed"] is True and bulk["results"][0]["changes"] == ["vcpu"]
    assert ">3</vcpu>" in persistent_xml(conn, guest["name"])

    # Nothing written, nothing changed: the same failure again reports no change.
    again = run_module("domain", dict(guest, uri=qemu_uri, vcpu=3, state="running"))
    assert again.failed and not again.get("changed"), again


# -- warnings for interfaces on networks that do not exist -------------------------------------------------
def test_interface_on_a_missing_network_is_defined_with_a_warning(test_driver_uri, run_prefix, unique_name,
                                                                  libvirt_connection):
    conn = libvirt_connection(test_driver_uri)
    missing = run_prefix + "-nonet"
    name = unique_name("warn")
    guest = {"uri": test_driver_uri, "name": name, "type": "xen", "memory": "64MiB", "os": {"type": "hvm"},
             "interfaces": [{"type": "network", "network": "default"},  # the test driver's own network
                            {"type": "network", "network": missing, "mac": "52:54:00:37:01:01"}]}
    try:
        created = run_module("domain", guest)
        assert created.changed and not created.failed
        assert created["warnings"] == [
            "interfaces[1].network: the network %s does not exist on %s: libvirt accepts the definition, but the "
            "guest cannot start until the network exists" % (missing, test_driver_uri)]
        assert "network='%s'" % missing in persistent_xml(conn, name)
        again = run_module("domain", guest)
        assert not again.changed and again["warnings"] == created["warnings"]  # warned on every run, no change

        document = persistent_xml(conn, name)
        from_xml = run_module("domain", {"uri": test_driver_uri, "name": name, "xml": document})
        assert not from_xml.changed
        assert from_xml["warnings"] == [
            "xml: devices/interface[2]: the network %s does not exist on %s: libvirt accepts the definition, but "
            "the guest cannot start until the network exists" % (missing, test_driver_uri)]

        fine = run_module("domain", dict(guest, interfaces=guest["interfaces"][:1], purge_devices=True))
        assert fine.changed and "warnings" not in fine
    finally:
        run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"})


# -- remove_storage and images other guests use ---------------------------------------------------------
def test_remove_storage_never_deletes_an_image_another_guest_uses(qemu_uri, kvm_domain_type, kvm_guests,
                                                                  unique_name, make_image, image_dir,
                                                                  libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    own, shared, transient_image, base = make_image("own"), make_image("shared"), make_image("live"), make_image("base")
    overlay = os.path.join(image_dir, unique_name("overlay") + ".qcow2")  # a running guest writes here, reads base
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, overlay], check=True)
    linked = os.path.join(image_dir, unique_name("link") + ".img")
    os.symlink(shared, linked)  # the same file under another name
    gone = os.path.join(image_dir, unique_name("gone") + ".img")  # declared, never created

    other = kvm_guests("other", disks=[{"source": shared, "target": "vda"}])
    assert run_module("domain", dict(other, uri=qemu_uri)).changed  # persistent, shut off
    transient = unique_name("transient")
    conn.createXML(
        "<domain type='%s'><name>%s</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/><target dev='vda'/>"
        "</disk><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='%s'/>"
        "<target dev='vdb'/></disk></devices></domain>" % (kvm_domain_type, transient, transient_image, overlay), 0)
    doomed = kvm_guests("doomed", disks=[{"source": own, "target": "vda"}, {"source": linked, "target": "vdb"},
                                         {"source": transient_image, "target": "vdc"},
                                         {"source": gone, "target": "vdd"}, {"source": base, "target": "vde"}])
    try:
        assert run_module("domain", dict(doomed, uri=qemu_uri)).changed
        remove = {"uri": qemu_uri, "name": doomed["name"], "state": "absent", "remove_storage": True}
        kept = [{"path": linked, "used_by": [other["name"]]}, {"path": transient_image, "used_by": [transient]},
                {"path": base, "used_by": [transient]}]  # the backing file of the running guest's overlay
        warnings = ["remove_storage: the disk image %s was kept: the guest %s uses it" % (kept_image["path"],
                                                                                          kept_image["used_by"][0])
                    for kept_image in kept]

        predicted = run_module("domain", remove, check_mode=True)
        assert predicted["removed_storage"] == [own] and predicted["kept_storage"] == kept
        assert predicted["warnings"] == warnings
        assert all(os.path.exists(path) for path in (own, shared, transient_image, base))

        removed = run_module("domain", remove)
        assert removed.changed and not removed.failed, removed
        assert removed["removed_storage"] == [own]  # the missing image is not reported as removed
        assert removed["kept_storage"] == kept and removed["warnings"] == warnings
        assert not os.path.exists(own) and all(os.path.exists(path) for path in (shared, transient_image, base))
        assert doomed["name"] not in defined_names(conn)
        assert conn.lookupByName(transient).isActive() and other["name"] in defined_names(conn)

        # The bulk form keeps them the same way, and names the item in the task's warnings.
        again = kvm_guests("doomed", disks=[{"source": shared, "target": "vda"}])
        assert run_module("domain", dict(again, uri=qemu_uri)).changed
        bulk = run_module("domain", {"uri": qemu_uri, "state": "absent", "remove_storage": True,
                                     "domains": [{"name": again["name"]}]})
        assert bulk.changed and bulk["results"][0]["removed_storage"] == []
        assert bulk["results"][0]["kept_storage"] == [{"path": shared, "used_by": [other["name"]]}]
        assert bulk["warnings"] == ["%s: domains[0].remove_storage: the disk image %s was kept: the guest %s uses it"
                                    % (again["name"], shared, other["name"])]

        # Once no other guest uses it, it is removed.
        alone = run_module("domain", {"uri": qemu_uri, "name": other["name"], "state": "absent",
                                      "remove_storage": True})
        assert alone["removed_storage"] == [shared] and "warnings" not in alone and not os.path.exists(shared)
    finally:
        try:
            conn.lookupByName(transient).destroy()
        except Exception:  # pylint: disable=broad-except
            pass
        os.unlink(linked)


# -- virt-install's defaults for new x86 HVM guests ------------------------------------------------------
def test_new_x86_hvm_guests_get_acpi_and_apic(qemu_uri, kvm_domain_type, kvm_guests, unique_name,
                                              libvirt_connection):
    conn = libvirt_connection(qemu_uri)
    guest = kvm_guests("acpi", state="running")
    created = run_module("domain", dict(guest, uri=qemu_uri))
    assert created.changed and "features" in created["changes"]
    assert "<features><acpi/><apic/></features>" in "".join(persistent_xml(conn, guest["name"]).split())
    cmdline = qemu_cmdline(guest["name"])
    assert "-no-acpi" not in cmdline and not any("acpi=off" in arg for arg in cmdline), cmdline
    assert not run_module("domain", dict(guest, uri=qemu_uri)).changed

    # Declared features win, an empty list included (then QEMU runs the guest without ACPI).
    without = kvm_guests("noacpi", features=[], state="running")
    assert run_module("domain", dict(without, uri=qemu_uri)).changed
    assert "<features" not in persistent_xml(conn, without["name"])
    assert "-no-acpi" in qemu_cmdline(without["name"]) or any("acpi=off" in a for a in qemu_cmdline(without["name"]))
    assert not run_module("domain", dict(without, uri=qemu_uri)).changed
    pae = kvm_guests("pae", features=["pae"])
    assert run_module("domain", dict(pae, uri=qemu_uri)).changed
    assert "<features><pae/></features>" in "".join(persistent_xml(conn, pae["name"]).split())

    # Another architecture gets no x86 defaults (check mode: no such emulator needed).
    other_arch = kvm_guests("arm", type="qemu", os={"type": "hvm", "arch": "aarch64"})
    predicted = run_module("domain", dict(other_arch, uri=qemu_uri), check_mode=True)
    assert predicted.changed and "features" not in predicted["changes"]
    assert "<features" not in predicted["domain"]["xml"]

    # An existing guest without features is never given them.
    existing = kvm_guests("old")
    conn.defineXML("<domain type='%s'><name>%s</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>"
                   "</domain>" % (kvm_domain_type, existing["name"]))
    before = persistent_xml(conn, existing["name"])
    converged = run_module("domain", dict(existing, uri=qemu_uri, vcpu=2))
    assert converged.changed and converged["changes"] == ["vcpu"]
    assert "<features" not in persistent_xml(conn, existing["name"])
    assert persistent_xml(conn, existing["name"]) == before.replace(">1</vcpu>", ">2</vcpu>")


def test_xen_defaults_follow_the_guest_kind(test_driver_uri, unique_name, libvirt_connection):
    """Xen HVM on the test driver (an i686 host) gets acpi and apic; a Xen paravirtualized guest none."""
    conn = libvirt_connection(test_driver_uri)
    hvm, pv = unique_name("xhvm"), unique_name("xpv")
    try:
        assert run_module("domain", {"uri": test_driver_uri, "name": hvm, "type": "xen", "memory": "64MiB",
                                     "os": {"type": "hvm"}}).changed
        assert "<features><acpi/><apic/></features>" in "".join(persistent_xml(conn, hvm).split())
        assert run_module("domain", {"uri": test_driver_uri, "name": pv, "type": "xen", "memory": "64MiB",
                                     "os": {"type": "linux", "kernel": "/boot/vmlinuz"}}).changed
        assert "<features" not in persistent_xml(conn, pv)
    finally:
        for name in (hvm, pv):
            run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"})


# -- memory units in xml ------------------------------------------------------------------------------
def test_memory_unit_attribute_in_xml_is_read(test_driver_uri, unique_name, libvirt_connection):
    """<memory unit='GB'>2</memory> is libvirt's spelling: read as 2 * 1000^3 bytes (the option refuses "2 GB")."""
    name = unique_name("gb")
    document = ("<domain type='xen'><name>%s</name><memory unit='GB'>2</memory><os><type>hvm</type></os>"
                "</domain>" % name)
    try:
        created = run_module("domain", {"uri": test_driver_uri, "name": name, "xml": document})
        assert created.changed, created.get("msg")
        assert "<memory unit='KiB'>1953125</memory>" in persistent_xml(libvirt_connection(test_driver_uri), name)
        assert not run_module("domain", {"uri": test_driver_uri, "name": name, "xml": document}).changed
        assert not run_module("domain", {"uri": test_driver_uri, "name": name, "memory": "2GB"}).changed
        refused = run_module("domain", {"uri": test_driver_uri, "name": name, "memory": "2 GB"})
        assert refused.failed and refused["msg"] == (
            "memory: '2 GB' has a space between the number and the unit; write 2GB (GB is 1000^3 bytes) or 2GiB "
            "(1024^3 bytes)")
    finally:
        run_module("domain", {"uri": test_driver_uri, "name": name, "state": "absent"})
