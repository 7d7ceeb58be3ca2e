"""Guests written by real clients converge: every document virt-install printed for this host
(tests/data/virt-install/, see generate.py there), defined through virt.libvirt.domain with `xml:` on the real
daemon, then run again, in check mode, started, fed back as `virsh dumpxml` (live and --inactive), destroyed
and started again, and removed. A second identical run must report no change at every step, and the stored
definition must never gain a device.

Each document's steps all run, and the test fails at the end listing every step that reported a change or
broke something, with the module's `differences`, so one run shows everything the engine gets wrong."""
from __future__ import annotations

import collections
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import uuid

import pytest
from lxml import etree

from tests.support.harness import REPO, run_module
from tests.support.libvirt_api import free_subnets, libvirt_binding

pytestmark = pytest.mark.integration

DATA = REPO / "tests" / "data" / "virt-install"
DOCUMENTS = sorted(path.name for path in DATA.glob("*.xml"))
NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"

# Documents this host cannot start even after the environment adaptations below: they are defined, run
# again, run in check mode and fed back as `virsh dumpxml --inactive`, never started.
NOT_STARTED = {
    "win11-secure-boot.xml": "secure boot with enrolled keys needs SMM, and this host's KVM says "
                             "'System Management Mode not supported by this hypervisor'",
}

# Documents started in the fresh-from-virt-install test (a few common configurations; the full set is above).
FRESH = ["q35-linux.xml", "i440fx-default.xml", "uefi-linux.xml", "several-nics.xml"]


