"""The xenpv-win rules (pure logic): Windows versions, host release and architecture, every rule's
problem, and rule 6 on real domain definitions (the format documentation's and libvirt's own test corpus)."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.virt.libvirt.plugins.module_utils import _xenpv_rules as rules
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import Domain
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError
from tests.support.harness import CORPUS
from tests.support.source_documents import format_domains, source_document

RHEL_5_1 = "Red Hat Enterprise Linux Server release 5.1 (Tikanga)"
RHEL_5_2 = "Red Hat Enterprise Linux Server release 5.2 (Tikanga)"
RHEL_5_4 = "Red Hat Enterprise Linux Server release 5.4 (Tikanga)"
RHEL_6_10 = "Red Hat Enterprise Linux Server release 6.10 (Santiago)"
RHEL_CLIENT_5_2 = "Red Hat Enterprise Linux Client release 5.2 (Tikanga)"
CENTOS_5_2 = "CentOS release 5.2 (Final)"
FEDORA = "Fedora release 8 (Werewolf)"


def red_hat_supported_lines():
    """Red Hat's list of supported Windows versions, exactly as written (with its en dashes)."""
    text = source_document("xenpv-win-requirements.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if re.match(r"^Windows .*\d\d-bit$", line.strip())]


def host(release=RHEL_5_4, machine="x86_64", is_root=True):
    return {"release_text": release, "release_source": "/etc/redhat-release", "machine": machine, "is_root": is_root}


def guests(*items):
    return rules.normalize_guests(list(items))


def codes(evaluation):
    return [p["code"] for p in evaluation["problems"]]


def hvm_guest(name, disks, arch="x86_64", boot=("hd",), domain_type="xen", os_type="hvm", extra_devices=""):
    disk_xml = "".join(
        "<disk type='file' device='%s'><source file='/var/lib/xen/images/%s-%s.img'/><target dev='%s'%s/>%s</disk>"
        % (device, name, target, target, " bus='%s'" % bus if bus else "",
           "<boot order='%d'/>" % order if order else "")
        for target, bus, device, order in disks)
    boot_xml = "".join("<boot dev='%s'/>" % dev for dev in boot)
    return Domain.from_xml(
        "<domain type='%s'><name>%s</name><memory>524288</memory><os><type arch='%s'>%s</type>"
        "<loader>/usr/lib/xen/boot/hvmloader</loader>%s</os><devices>%s%s</devices></domain>"
        % (domain_type, name, arch, os_type, boot_xml, disk_xml, extra_devices))


# -- rule 5: the Windows versions ------------------------------------------------------------------

def test_red_hat_lists_eight_supported_versions_and_each_parses():
    lines = red_hat_supported_lines()
    assert len(lines) == 8
    parsed = [rules.parse_windows(line, "os") for line in lines]
    assert [(p.key, p.arch_hint) for p in parsed] == [
        ("2003-sp2", 32), ("2003-sp2", 64), ("2003r2-sp2", 32), ("2003r2-sp2", 64),
        ("xp-sp2", 32), ("xp-sp3", 32), ("xpx64-sp1", 64), ("xpx64-sp2", 64)]
    assert {p.title for p in parsed} == {v.title for v in rules.SUPPORTED_WINDOWS}


@pytest.mark.parametrize("text, key", [
    ("Windows XP, Service Pack 3", "xp-sp3"),
    ("windows xp service pack 3", "xp-sp3"),
    ("WINDOWS XP SP3", "xp-sp3"),
    ("Microsoft Windows XP Professional SP2", "xp-sp2"),
    ("xp-sp2", "xp-sp2"),
    ("winxp-sp3", "xp-sp3"),
    ("Windows Server 2003 R2, Service Pack 2", "2003r2-sp2"),
    ("windows server 2003 r2 sp2", "2003r2-sp2"),
    ("2003r2-sp2", "2003r2-sp2"),
    ("win2k3r2-sp2", "2003r2-sp2"),
    ("Win2003 SP2", "2003-sp2"),
    ("2003-sp2", "2003-sp2"),
    ("Windows Server 2003 (Service Pack 2)", "2003-sp2"),
    ("Windows XP Professional x64 Edition, Service Pack 1", "xpx64-sp1"),
    ("XP x64 SP2", "xpx64-sp2"),
    ("xpx64-sp2", "xpx64-sp2"),
    ("winxpx64-sp1", "xpx64-sp1"),
])
def test_wordings_and_short_forms(text, key):
    assert rules.parse_windows(text, "os").key == key


@given(st.sampled_from(red_hat_supported_lines()), st.randoms(use_true_random=False))
@settings(max_examples=200, deadline=None)
def test_case_and_punctuation_do_not_matter(line, random):
    expected = rules.parse_windows(line, "os")
    mangled = "".join(c.upper() if random.random() < 0.5 else c.lower() for c in line)
    mangled = mangled.replace(",", random.choice([",", "", " ,", ";"])).replace("\u2013", random.choice(
        ["\u2013", "-", "\u2014", " ", "--"]))
    mangled = re.sub(r"\s+", lambda _m: random.choice([" ", "  ", "\t"]), mangled)
    assert rules.parse_windows(mangled, "os") == expected


@pytest.mark.parametrize("text, title", [
    ("Windows XP, Service Pack 1", "Windows XP, Service Pack 1"),
    ("Windows XP", "Windows XP without a service pack"),
    ("Windows Server 2003, Service Pack 1", "Windows Server 2003, Service Pack 1"),
    ("Windows Server 2003 R2", "Windows Server 2003 R2 without a service pack"),
    ("Windows Vista", "Windows Vista"),
    ("Windows 2000 Professional SP4", "Windows 2000"),
    ("Windows Server 2008 R2", "Windows Server 2008"),
    ("Windows 7", "Windows 7"),
    ("Windows 8.1", "Windows 8.1"),
])
def test_other_windows_versions_are_recognised_as_unsupported(text, title):
    parsed = rules.parse_windows(text, "os")
    assert parsed.key is None and parsed.title == title


@pytest.mark.parametrize("text", ["Red Hat Enterprise Linux 5", "", "Windows", "Solaris 10 SP2"])
def test_text_naming_no_windows_version_is_bad_input(text):
    with pytest.raises(InputError) as raised:
        rules.parse_windows(text, "guests[0].os")
    assert raised.value.option == "guests[0].os"


def test_contradicting_input_is_refused_naming_the_option():
    with pytest.raises(InputError, match="32-bit and 64-bit") as raised:
        rules.parse_windows("Windows Server 2003 SP2 32-bit 64-bit", "guests[0].os")
    assert raised.value.option == "guests[0].os"
    with pytest.raises(InputError, match="os .* says 32-bit") as raised:
        guests({"os": "Windows Server 2003, Service Pack 2 \u2013 32-bit", "arch": 64})
    assert raised.value.option == "guests[0].arch"
    with pytest.raises(InputError, match="exists as 32-bit and as 64-bit") as raised:
        guests({"os": "Windows Server 2003 R2 SP2"})
    assert raised.value.option == "guests[0].arch"
    with pytest.raises(InputError, match="more than once"):
        guests({"name": "w", "os": "xp-sp3"}, {"name": "w", "os": "xp-sp2"})
    with pytest.raises(InputError) as raised:
        guests({"os": "xp-sp3"}, {"os": "xp-sp3", "free_space_mb": -1})
    assert raised.value.option == "guests[1].free_space_mb"


@pytest.mark.parametrize("text, hint", [
    ("Windows Server 2003 SP2 x86_64", 64), ("Windows Server 2003 SP2 (AMD64)", 64),
    ("Windows Server 2003 SP2 Intel 64", 64), ("Windows Server 2003 SP2 x86", 32), ("2003-sp2 i386", 32),
    ("Windows Server 2003, Service Pack 2 \u2013 32bit", 32), ("Windows Server 2003 SP2", None),
    ("Windows Server 2003 x64 Edition SP2", 64),
])
def test_architecture_words(text, hint):
    parsed = rules.parse_windows(text, "os")
    assert (parsed.key, parsed.arch_hint) == ("2003-sp2", hint)


def test_architecture_implied_by_the_version():
    xp, xp64, server = guests({"os": "xp-sp3"}, {"os": "xpx64-sp1"}, {"os": "2003-sp2 64-bit"})
    assert (xp.arch, xp64.arch, server.arch) == (32, 64, 64)


# -- rule 1: the host --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, family, version", [
    (RHEL_5_1, "rhel", [5, 1]),
    (RHEL_5_2, "rhel", [5, 2]),
    (RHEL_5_4, "rhel", [5, 4]),
    (RHEL_6_10, "rhel", [6, 10]),
    (RHEL_CLIENT_5_2, "rhel", [5, 2]),
    ("Red Hat Enterprise Linux Server release 5 (Tikanga)", "rhel", [5, 0]),
    ("Red Hat Enterprise Linux AS release 4 (Nahant Update 8)", "rhel", [4, 0]),
    (CENTOS_5_2, "rebuild", [5, 2]),
    ("Scientific Linux SL release 5.5 (Boron)", "rebuild", [5, 5]),
    ("Enterprise Linux Enterprise Linux Server release 5.3 (Carthage)", "rebuild", [5, 3]),
    (FEDORA, "other", [8, 0]),
])
def test_release_lines(text, family, version):
    release = rules.parse_release(text + "\nKernel \\r on an \\m\n")
    assert (release["family"], release["version"]) == (family, version)


