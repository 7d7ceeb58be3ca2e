"""The documented guests converge on the real daemon: every EXAMPLES entry of virt.libvirt.domain (Xen ones on
the daemon's test driver) and the QEMU guest of libvirt's domain XML format, each with this run's names, uuids,
paths and networks. The second run of each reports no change, in check mode too."""
from __future__ import annotations

import copy
import os
import re
import subprocess
import uuid

import pytest
import yaml

from ansible_collections.virt.libvirt.plugins.modules import domain as domain_module
from tests.support.harness import REPO, run_module
from tests.support.libvirt_api import free_subnets, libvirt_binding
from tests.support.source_documents import format_domains

pytestmark = pytest.mark.integration

EXAMPLES = yaml.safe_load(domain_module.EXAMPLES)
FORMAT_QEMU = format_domains()[4]
# The document the "full XML document" example reads with a file lookup: what virt-install writes for a guest.
XML_EXAMPLE_DOCUMENT = REPO / "tests" / "data" / "virt-install" / "i440fx-default.xml"


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.fixture(scope="module")
def network(qemu_uri, run_prefix):
    """An isolated network of this run (own bridge, a free /24 of 10.235.0.0/16) standing in for 'default'."""
    libvirt = libvirt_binding()
    connection = libvirt.open(qemu_uri)
    name = "%s-examples" % run_prefix
    (subnet,) = free_subnets(qemu_uri, "10.235", 1)
    defined = connection.networkDefineXML(
        "<network><name>%s</name><bridge name='%sex'/><ip address='%s' netmask='%s'/></network>"
        % (name, run_prefix, subnet.network_address + 1, subnet.netmask))
    try:
        defined.create()
        yield name
    finally:
        if defined.isActive():
            defined.destroy()
        defined.undefine()
        connection.close()


class ExampleRun:
    """One example made to run here: the names it uses mapped to this run's, its images made."""

    def __init__(self, uris, kvm_domain_type, unique_name, image_dir, network):
        self.uris = uris
        self.kvm_domain_type = kvm_domain_type
        self.unique_name = unique_name
        self.image_dir = image_dir
        self.network = network
        self.names = {}

    def name(self, documented):
        if documented not in self.names:
            self.names[documented] = self.unique_name(slug(documented)[:12])
        return self.names[documented]

    def image(self, documented_path):
        """A real (empty, raw) image for a path the example names, in this run's image directory."""
        path = os.path.join(self.image_dir, "%s-%s" % (self.unique_name("img"), os.path.basename(documented_path)))
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", path, "16M"], check=True)
        return path

    def guest(self, options, on_test_driver):
        """One guest's options (single form or a bulk item) with this run's name, uuid, images and network."""
        adapted = dict(options, name=self.name(options["name"]))
        if "uuid" in options:  # a fixed uuid would collide with other runs on the same daemon
            adapted["uuid"] = uuid.uuid4().hex if "-" not in options["uuid"] else str(uuid.uuid4())
        if on_test_driver:
            return adapted  # the test driver checks no path
        if options.get("type") == "kvm":
            adapted["type"] = self.kvm_domain_type
        if "disks" in options:
            adapted["disks"] = [dict(disk, source=self.image(disk["source"])) if disk.get("source") else disk
                                for disk in options["disks"]]
        if "interfaces" in options:
            adapted["interfaces"] = [dict(interface, network=self.network) if interface.get("network") == "default"
                                     else interface for interface in options["interfaces"]]
        if "xml" in options:
            # the example reads web1.xml with a file lookup; here it is a document virt-install wrote
            images = os.path.join(self.image_dir, adapted["name"])
            os.makedirs(images, mode=0o755)
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", os.path.join(images, "root.qcow2"), "16M"],
                           check=True)
            adapted["xml"] = (XML_EXAMPLE_DOCUMENT.read_text(encoding="utf-8")
                              .replace("@NAME@", adapted["name"]).replace("@UUID@", str(uuid.uuid4()))
                              .replace("@IMAGES@", images).replace("@NET0@", self.network)
                              .replace("@MAC0@", "52:54:00:%02x:%02x:%02x" % tuple(os.urandom(3))))
        return adapted

    def existing_guest(self, options):
        """The guest an example changes or removes, made before it runs: running for a change, with a disk
        image for a removal. Returns the image path (None for a change)."""
        guest = {"uri": options["uri"], "name": options["name"], "memory": "128MiB"}
        image = None
        if options.get("state") == "absent":
            image = self.image("disk.img")
            guest["disks"] = [{"source": image, "target": "vda"}]
        else:
            guest["state"] = "running"
        made = run_module("domain", guest)
        assert made.changed and not made.failed, made.get("msg")
        return image

    def options(self, example):
        options = copy.deepcopy(example)
        on_test_driver = str(options.get("uri", "")).startswith("xen")
        options["uri"] = self.uris["test"] if on_test_driver else self.uris["qemu"]
        if "shutdown_timeout" in options:
            # A guest without an OS ignores the ACPI request: the wait only delays the forced power-off.
            options["shutdown_timeout"] = 2
        if "domains" in options:
            options["domains"] = [self.guest(item, on_test_driver) for item in options["domains"]]
            return options
        return self.guest(options, on_test_driver)


