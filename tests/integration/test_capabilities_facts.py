"""virt.libvirt.capabilities_facts against the real daemon: the facts agree with what virsh reports
(read independently here with XPath, not through the collection's model), on qemu:///system and on the
test driver; wrong URIs and requests libvirt refuses fail with libvirt's message."""
from __future__ import annotations

import re
import subprocess

import pytest
from lxml import etree

from tests.support.harness import run_module

pytestmark = pytest.mark.integration


def virsh(uri, *args):
    return subprocess.run(["virsh", "-c", uri] + list(args), check=True, capture_output=True, text=True).stdout


def virsh_xml(uri, *args):
    return etree.fromstring(virsh(uri, *args).encode())


def gather(uri, **options):
    result = run_module("capabilities_facts", dict(options, uri=uri))
    assert not result.failed, result
    assert result.changed is False and "diff" not in result
    return result["ansible_facts"]["libvirt_capabilities"]


@pytest.fixture(scope="module")
def qemu_facts(qemu_uri):
    return gather(qemu_uri)


def test_qemu_host_agrees_with_virsh_capabilities(qemu_uri, qemu_facts, kvm_domain_type):
    document = virsh_xml(qemu_uri, "capabilities")
    host = qemu_facts["host"]
    assert host["arch"] == document.findtext("host/cpu/arch")
    assert host["uuid"] == document.findtext("host/uuid")
    assert host["cpu_model"] == document.findtext("host/cpu/model")
    assert host["cpu_features"] == document.xpath("host/cpu/feature/@name")
    assert host["page_sizes_kib"] == [int(size) for size in document.xpath("host/cpu/pages/@size")]
    assert host["numa_cells"] == len(document.findall("host/topology/cells/cell"))
    assert [cell["cpus"] for cell in host["numa_topology"]] == [
        [int(cpu) for cpu in cell.xpath("cpus/cpu/@id")] for cell in document.findall("host/topology/cells/cell")]
    assert [model["model"] for model in host["security_models"]] == document.xpath("host/secmodel/model/text()")
    assert host["migration"]["uri_transports"] == document.xpath("host/migration_features/uri_transports/*/text()")
    expected_guests = [{
        "os_type": guest.findtext("os_type"),
        "arch": guest.find("arch").get("name"),
        "wordsize": int(guest.findtext("arch/wordsize")),
        "domain_types": guest.xpath("arch/domain/@type"),
        "emulator": guest.findtext("arch/emulator"),
        "machines": guest.xpath("arch/machine/text()"),
        "machine_aliases": {m.text: m.get("canonical") for m in guest.findall("arch/machine") if m.get("canonical")},
    } for guest in document.findall("guest")]
    assert [{key: guest[key] for key in expected_guests[0]} for guest in qemu_facts["guests"]] == expected_guests
    assert qemu_facts["guest_arches"] == list(dict.fromkeys(guest["arch"] for guest in expected_guests))
    # The fixture's own test of /dev/kvm and libvirt's answer agree.
    assert qemu_facts["kvm"] is (kvm_domain_type == "kvm")
    assert qemu_facts["hvm"] is True and qemu_facts["paravirt"] is False
    if qemu_facts["kvm"]:
        assert "pc" in guest_of(qemu_facts, host["arch"])["machine_aliases"]


def guest_of(facts, arch, os_type="hvm"):
    (guest,) = [g for g in facts["guests"] if g["arch"] == arch and g["os_type"] == os_type]
    return guest


def test_qemu_connection_facts_agree_with_virsh(qemu_uri, qemu_facts):
    version = virsh(qemu_uri, "version")
    running = re.search(r"Running hypervisor: (\S+) (\S+)", version)
    assert (qemu_facts["hypervisor"]["name"], qemu_facts["hypervisor"]["version"]) == running.groups()
    assert qemu_facts["libvirt_version"] == re.search(r"Using library: libvirt (\S+)", version).group(1)
    nodeinfo = dict(line.split(":", 1) for line in virsh(qemu_uri, "nodeinfo").splitlines() if ":" in line)
    assert qemu_facts["host"]["cpus"] == int(nodeinfo["CPU(s)"])
    assert qemu_facts["host"]["cpu_mhz"] == int(nodeinfo["CPU frequency"].split()[0])
    assert qemu_facts["host"]["memory_mib"] > 0
    assert qemu_facts["uri"] == virsh(qemu_uri, "uri").strip()
    assert qemu_facts["hostname"] == virsh(qemu_uri, "hostname").strip()


def test_check_mode_and_read_only_gather_the_same(qemu_uri, qemu_facts):
    predicted = run_module("capabilities_facts", {"uri": qemu_uri}, check_mode=True, diff=True)
    assert not predicted.failed and predicted.changed is False and "diff" not in predicted
    read_only = gather(qemu_uri, read_only=True)
    for facts in (predicted["ansible_facts"]["libvirt_capabilities"], read_only):
        # Free page counts and memory move while the host runs; everything else is the same answer.
        assert facts["guests"] == qemu_facts["guests"]
        assert facts["host"]["cpu_features"] == qemu_facts["host"]["cpu_features"]
        assert (facts["kvm"], facts["hypervisor"], facts["uri"]) == (
            qemu_facts["kvm"], qemu_facts["hypervisor"], qemu_facts["uri"])