@pytest.mark.parametrize("release", [RHEL_5_2, RHEL_5_4, RHEL_6_10, RHEL_CLIENT_5_2])
def test_supported_releases(release):
    evaluation = rules.evaluate(host(release), guests({"os": "xp-sp3"}, {"os": "xpx64-sp2"}))
    assert evaluation["problems"] == []
    assert evaluation["supported"] is True


def test_rhel_6_passes_the_rule_with_a_note():
    evaluation = rules.evaluate(host(RHEL_6_10), guests({"os": "xp-sp3"}))
    assert "host_release_without_xen" in [n["code"] for n in evaluation["notes"]]
    assert evaluation["host"]["version"] == "6.10"


@pytest.mark.parametrize("release, code", [
    (RHEL_5_1, "host_release_too_old"),
    ("Red Hat Enterprise Linux Server release 5 (Tikanga)", "host_release_too_old"),
    ("Red Hat Enterprise Linux AS release 4 (Nahant Update 8)", "host_release_too_old"),
    (CENTOS_5_2, "host_not_rhel"),
    (FEDORA, "host_not_rhel"),
    ("Debian GNU/Linux 12", "host_release_unrecognized"),
    (None, "host_release_unreadable"),
])
def test_rule_1_release_problems(release, code):
    evaluation = rules.evaluate(host(release), guests({"os": "xp-sp3"}))
    assert codes(evaluation) == [code]
    (found,) = evaluation["problems"]
    assert found["rule"] == 1 and found["guest"] is None
    assert evaluation["supported"] is False


