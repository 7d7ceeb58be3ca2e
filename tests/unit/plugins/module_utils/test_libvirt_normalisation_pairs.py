"""Whatever libvirt normalises is never reported as a change, proven on libvirt's own pairs.

libvirt's QEMU test suite keeps, for each case, what a user writes (``qemuxml2argvdata/NAME.xml``) and what
libvirt stores after parsing and formatting it (``qemuxml2xmloutdata/...``); ``qemuxml2xmltest.c`` says which
output belongs to which input. For every pair, the input declared as the task's ``xml`` and compared with
the output as the guest's stored definition must plan no change.

The documents come from Debian's source package of libvirt 9.0.0 (``make libvirt-tests`` puts them in
``.build/libvirt-tests``; they are never committed). The mapping is read from ``qemuxml2xmltest.c`` itself:

- the input is ``qemuxml2argvdata/NAME.xml``; the output is ``qemuxml2xmloutdata/NAME<suffix>.xml``, where
  the suffix is ``.ARCH-VERSION`` for the DO_TEST_CAPS_* macros (``.x86_64-latest`` for DO_TEST_CAPS_LATEST)
  and empty for DO_TEST, DO_TEST_NOCAPS, DO_TEST_MACOS and DO_TEST_FULL with "";
- where ``NAME-inactive<suffix>.xml`` exists it is the output: the collection compares with the definition
  as libvirt stores it (``VIR_DOMAIN_XML_INACTIVE``), never with a running guest's live XML
  (``NAME-active<suffix>.xml``);
- an output file that is a symbolic link to its input means libvirt stores the input unchanged;
- one input listed several times with the same output (``aarch64-gic-v2`` with four GIC capabilities) is
  one pair.

``qemuxml2xmltest.c`` marks no case as a parse failure, but it parses without the flags of a define
(VIR_DOMAIN_DEF_PARSE_ABI_UPDATE: it reads the inputs as a migration would). An input that
``qemuxml2argvtest.c`` expects a parse error for with that flag (FLAG_EXPECT_PARSE_ERROR with
VIR_DOMAIN_DEF_PARSE_ABI_UPDATE) is refused by virDomainDefineXML, so it is no pair: in 9.0.0,
``firmware-manual-efi-features`` ("cannot use feature-based firmware autoselection when firmware autoselection
is disabled", as the real daemon says too). Its other parse errors depend on QEMU capabilities (an older QEMU
lacks the feature), not on the document. Debian's patches remove the one case its libvirt refuses outright
(``net-user-passt``: passt support is disabled).

Pairs that can never compare equal by design (what libvirt stores depends on the daemon's configuration
or host, not on the document) are listed in ``EXCEPTED`` with the reason and the fields that differ; the
table is checked both ways (an excepted pair that compares equal, or differs in another field, fails), so
it stays honest. The same list is in docs/domain.md.
"""
from __future__ import annotations

import re
from collections import namedtuple

import pytest
from lxml import etree

from ansible_collections.virt.libvirt.plugins.module_utils._domain import DeclaredDomain, DomainPlan
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import Domain
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, ModelError
from tests.support.harness import REPO

LIBVIRT_TESTS = REPO / ".build" / "libvirt-tests"
TEST_PROGRAM = LIBVIRT_TESTS / "qemuxml2xmltest.c"
ARGV_TEST_PROGRAM = LIBVIRT_TESTS / "qemuxml2argvtest.c"
INPUTS = LIBVIRT_TESTS / "qemuxml2argvdata"
OUTPUTS = LIBVIRT_TESTS / "qemuxml2xmloutdata"
MISSING = ("libvirt's test documents are not in %s: run `make libvirt-tests` (it downloads Debian's "
           "libvirt 9.0.0 source package, about 9 MB)" % LIBVIRT_TESTS)

Pair = namedtuple("Pair", "id name input output")