def test_domain_capabilities_agree_with_virsh_domcapabilities(qemu_uri, qemu_facts):
    arch = qemu_facts["host"]["arch"]
    facts = gather(qemu_uri, domain_capabilities={})
    gathered = facts["domain_capabilities"]
    # Every domain type the host offers for its architecture, each its own answer.
    assert sorted(gathered) == sorted(guest_of(qemu_facts, arch)["domain_types"])
    for virttype, answer in gathered.items():
        document = virsh_xml(qemu_uri, "domcapabilities", "--virttype", virttype, "--arch", arch)
        assert (answer["domain_type"], answer["arch"], answer["emulator"], answer["machine"]) == (
            virttype, arch, document.findtext("path"), document.findtext("machine"))
        assert answer["vcpu_max"] == int(document.find("vcpu").get("max"))
        assert answer["disk_buses"] == document.xpath("devices/disk/enum[@name='bus']/value/text()")
        assert answer["graphics_types"] == document.xpath("devices/graphics/enum[@name='type']/value/text()")
        assert answer["loader_types"] == document.xpath("os/loader/enum[@name='type']/value/text()")
        assert answer["loaders"] == document.xpath("os/loader/value/text()")
        assert answer["supported_cpu_modes"] == document.xpath("cpu/mode[@supported='yes']/@name")
        assert answer["usable_cpu_models"] == document.xpath("cpu/mode[@name='custom']/model[@usable='yes']/text()")
        assert sorted(answer["devices"]) == sorted(child.tag for child in document.find("devices"))
    if "kvm" in gathered:
        assert "host-passthrough" in gathered["kvm"]["supported_cpu_modes"]


def test_domain_capabilities_for_a_given_machine_and_arch(qemu_uri, qemu_facts):
    other_arch = "i686" if "i686" in qemu_facts["guest_arches"] else qemu_facts["host"]["arch"]
    facts = gather(qemu_uri, domain_capabilities={"arch": other_arch, "virttype": "qemu", "machine": "q35"})
    (answer,) = facts["domain_capabilities"].values()
    expected = virsh_xml(qemu_uri, "domcapabilities", "--virttype", "qemu", "--arch", other_arch, "--machine", "q35")
    assert (answer["arch"], answer["machine"]) == (other_arch, expected.findtext("machine"))
    assert answer["machine"].startswith("pc-q35")  # libvirt answers with the canonical machine


def test_test_driver_facts(test_driver_uri):
    facts = gather(test_driver_uri)
    document = virsh_xml(test_driver_uri, "capabilities")
    assert facts["host"]["arch"] == document.findtext("host/cpu/arch") == "i686"
    # The test driver writes CPU flags the old way (<features><pae/>), read as names.
    assert facts["host"]["cpu_features"] == sorted(flag.tag for flag in document.find("host/cpu/features"))
    assert facts["host"]["numa_cells"] == 2 and facts["host"]["cpus"] == 16
    assert facts["hypervisor"]["name"] == "TEST"
    assert (facts["hvm"], facts["paravirt"], facts["kvm"], facts["domain_types"]) == (True, True, False, ["test"])
    assert [(g["os_type"], g["arch"], g["wordsize"]) for g in facts["guests"]] == [
        ("hvm", "i686", 32), ("xen", "i686", 32)]


def test_requests_libvirt_refuses_fail_with_its_message(qemu_uri, test_driver_uri):
    unsupported = run_module("capabilities_facts", {"uri": test_driver_uri, "domain_capabilities": {}})
    assert unsupported.failed and unsupported["option"] == "domain_capabilities"
    assert "virConnectGetDomainCapabilities" in unsupported["msg"] and "virttype test" in unsupported["msg"]
    unknown_machine = run_module("capabilities_facts", {"uri": qemu_uri,
                                                        "domain_capabilities": {"virttype": "qemu", "machine": "no-such"}})
    assert unknown_machine.failed and "'no-such' is not supported" in unknown_machine["libvirt_message"]
    no_arch = run_module("capabilities_facts", {"uri": qemu_uri, "domain_capabilities": {"arch": "sparc64"}})
    assert no_arch.failed and no_arch["option"] == "domain_capabilities.arch"
    assert "offers no guests of architecture 'sparc64'" in no_arch["msg"]
    read_only = run_module("capabilities_facts", {"uri": qemu_uri, "read_only": True, "domain_capabilities": {}})
    assert read_only.failed and read_only["option"] == "read_only"
    for result in (unsupported, unknown_machine, no_arch, read_only):
        assert "Traceback" not in result["_stderr"] and "exception" not in result


@pytest.mark.parametrize("uri, libvirt_text", [
    ("qemu:///nonexistent", "unexpected qemu URI path"),
    ("nosuchdriver:///system", "no connection driver available"),
    ("qemu+unix:///system?socket=/nonexistent/libvirt-sock", "/nonexistent/libvirt-sock"),
])
def test_wrong_uri_fails_with_libvirts_message_and_the_uri(uri, libvirt_text):
    result = run_module("capabilities_facts", {"uri": uri})
    assert result.failed and result["option"] == "uri"
    assert "cannot connect to libvirt at uri '%s'" % uri in result["msg"]
    assert libvirt_text in result["msg"] and libvirt_text in result["libvirt_message"]
    assert "ansible_facts" not in result and "Traceback" not in result["_stderr"] and "exception" not in result