def test_rebuilds_only_with_the_opt_in():
    refused = rules.evaluate(host(CENTOS_5_2), guests({"os": "xp-sp3"}))
    assert "accept_rebuilds" in refused["problems"][0]["message"]
    accepted = rules.evaluate(host(CENTOS_5_2), guests({"os": "xp-sp3"}), accept_rebuilds=True)
    assert accepted["problems"] == []
    assert "host_rebuild_accepted" in [n["code"] for n in accepted["notes"]]
    # an old rebuild is still too old, and Fedora is no rebuild at all
    assert codes(rules.evaluate(host("CentOS release 5.1 (Final)"), guests(), accept_rebuilds=True)) == [
        "host_release_too_old"]
    assert codes(rules.evaluate(host(FEDORA), guests(), accept_rebuilds=True)) == ["host_not_rhel"]


@pytest.mark.parametrize("machine, wordsize", [("i386", 32), ("i586", 32), ("i686", 32), ("x86_64", 64)])
def test_x86_hosts(machine, wordsize):
    evaluation = rules.evaluate(host(machine=machine), guests({"os": "xp-sp2"}))
    assert evaluation["problems"] == [] and evaluation["host"]["wordsize"] == wordsize


def test_itanium_is_refused_and_needs_no_package():
    evaluation = rules.evaluate(host(machine="ia64"), guests({"os": "xp-sp3"}))
    assert codes(evaluation) == ["host_arch_itanium"]
    assert "Itanium" in evaluation["problems"][0]["message"]
    assert evaluation["packages"] == []