# Pair id -> (why it can never compare equal, a pattern every differing field of plan.tracker matches).
# qemuxml2xmltest runs libvirt with qemu.conf's paths under /tmp and no security driver; a real daemon
# has its own, and only it knows which values it generated and drops.
EXCEPTED = {
    "channel-unix-source-path": (
        "libvirt drops a virtio channel's unix socket path when it is the one it would generate under "
        "qemu.conf's channel_target_dir (/tmp/channel in libvirt's tests, /var/lib/libvirt/qemu/channel/target "
        "on a real host): which paths are dropped depends on the daemon's configuration", r"channel"),
    "graphics-vnc-remove-generated-socket": (
        "libvirt drops a VNC socket under the daemon's own state directory (qemu.conf's libDir: /tmp/lib in "
        "libvirt's tests) and listens on an address instead: only the daemon knows that directory", r"graphics"),
    "seclabel-dynamic-relabel": (
        "a dynamic seclabel is stored with the daemon's security driver; libvirt's tests run with none, so "
        "it is stored as type='none' (a real host stores its selinux or apparmor model)", r"seclabel"),
    "seclabel-dynamic-none-relabel": (
        "a dynamic seclabel is stored with the daemon's security driver; libvirt's tests run with none, so "
        "it is stored as type='none' (a real host stores its selinux or apparmor model)", r"seclabel"),
    # Documents libvirt rewrites in ways the collection does not follow (what it stores is a different document).
    "cputune-iothreadsched": (
        "libvirt splits one <vcpusched vcpus='0-1'>/<iothreadsched iothreads='1-3,^2'> into one element per "
        "vCPU or I/O thread", r"^cputune$"),
    "cputune-iothreadsched-zeropriority": (
        "libvirt splits one <vcpusched>/<iothreadsched> over a range into one element per vCPU or I/O thread",
        r"^cputune$"),
    "numavcpus-topology-mismatch.x86_64-latest": (
        "libvirt adds the vCPUs that no NUMA cell names to cell 0's cpus", r"^cpu$"),
    "metadata-duplicate": (
        "libvirt keeps one <metadata> child per namespace and drops the rest (and those without a namespace): "
        "the document says more than any guest can hold", r"^metadata$"),
    "tap-vhost-incorrect": (
        "libvirt drops vhost settings from a NIC that is not virtio, and queues='1' (the default): the document "
        "is libvirt's test of an invalid configuration", r"\.(driver|backend)$"),
    "memory-hotplug-ppc64-nonuma-abi-update": (
        "on ppc64 libvirt aligns memory device sizes to 256 MiB when it defines a guest", r"^devices\.memory"),
    "memory-hotplug-nvdimm-ppc64-abi-update": (
        "on ppc64 libvirt aligns an nvdimm's size (less its label) to 256 MiB when it defines a guest",
        r"^(devices\.memory|memory)"),
    "aarch64-virtio-pci-default.aarch64-latest": (
        "a <console> without a target becomes the console of the serial port, and libvirt numbers the virtio "
        "console after it: the document's two consoles are stored as a different pair", r"^consoles"),
}

# The module refuses these documents before comparing: two interfaces with one MAC address (outside a virtio
# failover pair) would collide on the network; libvirt defines them.
REFUSED = {
    "devices-acpi-index.x86_64-latest": r"the MAC address .* is declared more than once",
    "net-many-models": r"the MAC address .* is declared more than once",
}

# -- the mapping, read from qemuxml2xmltest.c ------------------------------------------------------
_CALL = re.compile(r"\b(DO_TEST\w*)\(\s*\"([^\"]+)\"(.*?)\)\s*;", re.DOTALL)
_STRING = re.compile(r"\"([^\"]*)\"")
# Macro -> how its output suffix is made from the string arguments after the name.
_SUFFIX = {
    "DO_TEST": lambda strings: "",
    "DO_TEST_NOCAPS": lambda strings: "",
    "DO_TEST_MACOS": lambda strings: "",
    "DO_TEST_FULL": lambda strings: strings[0],
    "DO_TEST_CAPS_LATEST": lambda strings: ".x86_64-latest",
    "DO_TEST_CAPS_VER": lambda strings: ".x86_64-%s" % strings[0],
    "DO_TEST_CAPS_ARCH_LATEST": lambda strings: ".%s-latest" % strings[0],
    "DO_TEST_CAPS_ARCH_LATEST_FULL": lambda strings: ".%s-latest" % strings[0],
    "DO_TEST_CAPS_ARCH_VER": lambda strings: ".%s-%s" % (strings[0], strings[1]),
    "DO_TEST_CAPS_ARCH_VER_FULL": lambda strings: ".%s-%s" % (strings[0], strings[1]),
}


def _calls(source):
    """(macro, name, the other arguments) of every DO_TEST* call in a test program's main, comments left out."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    return _CALL.findall(source[source.index("mymain"):])


def program_cases(source):
    """(macro, name, suffix, when) of every case in qemuxml2xmltest.c's text; an unknown macro is an error."""
    cases = []
    for macro, name, rest in _calls(source):
        if macro not in _SUFFIX:
            raise ValueError("qemuxml2xmltest.c uses %s(\"%s\", ...), which this test does not know" % (macro, name))
        strings = _STRING.findall(rest)
        when = "WHEN_BOTH"
        if macro == "DO_TEST_FULL":
            when = rest.split(",")[2].strip()
        cases.append((macro, name, _SUFFIX[macro](strings), when))
    return cases