def load_generator():
    """tests/data/virt-install/generate.py as a module (its directory name is no package name)."""
    spec = importlib.util.spec_from_file_location("virt_install_generate", str(DATA / "generate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def startable_here(document):
    """``document`` with what this nested host cannot start taken out - an environment limit, not part of
    what is tested:
    - Hyper-V enlightenments (<features><hyperv>, the hypervclock timer): QEMU aborts with "failed to set MSR
      0x40000021";
    - secure-boot firmware, which needs SMM ("System Management Mode not supported by this hypervisor"):
      a firmware='efi' guest that asks for no firmware feature is told secure-boot='no', since libvirt 9.0
      would otherwise pick the secure-boot OVMF build, which requires SMM;
    - OVMF under KVM: it stops at its first instructions with "KVM internal error ... emulation failure" and
      libvirt pauses the guest, so UEFI guests run on QEMU's TCG here (type qemu, no host CPU to pass through).
    <cpu mode='host-passthrough'> is kept otherwise: SeaBIOS guests with it start and run on this host."""
    root = etree.fromstring(document)
    for element in root.findall("features/hyperv") + root.findall("clock/timer[@name='hypervclock']"):
        element.getparent().remove(element)
    os_element = root.find("os")
    if os_element.get("firmware") == "efi":
        if os_element.find("firmware") is None:
            firmware = etree.Element("firmware")
            etree.SubElement(firmware, "feature", enabled="no", name="secure-boot")
            os_element.insert(1, firmware)  # after <type>, where libvirt writes it
        return for_this_host(etree.tostring(root, encoding="unicode"), "qemu")
    return etree.tostring(root, encoding="unicode")


def for_this_host(document, kvm_domain_type):
    """Without /dev/kvm the guest runs on QEMU's TCG: type qemu, and no host CPU to pass through."""
    if kvm_domain_type == "kvm":
        return document
    root = etree.fromstring(document)
    if root.get("type") == "kvm":
        root.set("type", kvm_domain_type)
    for cpu in root.findall("cpu"):
        if cpu.get("mode") in ("host-passthrough", "host-model"):
            for attribute in ("mode", "check", "migratable"):
                cpu.attrib.pop(attribute, None)
            if len(cpu) == 0 and not cpu.attrib:
                root.remove(cpu)
    return etree.tostring(root, encoding="unicode")


def random_mac():
    return "52:54:00:%02x:%02x:%02x" % tuple(os.urandom(3))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def run_values(name, images, networks):
    """The values of one document's placeholders for this run (generate.py's names)."""
    return {"name": name, "uuid": str(uuid.uuid4()), "images": images, "net0": networks[0], "net1": networks[1],
            "mac0": random_mac(), "mac1": random_mac(), "mac2": random_mac(), "port0": free_port()}


def substituted(document, values):
    for key, value in values.items():
        document = document.replace("@%s@" % key.upper(), value)
    left = re.findall(r"@[A-Z0-9]+@", document)
    assert not left, "placeholders without a value: %s" % left
    return document


def make_images(document):
    """The disk images, ISOs and shared folders ``document`` names, made with qemu-img (format from the
    disk's driver, raw when it names none)."""
    root = etree.fromstring(document)
    for disk in root.iterfind("devices/disk[@type='file']"):
        source = disk.find("source")
        if source is None or not source.get("file") or os.path.exists(source.get("file")):
            continue
        driver = disk.find("driver")
        image_format = driver.get("type") if driver is not None and driver.get("type") else "raw"
        os.makedirs(os.path.dirname(source.get("file")), mode=0o755, exist_ok=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", image_format, source.get("file"), "16M"], check=True)
    for share in root.iterfind("devices/filesystem/source[@dir]"):
        os.makedirs(share.get("dir"), mode=0o755, exist_ok=True)


def device_identities(xml):
    """How many devices of each identity a definition holds: kind and type, model, target, MAC - never the
    address or index libvirt assigns, so a device added twice counts twice."""
    counts = collections.Counter()
    for device in etree.fromstring(xml).find("devices"):
        if not isinstance(device.tag, str):
            continue
        target, model, mac = device.find("target"), device.find("model"), device.find("mac")
        counts[" ".join(part for part in (
            device.tag,
            device.get("type"),
            device.get("device"),
            device.get("model") or (model.get("type") if model is not None else None),
            (target.get("dev") or target.get("name") or target.get("dir") or target.get("type"))
            if target is not None else None,
            mac.get("address").lower() if mac is not None else None,
        ) if part)] += 1
    return counts


def short(value, width=300):
    text = repr(value)
    return text if len(text) <= width else text[:width] + "..."


class Cycle:
    """Runs the module on one guest step by step and collects every step that does not converge."""

    def __init__(self, uri, name, connection):
        self.uri = uri
        self.name = name
        self.connection = connection
        self.problems = []

    def run(self, step, options, check_mode=False):
        result = run_module("domain", dict({"uri": self.uri, "name": self.name}, **options), check_mode=check_mode)
        if result.failed:
            self.problems.append("%s: failed: %s" % (step, result.get("msg")))
        return result

    def unchanged(self, step, options, check_mode=False):
        """Run ``options`` and expect no change; returns whether the module ran without failing."""
        result = self.run(step, options, check_mode)
        if not result.failed and result.changed:
            self.problems.append("%s: changed %s:\n%s" % (step, result["changes"], "\n".join(
                "    %s: %s -> %s" % (d["field"], short(d["before"]), short(d["after"]))
                for d in result["differences"])))
        return not result.failed

    def stored(self):
        libvirt = libvirt_binding()
        return self.connection.lookupByName(self.name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)

    def active(self):
        return self.connection.lookupByName(self.name).isActive()

    def dumpxml(self, *flags):
        return subprocess.run(["virsh", "-c", self.uri, "dumpxml", self.name] + list(flags), capture_output=True,
                              text=True, check=True).stdout

    def feed_back(self, step, xml, options):
        """A `virsh dumpxml` of the guest declared as its `xml`: no change, the definition byte-identical."""
        before = self.stored()
        self.unchanged(step, dict(options, xml=xml))
        if self.stored() != before:
            self.problems.append("%s: the stored definition was rewritten" % step)

    def same_devices(self, step, first):
        now = device_identities(self.stored())
        if now != first:
            changed = sorted(key for key in set(now) | set(first) if now[key] != first[key])
            self.problems.append("%s: devices differ from the first definition: %s" % (
                step, ", ".join("%s (%d -> %d)" % (key, first[key], now[key]) for key in changed)))


def converge_document(document, uri, name, connection, start):
    """The whole cycle for one client document; returns the problems found (empty when it converged)."""
    cycle = Cycle(uri, name, connection)
    declared = {"xml": document}
    try:
        created = cycle.run("define", declared)
        assert not created.failed, "define: %s" % created.get("msg")
        assert created.changed and not cycle.active()
        first_stored = cycle.stored()
        first_devices = device_identities(first_stored)
        cycle.unchanged("second run", declared)
        cycle.unchanged("check mode", declared, check_mode=True)
        cycle.same_devices("after the second run", first_devices)
        running = dict(declared, state="running")
        started = False
        if start:
            result = cycle.run("start", running)
            started = not result.failed and cycle.active()
            if not result.failed and not started:
                cycle.problems.append("start: the guest is not running")
        if started:
            cycle.unchanged("second run while running", running)
            cycle.unchanged("check mode while running", running, check_mode=True)
            cycle.feed_back("virsh dumpxml (live) as xml", cycle.dumpxml(), {"state": "running"})
            cycle.feed_back("virsh dumpxml --inactive as xml (running)", cycle.dumpxml("--inactive"),
                            {"state": "running"})
            cycle.same_devices("after the runs while running", first_devices)
            if not cycle.run("destroy", dict(declared, state="destroyed")).failed and cycle.active():
                cycle.problems.append("destroy: the guest is still running")
            if not cycle.run("start again", running).failed and not cycle.active():
                cycle.problems.append("start again: the guest is not running")
        else:
            cycle.feed_back("virsh dumpxml --inactive as xml", cycle.dumpxml("--inactive"), {})
            cycle.same_devices("after the runs", first_devices)
    finally:
        removed = run_module("domain", {"uri": uri, "name": name, "state": "absent", "remove_storage": True})
        if removed.failed:
            cycle.problems.append("absent: failed: %s" % removed.get("msg"))
        elif name in [domain.name() for domain in connection.listAllDomains()]:
            cycle.problems.append("absent: the guest is still defined")
        nvram = os.path.join(NVRAM_DIR, "%s_VARS.fd" % name)
        if os.path.exists(nvram):
            cycle.problems.append("absent: remove_storage left the NVRAM %s" % nvram)
            os.remove(nvram)
    return cycle.problems


@pytest.fixture(scope="module")
def networks(qemu_uri, run_prefix):
    """Two isolated networks of this run (own bridges, free /24s of 10.235.0.0/16) for the documents' NICs."""
    libvirt = libvirt_binding()
    connection = libvirt.open(qemu_uri)
    names = []
    try:
        for index, subnet in enumerate(free_subnets(qemu_uri, "10.235", 2)):
            name = "%s-client%d" % (run_prefix, index)
            gateway, first, last = (str(subnet.network_address + n) for n in (1, 100, 200))
            network = connection.networkDefineXML(
                "<network><name>%s</name><bridge name='%sc%d'/><ip address='%s' netmask='%s'><dhcp>"
                "<range start='%s' end='%s'/></dhcp></ip></network>"
                % (name, run_prefix, index, gateway, subnet.netmask, first, last))
            names.append(name)
            network.create()
        yield names
    finally:
        for name in names:
            network = connection.networkLookupByName(name)
            if network.isActive():
                network.destroy()
            network.undefine()
        connection.close()


@pytest.fixture
def guest_images(image_dir):
    """A directory of its own for one guest's images (the documents all name root.qcow2, install.iso ...)."""
    made = []

    def make(name):
        path = os.path.join(image_dir, name)
        os.makedirs(path, mode=0o755)
        made.append(path)
        return path

    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def label(filename):
    return filename[:-len(".xml")]


def test_the_corpus_is_complete():
    """At least 15 documents, one per row of generate.py's table and no row without its document."""
    generator = load_generator()
    assert len(DOCUMENTS) >= 15
    assert DOCUMENTS == sorted(generator.DOCUMENTS)
    assert set(NOT_STARTED) <= set(DOCUMENTS) and set(FRESH) <= set(DOCUMENTS)


@pytest.mark.parametrize("filename", DOCUMENTS, ids=label)
def test_virt_install_document_converges(filename, qemu_uri, kvm_domain_type, unique_name, networks, guest_images,
                                         libvirt_connection):
    name = unique_name(label(filename))
    document = substituted((DATA / filename).read_text(encoding="utf-8"),
                           run_values(name, guest_images(name), networks))
    document = for_this_host(document, kvm_domain_type)
    start = filename not in NOT_STARTED
    if start:
        document = startable_here(document)
    make_images(document)
    problems = converge_document(document, qemu_uri, name, libvirt_connection(qemu_uri), start)
    assert not problems, "%s does not converge:\n%s" % (filename, "\n".join(problems))


@pytest.mark.skipif(shutil.which("virt-install") is None,
                    reason="virt-install is not installed (Debian: apt-get install virtinst); the stored documents "
                           "of tests/data/virt-install are tested without it")
@pytest.mark.parametrize("filename", FRESH, ids=label)
def test_fresh_virt_install_document_converges(filename, qemu_uri, kvm_domain_type, unique_name, networks,
                                               guest_images, libvirt_connection):
    """The same cycle on what this host's virt-install prints now, with this run's names and paths."""
    generator = load_generator()
    name = unique_name("fresh-" + label(filename))
    values = run_values(name, guest_images(name), networks)
    generator.prepare_images(values["images"])
    document = generator.virt_install(filename, values)
    assert "<name>%s</name>" % name in document
    document = startable_here(for_this_host(document, kvm_domain_type))
    make_images(document)
    problems = converge_document(document, qemu_uri, name, libvirt_connection(qemu_uri), start=True)
    assert not problems, "%s (fresh from virt-install) does not converge:\n%s" % (filename, "\n".join(problems))