@pytest.mark.parametrize("machine", ["aarch64", "ppc64", "s390x", ""])
def test_other_architectures_are_refused(machine):
    assert codes(rules.evaluate(host(machine=machine), guests({"os": "xp-sp3"}))) == ["host_arch_unsupported"]


# -- rules 2 and 3: guest architectures and packages --------------------------------------------------

def test_64_bit_host_runs_mixed_guests_and_needs_exactly_two_packages():
    evaluation = rules.evaluate(host(), guests({"os": "Windows XP, Service Pack 3"},
                                               {"os": "Windows Server 2003 R2, Service Pack 2", "arch": 64}))
    assert evaluation["problems"] == []
    assert evaluation["packages"] == ["xenpv-win-32bit", "xenpv-win-64bit"]


def test_debug_variants_only_when_asked_for():
    evaluation = rules.evaluate(host(), guests({"os": "xp-sp3"}), debug=True)
    assert evaluation["packages"] == ["xenpv-win-32bit", "xenpv-win-32bit-debug"]


def test_only_the_architectures_actually_run():
    assert rules.evaluate(host(), guests({"os": "xpx64-sp1"}, {"os": "2003-sp2", "arch": 64}))["packages"] == [
        "xenpv-win-64bit"]
    evaluation = rules.evaluate(host(), guests())
    assert evaluation["packages"] == [] and "no_guests" in [n["code"] for n in evaluation["notes"]]


def test_32_bit_host_refuses_a_64_bit_guest():
    evaluation = rules.evaluate(host(machine="i686"), guests({"os": "xp-sp3"}, {"name": "big", "os": "xpx64-sp2"}),
                                definitions={"big": hvm_guest("big", [("hda", "ide", "disk", None)])})
    assert codes(evaluation) == ["guest_arch_exceeds_host"]
    (found,) = evaluation["problems"]
    assert found["guest"] == "big" and found["rule"] == 2 and "32-bit host" in found["message"]
    assert evaluation["packages"] == ["xenpv-win-32bit"]  # the 64-bit guest cannot run, so no 64-bit driver


def test_64_bit_windows_on_a_32_bit_machine_definition():
    evaluation = rules.evaluate(host(), guests({"name": "w", "os": "2003r2-sp2", "arch": 64}),
                                definitions={"w": hvm_guest("w", [("hda", "ide", "disk", None)], arch="i686")})
    assert codes(evaluation) == ["guest_arch_mismatch"]


# -- rule 4: free space, administrator, root ---------------------------------------------------------

def test_free_space():
    evaluation = rules.evaluate(host(), guests({"os": "xp-sp3", "free_space_mb": 9},
                                               {"os": "xp-sp3", "free_space_mb": 10}, {"os": "xp-sp2"}))
    assert codes(evaluation) == ["guest_free_space_low"]
    assert evaluation["problems"][0]["guest"] == "guests[0]" and "9 MB" in evaluation["problems"][0]["message"]
    unverified = [n["guest"] for n in evaluation["notes"] if n["code"] == "guest_free_space_unverified"]
    assert unverified == ["guests[2]"]


def test_what_the_host_cannot_verify_is_a_note_never_a_silent_pass():
    evaluation = rules.evaluate(host(is_root=False), guests({"os": "xp-sp3"}, {"os": "xpx64-sp1"}))
    notes = [(n["code"], n["guest"]) for n in evaluation["notes"]]
    assert ("guest_admin_access_unverified", "guests[0]") in notes
    assert ("guest_admin_access_unverified", "guests[1]") in notes
    assert ("host_root_unverified", None) in notes
    assert "host_root_unverified" not in [n["code"] for n in rules.evaluate(host(), guests())["notes"]]