def refused_on_define(source):
    """Names of the inputs qemuxml2argvtest.c expects a parse error for with the flags of a define."""
    return {name for _macro, name, rest in _calls(source)
            if "FLAG_EXPECT_PARSE_ERROR" in rest and "VIR_DOMAIN_DEF_PARSE_ABI_UPDATE" in rest}


def stored_output(name, suffix):
    """The output libvirt compares the inactive (stored) definition with, as testInfoSetPaths picks it."""
    inactive = OUTPUTS / ("%s-inactive%s.xml" % (name, suffix))
    return inactive if inactive.exists() else OUTPUTS / ("%s%s.xml" % (name, suffix))


def load_pairs():
    pairs = {}
    refused = refused_on_define(ARGV_TEST_PROGRAM.read_text())
    for _macro, name, suffix, when in program_cases(TEST_PROGRAM.read_text()):
        if when not in ("WHEN_BOTH", "WHEN_INACTIVE"):
            continue  # only ever compared as a running guest's live XML
        if name in refused:
            continue
        pair_id = name + suffix
        pairs.setdefault(pair_id, Pair(pair_id, name, INPUTS / ("%s.xml" % name), stored_output(name, suffix)))
    return [pairs[pair_id] for pair_id in sorted(pairs)]


PAIRS = load_pairs() if TEST_PROGRAM.exists() and ARGV_TEST_PROGRAM.exists() else []
PARAMS = [pytest.param(pair, id=pair.id) for pair in PAIRS] or [
    pytest.param(None, id="absent", marks=pytest.mark.skip(reason=MISSING))]


def plan_for(pair, input_text=None):
    """The plan of a task declaring the input as its xml, for a guest whose stored definition is the output."""
    input_text = pair.input.read_text() if input_text is None else input_text
    name = etree.fromstring(input_text.encode()).findtext("name")
    declared = DeclaredDomain({"name": name, "xml": input_text})
    return DomainPlan(declared, Domain.from_xml(pair.output.read_text()))


# -- the tests -------------------------------------------------------------------------------------
def test_the_pairs_are_there():
    if not PAIRS:
        pytest.skip(MISSING)
    assert len(PAIRS) > 500
    refused = refused_on_define(ARGV_TEST_PROGRAM.read_text())
    assert refused and refused <= {name for _m, name, _s, _w in program_cases(TEST_PROGRAM.read_text())}, refused
    assert not refused & {pair.name for pair in PAIRS}
    missing = [pair.id for pair in PAIRS if not pair.input.exists() or not pair.output.exists()]
    assert not missing, "pairs without their input or output: %s" % missing
    assert set(EXCEPTED) | set(REFUSED) <= {pair.id for pair in PAIRS}, \
        (set(EXCEPTED) | set(REFUSED)) - {pair.id for pair in PAIRS}


def test_the_mapping_follows_qemuxml2xmltest():
    """The macros as qemuxml2xmltest.c defines them (the program's own text, not the downloaded one)."""
    program = """
    static int mymain(void) {
    #define DO_TEST_CAPS_LATEST(name) \\
        DO_TEST_CAPS_ARCH_LATEST(name, "x86_64")
        DO_TEST_NOCAPS("minimal");
        /* DO_TEST_NOCAPS("commented-out"); */
        DO_TEST_CAPS_LATEST("genid");
        DO_TEST_CAPS_ARCH_LATEST("clock-timer-armvtimer", "aarch64");
        DO_TEST_CAPS_VER("sgx-epc", "7.0.0");
        DO_TEST_CAPS_ARCH_VER_FULL("s390-defaultconsole", "s390x", "4.2.0", ARG_END);
        DO_TEST("boot-floppy-q35",
                QEMU_CAPS_DEVICE_IOH3420,
                QEMU_CAPS_ICH9_AHCI);
        DO_TEST_FULL("seclabel-dynamic-relabel", "", WHEN_INACTIVE, ARG_END);
    }
    """
    assert program_cases(program) == [
        ("DO_TEST_NOCAPS", "minimal", "", "WHEN_BOTH"),
        ("DO_TEST_CAPS_LATEST", "genid", ".x86_64-latest", "WHEN_BOTH"),
        ("DO_TEST_CAPS_ARCH_LATEST", "clock-timer-armvtimer", ".aarch64-latest", "WHEN_BOTH"),
        ("DO_TEST_CAPS_VER", "sgx-epc", ".x86_64-7.0.0", "WHEN_BOTH"),
        ("DO_TEST_CAPS_ARCH_VER_FULL", "s390-defaultconsole", ".s390x-4.2.0", "WHEN_BOTH"),
        ("DO_TEST", "boot-floppy-q35", "", "WHEN_BOTH"),
        ("DO_TEST_FULL", "seclabel-dynamic-relabel", "", "WHEN_INACTIVE"),
    ]
    with pytest.raises(ValueError, match="DO_TEST_NEW"):
        program_cases('int mymain(void) { DO_TEST_NEW("x"); }')
    argv_program = """
    static int mymain(void) {
        DO_TEST_CAPS_LATEST_PARSE_ERROR("needs-newer-qemu");
        DO_TEST_CAPS_LATEST("firmware-manual-efi-features");
        DO_TEST_CAPS_ARCH_LATEST_FULL("firmware-manual-efi-features", "x86_64",
                                      ARG_FLAGS, FLAG_EXPECT_PARSE_ERROR,
                                      ARG_PARSEFLAGS, VIR_DOMAIN_DEF_PARSE_ABI_UPDATE,
                                      ARG_END);
    }
    """
    assert refused_on_define(argv_program) == {"firmware-manual-efi-features"}