def is_a_change_to_an_existing_guest(options):
    """An example that declares no guest of its own (no memory, os or xml) changes or removes one."""
    return "domains" not in options and not any(key in options for key in ("memory", "xml", "os"))


def what_changed(result):
    """The differences of the single form, the per-guest results of the bulk form."""
    return result.get("differences", result.get("results"))


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=[slug(example["name"]) for example in EXAMPLES])
def test_documented_example_converges(index, qemu_uri, test_driver_uri, kvm_domain_type, unique_name, image_dir,
                                      network):
    example = EXAMPLES[index]
    run = ExampleRun({"qemu": qemu_uri, "test": test_driver_uri}, kvm_domain_type, unique_name, image_dir, network)
    options = run.options(example["virt.libvirt.domain"])
    guests = [item["name"] for item in options.get("domains", [])] or [options["name"]]
    try:
        image = run.existing_guest(options) if is_a_change_to_an_existing_guest(options) else None
        first = run_module("domain", options)
        assert not first.failed, "%s: %s" % (example["name"], first.get("msg"))
        if set(options) - {"name", "uri", "restart"}:
            # (Restarting the guests that lag behind their definition changes nothing when none does.)
            assert first.changed, "%s: the first run changed nothing" % example["name"]
        second = run_module("domain", options)
        assert not second.failed, "%s (second run): %s" % (example["name"], second.get("msg"))
        assert not second.changed, "%s (second run): %s" % (example["name"], what_changed(second))
        predicted = run_module("domain", options, check_mode=True)
        assert not predicted.changed, "%s (check mode): %s" % (example["name"], what_changed(predicted))
        if image is not None:
            assert first["removed_storage"] == [image] and not os.path.exists(image)
    finally:
        for name in guests:
            run_module("domain", {"uri": options["uri"], "name": name, "state": "absent", "remove_storage": True})


def test_libvirt_format_qemu_example_converges(qemu_uri, unique_name, image_dir, network, libvirt_connection):
    """libvirt's QEMU example (i686, machine 'pc', booting from CD-ROM) with this run's name, uuid, images and
    network, the binary this host has (/usr/bin/qemu-system-i386 for its /usr/bin/qemu), and its interface's
    <source name='default'/> (libvirt 0.2's spelling, refused by the module) written <source network=.../>."""
    name = unique_name("qemu-example")
    iso, disk = os.path.join(image_dir, name + "-boot.iso"), os.path.join(image_dir, name + "-fedora.img")
    for path in (iso, disk):
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", path, "16M"], check=True)
    document = (FORMAT_QEMU.replace("<name>QEmu-fedora-i686</name>", "<name>%s</name>" % name)
                .replace("c7a5fdbd-cdaf-9455-926a-d65c16db1809", str(uuid.uuid4()))
                .replace("<emulator>/usr/bin/qemu</emulator>", "<emulator>/usr/bin/qemu-system-i386</emulator>")
                .replace("/home/user/boot.iso", iso).replace("/home/user/fedora.img", disk)
                .replace("<source name='default'/>", "<source network='%s'/>" % network))
    assert "<type arch='i686' machine='pc'>hvm</type>" in document
    declared = {"uri": qemu_uri, "name": name, "xml": document}
    running = dict(declared, state="running")
    connection = libvirt_connection(qemu_uri)
    inactive = libvirt_binding().VIR_DOMAIN_XML_INACTIVE
    try:
        created = run_module("domain", declared)
        assert created.changed and not created.failed, created.get("msg")
        stored = connection.lookupByName(name).XMLDesc(inactive)
        second = run_module("domain", declared)
        assert not second.failed and not second.changed, second.get("msg") or second["differences"]
        predicted = run_module("domain", declared, check_mode=True)
        assert not predicted.changed, predicted["differences"]
        started = run_module("domain", running)
        assert started["changes"] == ["state"] and connection.lookupByName(name).isActive(), started.get(
            "msg") or started["differences"]
        again = run_module("domain", running)
        assert not again.failed and not again.changed, again.get("msg") or again["differences"]
        assert connection.lookupByName(name).XMLDesc(inactive) == stored
    finally:
        run_module("domain", {"uri": qemu_uri, "name": name, "state": "absent"})