# -- rule 5 in the evaluation ------------------------------------------------------------------------

def test_unsupported_windows_and_impossible_architecture():
    evaluation = rules.evaluate(host(), guests({"os": "Windows Vista", "arch": 32},
                                               {"os": "Windows XP, Service Pack 3", "arch": 64}))
    assert codes(evaluation) == ["guest_os_unsupported", "guest_arch_unsupported"]
    assert "Windows Vista" in evaluation["problems"][0]["message"]
    assert "only as 32-bit" in evaluation["problems"][1]["message"]
    assert evaluation["packages"] == []


# -- rule 6: the system disk -------------------------------------------------------------------------

def test_red_hat_c_and_d_example():
    """C: on the emulated IDE disk, D: on the para-virtualized driver."""
    definition = hvm_guest("w", [("hda", "ide", "disk", None), ("xvdb", "xen", "disk", None)])
    evaluation = rules.evaluate(host(), guests({"name": "w", "os": "xp-sp3"}), definitions={"w": definition})
    assert evaluation["problems"] == []
    (report,) = evaluation["guests"]
    assert report["system_disk"]["target"] == "hda" and report["system_disk"]["paravirt"] is False
    assert report["paravirt_disks"] == ["xvdb"] and report["emulated_disks"] == []
    assert report["supported"] is True and report["package"] == "xenpv-win-32bit"


@pytest.mark.parametrize("target, bus", [("xvda", "xen"), ("vda", "virtio"), ("xvda", None), ("vda", None)])
def test_system_disk_on_a_paravirt_bus(target, bus):
    definition = hvm_guest("w", [(target, bus, "disk", None), ("hdb", "ide", "disk", None)])
    evaluation = rules.evaluate(host(), guests({"name": "w", "os": "xp-sp3"}), definitions={"w": definition})
    assert codes(evaluation) == ["system_disk_paravirt"]
    assert evaluation["problems"][0]["rule"] == 6 and target in evaluation["problems"][0]["message"]
    assert evaluation["guests"][0]["emulated_disks"] == ["hdb"] and evaluation["guests"][0]["paravirt_disks"] == []


def test_per_device_boot_order_decides_the_system_disk():
    # hda is listed first, but the guest boots from the xen disk: that one holds C:
    definition = hvm_guest("w", [("hda", "ide", "disk", 2), ("xvdb", "xen", "disk", 1)], boot=())
    evaluation = rules.evaluate(host(), guests({"name": "w", "os": "xp-sp3"}), definitions={"w": definition})
    assert codes(evaluation) == ["system_disk_paravirt"]
    assert evaluation["guests"][0]["system_disk"]["chosen_by"] == "boot order 1"
    good = hvm_guest("w", [("xvdb", "xen", "disk", 2), ("hda", "ide", "disk", 1)], boot=())
    assert rules.evaluate(host(), guests({"name": "w", "os": "xp-sp3"}), definitions={"w": good})["problems"] == []


def test_cdrom_first_in_boot_order_is_not_the_system_disk():
    definition = hvm_guest("w", [("hdc", "ide", "cdrom", None), ("hda", "ide", "disk", None)], boot=("cdrom", "hd"))
    evaluation = rules.evaluate(host(), guests({"name": "w", "os": "xp-sp3"}), definitions={"w": definition})
    assert evaluation["problems"] == []
    assert evaluation["guests"][0]["system_disk"]["target"] == "hda"
    assert "guest_boots_elsewhere" in [n["code"] for n in evaluation["notes"]]