def test_a_real_change_is_still_reported():
    """The comparison below can fail: the same pair with the input's memory and vcpus changed is a change."""
    if not PAIRS:
        pytest.skip(MISSING)
    pair = next(pair for pair in PAIRS if pair.id == "minimal")
    assert not plan_for(pair).tracker.changed
    changed = etree.fromstring(pair.input.read_bytes())
    changed.find("memory").text = str(int(changed.findtext("memory")) * 2)
    changed.find("vcpu").text = "3"
    plan = plan_for(pair, etree.tostring(changed, encoding="unicode"))
    assert {"memory", "vcpu"} <= set(plan.tracker.fields), plan.tracker.as_list()


@pytest.mark.parametrize("pair", PARAMS)
def test_what_libvirt_normalises_is_no_change(pair):
    if pair.id in REFUSED:
        with pytest.raises(InputError, match=REFUSED[pair.id]):
            plan_for(pair)
        return
    try:
        plan = plan_for(pair)
    except (ModelError, InputError) as error:
        pytest.fail("%s: the model refuses an input libvirt defines: %s" % (pair.input.name, error))
    differences = plan.tracker.as_list()
    if pair.id in EXCEPTED:
        reason, fields = EXCEPTED[pair.id]
        assert plan.tracker.changed, "%s compares equal now: remove it from EXCEPTED (%s)" % (pair.id, reason)
        others = [field for field in plan.tracker.fields if not re.search(fields, field)]
        assert not others, "%s is excepted only for %s (%s), but differs in %s" % (pair.id, fields, reason, differences)
        return
    assert not plan.tracker.changed, "%s -> %s: %s" % (pair.input.name, pair.output.name, differences)


def _mutations(text, count=4):
    """Up to ``count`` copies of the document ``text``, each with one attribute value changed (spread over the
    document, the same ones every run)."""
    root = etree.fromstring(text.encode())
    places = [(element, name) for element in root.iter() if isinstance(element.tag, str)
              for name in element.attrib if element.tag != "domain"]
    step = max(1, len(places) // count)
    for element, name in places[::step][:count]:
        original = element.get(name)
        element.set(name, "vltmutated")
        yield element.tag, name, etree.tostring(root, encoding="unicode")
        element.set(name, original)


@pytest.mark.parametrize("pair", [pair for pair in PAIRS if pair.id not in EXCEPTED and pair.id not in REFUSED],
                         ids=lambda pair: pair.id)
def test_a_changed_attribute_is_a_change(pair):
    """The other half of exact convergence: an attribute the user really changed, wherever it is (devices, their
    typed children, elements the model does not type), is reported, unless the model refuses the value or the
    value is runtime data libvirt would drop too (then it is not in the user's document after reading it)."""
    output = Domain.from_xml(pair.output.read_text())
    for tag, name, text in _mutations(pair.input.read_text()):
        try:
            declared = DeclaredDomain({"name": output.name, "xml": text})
        except (ModelError, InputError):
            continue  # refused with a message naming the option: not silently ignored either
        if 'vltmutated' not in declared.base.to_xml():
            continue  # dropped as runtime data, as libvirt drops it
        plan = DomainPlan(declared, output)
        assert plan.tracker.changed, "%s: <%s %s='vltmutated'> is not reported as a change" % (pair.id, tag, name)