def test_no_hard_disk_not_hvm_not_xen_not_found():
    no_disk = hvm_guest("a", [("hdc", "ide", "cdrom", None)])
    pv = hvm_guest("b", [("xvda", "xen", "disk", None)], os_type="linux")
    kvm = hvm_guest("c", [("hda", "ide", "disk", None)], domain_type="kvm")
    evaluation = rules.evaluate(
        host(), guests({"name": "a", "os": "xp-sp3"}, {"name": "b", "os": "xp-sp3"}, {"name": "c", "os": "xp-sp3"},
                       {"name": "d", "os": "xp-sp3"}),
        definitions={"a": no_disk, "b": pv, "c": kvm}, lookup_errors={"d": "no domain named 'd'"})
    assert [(p["guest"], p["code"]) for p in evaluation["problems"]] == [
        ("a", "guest_no_system_disk"), ("b", "guest_not_hvm"), ("c", "guest_not_xen"), ("d", "guest_not_found")]
    # the drivers do not apply to a PV guest: its xen-bus root disk is reported, not judged by rule 6
    assert evaluation["guests"][1]["system_disk"]["target"] == "xvda" and evaluation["guests"][1]["package"] is None
    assert [g["supported"] for g in evaluation["guests"]] == [False, False, False, False]
    assert evaluation["guests"][3]["defined"] is False


def test_every_problem_is_reported_not_only_the_first():
    evaluation = rules.evaluate(host(RHEL_5_1, machine="i686"),
                                guests({"os": "xpx64-sp1"}, {"os": "Windows 2000", "arch": 32},
                                       {"os": "xp-sp3", "free_space_mb": 1}))
    assert codes(evaluation) == ["host_release_too_old", "guest_arch_exceeds_host", "guest_os_unsupported",
                                 "guest_free_space_low"]
    message = rules.describe_problems(evaluation["problems"])
    assert message.startswith("4 problems") and all("[%s]" % code in message for code in codes(evaluation))


def test_every_problem_code_names_its_rule():
    assert set(rules.PROBLEM_RULES.values()) == {1, 2, 3, 4, 5, 6}


def test_format_xen_hvm_example_has_its_system_disk_on_ide():
    hvm = [document for document in format_domains() if "hvmloader" in document][0]
    report, problems, _notes = rules.check_definition(Domain.from_user_xml(hvm), "fv0", 32)
    assert problems == [] and report["hvm"] is True
    assert (report["system_disk"]["target"], report["system_disk"]["bus"]) == ("hda", "ide")


def corpus_domains():
    return sorted(path for folder in ("xen-xm", "xen-xl", "qemu", "generic")
                  for path in (CORPUS / "domain" / folder).glob("*.xml"))


def test_libvirt_corpus_boot_order_document():
    """qemuxml2xmloutdata/boot-order.xml: only devices with <boot order> boot; the virtio disk (order 3)
    is the first bootable hard disk, the IDE disk without an order does not boot at all."""
    domain = Domain.from_xml((CORPUS / "domain" / "qemu" / "boot-order.xml").read_text())
    system_disk, chosen_by = rules.find_system_disk(domain)
    assert (system_disk.target, chosen_by) == ("vda", "boot order 3")
    _report, problems, _notes = rules.check_definition(domain, "boot-order", 32)
    assert [p["code"] for p in problems] == ["guest_not_xen"]
    domain.type = "xen"  # the same devices on a Xen HVM guest
    _report, problems, _notes = rules.check_definition(domain, "boot-order", 32)
    assert [p["code"] for p in problems] == ["system_disk_paravirt"]


def test_every_corpus_xen_hvm_guest_gets_a_system_disk_verdict():
    checked = 0
    for path in corpus_domains():
        domain = Domain.from_xml(path.read_text())
        report, problems, _notes = rules.check_definition(domain, path.name, 32)  # never raises
        if domain.type == "xen" and domain.os_type == "hvm" and report["system_disk"] is not None:
            checked += 1
            disk = report["system_disk"]
            assert disk["paravirt"] == (disk["bus"] in ("xen", "virtio")), path.name
            assert ("system_disk_paravirt" in [p["code"] for p in problems]) == disk["paravirt"], path.name
    assert checked >= 40


def test_xm_fullvirt_guest_from_the_corpus():
    domain = Domain.from_xml((CORPUS / "domain" / "xen-xm" / "test-fullvirt-new-cdrom.xml").read_text())
    report, problems, notes = rules.check_definition(domain, "XenGuest2", 64)
    assert problems == [] and report["system_disk"]["target"] == "hda"
    assert [n["code"] for n in notes] == ["guest_boots_elsewhere"]  # it boots the installer CD first
