# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The rules for Red Hat's para-virtualized Windows drivers (xenpv-win), as pure logic.

The rules come from Red Hat's "Para-virtualized Windows drivers: requirements and restrictions" for Red Hat
Enterprise Linux 5:

1. The host runs Red Hat Enterprise Linux 5.2 or later on x86 (32-bit) or AMD64/Intel 64; Itanium is
   not supported.
2. A 64-bit host runs 32-bit and 64-bit fully virtualized Windows guests, mixed; a 32-bit host only
   32-bit guests.
3. The packages xenpv-win-32bit and xenpv-win-64bit (and their -debug variants) are needed only for
   the guest architectures actually run.
4. At least 10 MB free on each Windows guest, administrator access inside the guest, root or sudo on
   the host.
5. Supported guests: Windows Server 2003 SP2 and Server 2003 R2 SP2 (32/64-bit), Windows XP SP2 and
   SP3 (32-bit), Windows XP Professional x64 Edition SP1 and SP2 (64-bit).
6. The system drive (the disk holding the boot information and the Windows directory, usually C:)
   cannot use the para-virtualized block driver; other disks can.

Nothing here does I/O: ``evaluate`` takes what the host told us (release text, machine architecture,
the guests and their parsed definitions) and returns the packages needed, the problems (rule
violations, each with a stable code) and the notes (rules that cannot be verified from the host).
"""
from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import guess_disk_bus
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError

SEED_PACKAGES = ("xenpv-win-32bit", "xenpv-win-32bit-debug", "xenpv-win-64bit", "xenpv-win-64bit-debug")
MINIMUM_RELEASE = (5, 2)
MINIMUM_FREE_SPACE_MB = 10
WORDSIZES = (32, 64)

# Buses whose block driver is the para-virtualized one; a system drive must not use them (rule 6).
PARAVIRT_BUSES = ("xen", "virtio")

WindowsVersion = namedtuple("WindowsVersion", "key title archs")

# Red Hat's list of supported guests; the titles are its own wording.
SUPPORTED_WINDOWS = (
    WindowsVersion("2003-sp2", "Windows Server 2003, Service Pack 2", (32, 64)),
    WindowsVersion("2003r2-sp2", "Windows Server 2003 R2, Service Pack 2", (32, 64)),
    WindowsVersion("xp-sp2", "Windows XP, Service Pack 2", (32,)),
    WindowsVersion("xp-sp3", "Windows XP, Service Pack 3", (32,)),
    WindowsVersion("xpx64-sp1", "Windows XP Professional x64 Edition, Service Pack 1", (64,)),
    WindowsVersion("xpx64-sp2", "Windows XP Professional x64 Edition, Service Pack 2", (64,)),
)
_SUPPORTED_BY_KEY = dict((version.key, version) for version in SUPPORTED_WINDOWS)

# Problem codes, each with the rule of Red Hat's requirements it enforces. The codes are part of the module's
# interface.
PROBLEM_RULES = {
    "host_release_unreadable": 1,
    "host_release_unrecognized": 1,
    "host_not_rhel": 1,
    "host_release_too_old": 1,
    "host_arch_itanium": 1,
    "host_arch_unsupported": 1,
    "guest_arch_exceeds_host": 2,
    "host_no_package_database": 3,
    "guest_free_space_low": 4,
    "guest_os_unsupported": 5,
    "guest_arch_unsupported": 5,
    "guest_not_found": 6,
    "guest_not_hvm": 2,
    "guest_not_xen": 2,
    "guest_arch_mismatch": 2,
    "guest_no_system_disk": 6,
    "system_disk_paravirt": 6,
}


def problem(code, message, guest=None):
    """One rule violation: a stable ``code``, the ``rule`` of Red Hat's requirements, the ``guest`` it concerns (None
    for the host) and a sentence a person understands."""
    return {"code": code, "rule": PROBLEM_RULES[code], "guest": guest, "message": message}


def note(code, message, guest=None):
    """Something the check could not verify, or a fact worth knowing; never a failure."""
    return {"code": code, "guest": guest, "message": message}


def seed_package(wordsize, debug=False):
    return "xenpv-win-%dbit%s" % (wordsize, "-debug" if debug else "")


# ----------------------------------------------------------------------------------------------
# The guest's Windows version, from Red Hat's wording or a short form
# ----------------------------------------------------------------------------------------------

ParsedWindows = namedtuple("ParsedWindows", "key title arch_hint")

# Windows versions people may name that the drivers do not support (rule 5), for a precise message.
_OTHER_WINDOWS = (
    (r"\bvista\b", "Windows Vista"),
    (r"\b(2000|2k)\b", "Windows 2000"),
    (r"\bnt\b", "Windows NT"),
    (r"\bme\b", "Windows Me"),
    (r"\b(95|98)\b", "Windows 9x"),
    (r"\b(2008|2012|2016|2019|2022|2025)\b", "Windows Server %s"),
    (r"^(?:windows |win )?(7|8|8 1|10|11)$", "Windows %s"),
)

# Words naming the architecture, 64-bit spellings first so that "x86_64" is not read as "x86".
_ARCH_WORDS = (
    (r"\bx86 64\b", 64), (r"\bamd64\b", 64), (r"\bintel 64\b", 64), (r"\b64\s*bits?\b", 64),
    (r"\b32\s*bits?\b", 32), (r"\bx86\b", 32), (r"\bi[3-6]86\b", 32),
)


def supported_windows_titles():
    return ["%s (%s)" % (v.title, "/".join("%d-bit" % a for a in v.archs)) for v in SUPPORTED_WINDOWS]


def _simplify(text):
    """Lower case, punctuation to spaces, glued short forms split (``winxp-sp3`` -> ``xp sp 3``)."""
    text = text.lower()
    text = re.sub(r"[\u2010-\u2015\u2212_,.;:/()\[\]\"'-]", " ", text)
    text = re.sub(r"\bmicrosoft\b", " ", text)
    text = re.sub(r"\bwin(?:dows)?\s*(?=\w)", "windows ", text)
    text = re.sub(r"\bxpx64\b", "xp x64", text)
    text = re.sub(r"\b2k3", "2003 ", text)
    text = re.sub(r"\b2003\s*r\s*2", "2003 r2", text)
    text = re.sub(r"\b(?:service\s*pack|sp)\s*(\d+)\b", r" sp \1 ", text)
    text = re.sub(r"\bx\s*64\b", " x64 ", text)
    return " ".join(text.split())


def parse_windows(text, option):
    """The supported Windows version ``text`` names, or which unsupported one.

    Returns ParsedWindows(key, title, arch_hint): ``key`` is None for a recognisable version the drivers
    do not support (a problem, not bad input). Raises InputError when ``text`` names no Windows version.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("must name the guest's Windows version, for example 'Windows XP, Service Pack 3'",
                         option=option)
    simple = _simplify(text)
    arch_hint = None
    for pattern, wordsize in _ARCH_WORDS:
        if re.search(pattern, simple):
            if arch_hint is not None and arch_hint != wordsize:
                raise InputError("%r names both 32-bit and 64-bit" % text, option=option)
            arch_hint = wordsize
            simple = " ".join(re.sub(pattern, " ", simple).split())
    service_packs = re.findall(r"\bsp (\d+)\b", simple)
    if len(service_packs) > 1:
        raise InputError("%r names more than one service pack" % text, option=option)
    service_pack = int(service_packs[0]) if service_packs else None
    words = set(simple.split())
    if "xp" in words:
        x64 = "x64" in words
        family, title = ("xpx64", "Windows XP Professional x64 Edition") if x64 else ("xp", "Windows XP")
    elif "2003" in words:
        r2 = "r2" in words
        family, title = ("2003r2", "Windows Server 2003 R2") if r2 else ("2003", "Windows Server 2003")
        if "x64" in words:  # "Windows Server 2003 x64 Edition" is the 64-bit one
            if arch_hint == 32:
                raise InputError("%r names both 32-bit and 64-bit" % text, option=option)
            arch_hint = 64
    else:
        for pattern, other_title in _OTHER_WINDOWS:
            match = re.search(pattern, simple)
            if match:
                named = other_title % match.group(1).replace(" ", ".") if "%s" in other_title else other_title
                return ParsedWindows(None, named, arch_hint)
        raise InputError(
            "%r is not a Windows version the xenpv-win check knows; use Red Hat's wording (%s) or a short "
            "form (%s)" % (text, "; ".join(v.title for v in SUPPORTED_WINDOWS),
                           ", ".join(v.key for v in SUPPORTED_WINDOWS)), option=option)
    if service_pack is None:
        return ParsedWindows(None, "%s without a service pack" % title, arch_hint)
    key = "%s-sp%d" % (family, service_pack)
    version = _SUPPORTED_BY_KEY.get(key)
    if version is None:
        return ParsedWindows(None, "%s, Service Pack %d" % (title, service_pack), arch_hint)
    return ParsedWindows(version.key, version.title, arch_hint)


# ----------------------------------------------------------------------------------------------
# The host: release file and machine architecture
# ----------------------------------------------------------------------------------------------

_RELEASE = re.compile(r"^\s*(?P<distribution>.*?)\s+release\s+(?P<major>\d+)(?:\.(?P<minor>\d+))?", re.I)
# Rebuilds of Red Hat Enterprise Linux (Oracle's RHEL 5 called itself "Enterprise Linux Enterprise Linux");
# accepted only when the user opts in (accept_rebuilds).
_REBUILDS = (r"^centos", r"^scientific linux", r"^enterprise linux enterprise linux", r"^oracle linux",
             r"^rocky linux", r"^almalinux")
_X86_32 = ("i386", "i486", "i586", "i686", "x86")
_X86_64 = ("x86_64", "amd64")


def parse_release(text):
    """``{distribution, family (rhel, rebuild, other), version: [major, minor]}`` or None."""
    first_line = next((line for line in (text or "").splitlines() if line.strip()), "")
    match = _RELEASE.match(first_line)
    if not match:
        return None
    distribution = " ".join(match.group("distribution").split())
    if distribution.lower().startswith("red hat enterprise linux"):
        family = "rhel"
    elif any(re.match(pattern, distribution.lower()) for pattern in _REBUILDS):
        family = "rebuild"
    else:
        family = "other"
    # RHEL 5 GA wrote "release 5 (Tikanga)": no minor number means the .0 release.
    version = [int(match.group("major")), int(match.group("minor") or 0)]
    return {"distribution": distribution, "family": family, "version": version, "text": first_line.strip()}


def host_wordsize(machine):
    """32 or 64 for x86, "itanium" for ia64, None for anything else."""
    machine = (machine or "").strip().lower()
    if machine in _X86_32:
        return 32
    if machine in _X86_64:
        return 64
    if machine == "ia64":
        return "itanium"
    return None


def check_host(release_text, release_source, machine, accept_rebuilds=False):
    """Rule 1. Returns (host report, problems, notes)."""
    problems, notes = [], []
    release = None
    if release_text is None:
        problems.append(problem(
            "host_release_unreadable",
            "cannot read %s, so the host is not a Red Hat Enterprise Linux system the drivers support "
            "(RHEL 5.2 or later is required)" % release_source))
    else:
        release = parse_release(release_text)
        if release is None:
            problems.append(problem(
                "host_release_unrecognized",
                "%s says %r, which is not a release line such as 'Red Hat Enterprise Linux Server release "
                "5.2 (Tikanga)'; RHEL 5.2 or later is required" % (release_source, release_text.strip()[:120])))
        else:
            problems.extend(_release_problems(release, accept_rebuilds, notes))
    wordsize = host_wordsize(machine)
    if wordsize == "itanium":
        problems.append(problem(
            "host_arch_itanium",
            "the host is an Itanium (ia64) system; the para-virtualized Windows drivers are not supported on "
            "Itanium, only on x86 (32-bit) and AMD64/Intel 64 hosts"))
    elif wordsize is None:
        problems.append(problem(
            "host_arch_unsupported",
            "the host architecture %r is not supported; the para-virtualized Windows drivers need an x86 "
            "(i386 to i686) or AMD64/Intel 64 (x86_64) host" % machine))
    host = {
        "release": release["text"] if release else None,
        "distribution": release["distribution"] if release else None,
        "version": "%d.%d" % tuple(release["version"]) if release else None,
        "arch": machine,
        "wordsize": wordsize if wordsize in WORDSIZES else None,
    }
    return host, problems, notes


def _release_problems(release, accept_rebuilds, notes):
    version_text = "%d.%d" % tuple(release["version"])
    if release["family"] == "other" or (release["family"] == "rebuild" and not accept_rebuilds):
        hint = " (a rebuild of RHEL; set accept_rebuilds to check it like RHEL)" \
            if release["family"] == "rebuild" else ""
        return [problem(
            "host_not_rhel",
            "the host runs %s %s%s, not Red Hat Enterprise Linux; the drivers are supported on Red Hat "
            "Enterprise Linux 5.2 or later" % (release["distribution"], version_text, hint))]
    if release["family"] == "rebuild":
        notes.append(note(
            "host_rebuild_accepted",
            "the host runs %s %s, a rebuild of Red Hat Enterprise Linux, accepted because accept_rebuilds is set"
            % (release["distribution"], version_text)))
    if tuple(release["version"]) < MINIMUM_RELEASE:
        return [problem(
            "host_release_too_old",
            "the host runs %s %s; the para-virtualized Windows drivers need release 5.2 or later"
            % (release["distribution"], version_text))]
    if release["version"][0] >= 6:
        notes.append(note(
            "host_release_without_xen",
            "%s %s is later than 5.2, as the rule asks, but releases from 6 on ship no Xen host; the xenpv-win "
            "packages come from RHEL 5's Virtualization channel" % (release["distribution"], version_text)))
    return []


# ----------------------------------------------------------------------------------------------
# A guest's definition: rule 6 (the system disk) and full virtualization
# ----------------------------------------------------------------------------------------------

_HARD_DISK_DEVICES = ("disk", "lun")
_BOOT_ORDER_DEVICES = ("disk", "interface", "hostdev", "redirdev", "filesystem")


def _boot_order(element):
    boot = element.find("boot")
    if boot is None or boot.get("order") is None:
        return None
    try:
        return int(boot.get("order"))
    except ValueError:
        return None


def _disk_report(disk):
    bus = disk.bus or guess_disk_bus(disk.target)
    return {"target": disk.target, "bus": bus, "source": disk.source, "device": disk.effective_device,
            "paravirt": bus in PARAVIRT_BUSES}


def find_system_disk(domain):
    """The disk Windows boots from and keeps its Windows directory on: (disk, how it was chosen).

    With per-device ``<boot order=N>`` (libvirt then boots only devices that carry one), the hard disk
    with the lowest order; otherwise the first hard disk of the definition, which BIOS boots for
    ``<boot dev='hd'/>`` (the default of a fully virtualized guest).
    """
    hard_disks = [disk for disk in domain.disks if disk.effective_device in _HARD_DISK_DEVICES]
    if not hard_disks:
        return None, "no hard disk"
    devices = domain.element.find("devices")
    uses_boot_order = devices is not None and any(
        _boot_order(element) is not None for element in devices if element.tag in _BOOT_ORDER_DEVICES)
    if uses_boot_order:
        ordered = sorted((disk for disk in hard_disks if _boot_order(disk.element) is not None),
                         key=lambda disk: _boot_order(disk.element))
        if ordered:
            return ordered[0], "boot order %d" % _boot_order(ordered[0].element)
        return hard_disks[0], "first hard disk (no hard disk has a boot order)"
    return hard_disks[0], "first hard disk"


def check_definition(domain, label, declared_arch):
    """Rule 6 and full virtualization on a guest's parsed definition: (report, problems, notes)."""
    problems, notes = [], []
    os_type = domain.os_type
    report = {
        "domain_type": domain.type,
        "os_type": os_type,
        "hvm": os_type == "hvm",
        "machine_arch": domain.os_arch,
        "system_disk": None,
        "paravirt_disks": [],
        "emulated_disks": [],
        "disks": [_disk_report(disk) for disk in domain.disks],
    }
    if domain.type not in ("xen", None):
        problems.append(problem(
            "guest_not_xen",
            "%s is a %s guest, not a Xen guest; the xenpv-win drivers talk to Xen's para-virtualized "
            "back ends only" % (label, domain.type), label))
    if os_type != "hvm":
        problems.append(problem(
            "guest_not_hvm",
            "%s is not fully virtualized (its <os><type> is %r, not 'hvm'); the para-virtualized Windows "
            "drivers are for fully virtualized (HVM) Windows guests" % (label, os_type), label))
    system_disk, chosen_by = find_system_disk(domain)
    if problems:
        # The drivers do not apply to this guest at all; its disks are still reported.
        report["system_disk"] = dict(_disk_report(system_disk), chosen_by=chosen_by) if system_disk else None
        return report, problems, notes
    if declared_arch == 64 and (domain.os_arch or "") in _X86_32:
        problems.append(problem(
            "guest_arch_mismatch",
            "%s is declared 64-bit Windows but its definition emulates a 32-bit machine (arch %s); 64-bit "
            "Windows cannot run there" % (label, domain.os_arch), label))
    for disk in domain.disks:
        if disk.effective_device not in _HARD_DISK_DEVICES or (
                system_disk is not None and disk.element is system_disk.element):
            continue
        summary = _disk_report(disk)
        report["paravirt_disks" if summary["paravirt"] else "emulated_disks"].append(summary["target"])
    if system_disk is None:
        problems.append(problem(
            "guest_no_system_disk",
            "%s has no hard disk, so it has no system drive (C:) to install Windows on" % label, label))
        return report, problems, notes
    summary = _disk_report(system_disk)
    summary["chosen_by"] = chosen_by
    report["system_disk"] = summary
    if summary["paravirt"]:
        problems.append(problem(
            "system_disk_paravirt",
            "the system drive of %s (%s, the %s) is on the para-virtualized %s bus; the drive holding "
            "the boot information and the Windows directory (C:) must use an emulated bus such as ide, and "
            "only other disks (D: and beyond) may use the para-virtualized driver"
            % (label, summary["target"], chosen_by, summary["bus"]), label))
    if not uses_hd_boot(domain):
        notes.append(note(
            "guest_boots_elsewhere",
            "%s does not boot from its hard disk first (boot order: %s); its system drive is taken to be "
            "%s" % (label, ", ".join(domain.boot) or "per device", summary["target"]), label))
    return report, problems, notes


def uses_hd_boot(domain):
    """Whether the first boot device is a hard disk (per-device order, else ``<os><boot dev>``)."""
    system_disk, chosen_by = find_system_disk(domain)
    if chosen_by.startswith("boot order"):
        devices = domain.element.find("devices")
        orders = [(_boot_order(element), element) for element in devices if element.tag in _BOOT_ORDER_DEVICES
                  and _boot_order(element) is not None]
        first = min(orders, key=lambda pair: pair[0])[1]
        return first is system_disk.element
    boot = domain.boot
    return not boot or boot[0] == "hd"


# ----------------------------------------------------------------------------------------------
# Everything together
# ----------------------------------------------------------------------------------------------

class Guest:
    """One declared guest, normalised (bad input raises InputError naming the option)."""

    def __init__(self, item, index, option="guests"):
        prefix = "%s[%d]" % (option, index)
        self.name = item.get("name") or None
        self.label = self.name or prefix
        self.windows = parse_windows(item.get("os"), prefix + ".os")
        arch = item.get("arch")
        if arch is not None and arch not in WORDSIZES:
            raise InputError("must be 32 or 64, got %r" % (arch,), option=prefix + ".arch")
        hint = self.windows.arch_hint
        if arch is not None and hint is not None and arch != hint:
            raise InputError("is %d but os %r says %d-bit" % (arch, item.get("os"), hint), option=prefix + ".arch")
        arch = arch or hint
        if arch is None and self.windows.key is not None:
            archs = _SUPPORTED_BY_KEY[self.windows.key].archs
            if len(archs) > 1:
                raise InputError("is required: %s exists as 32-bit and as 64-bit" % self.windows.title,
                                 option=prefix + ".arch")
            arch = archs[0]
        self.arch = arch
        free_space = item.get("free_space_mb")
        if free_space is not None and (isinstance(free_space, bool) or not isinstance(free_space, int)
                                       or free_space < 0):
            raise InputError("must be a number of megabytes (0 or more), got %r" % (free_space,),
                             option=prefix + ".free_space_mb")
        self.free_space_mb = free_space


def normalize_guests(items, option="guests"):
    guests = [Guest(item or {}, index, option) for index, item in enumerate(items or [])]
    names = [guest.name for guest in guests if guest.name]
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        raise InputError("the guest %s is listed more than once" % duplicates[0], option=option)
    return guests


def check_guest(guest, host_wordsize_value, definition=None, lookup_error=None):
    """Rules 2, 4, 5 and (with its definition) 6 for one guest: (report, problems, notes, needs)."""
    problems, notes = [], []
    label = guest.label
    windows = guest.windows
    if windows.key is None:
        problems.append(problem(
            "guest_os_unsupported",
            "%s runs %s, which the para-virtualized drivers do not support; supported are %s"
            % (label, windows.title, "; ".join(supported_windows_titles())), label))
    elif guest.arch not in _SUPPORTED_BY_KEY[windows.key].archs:
        archs = _SUPPORTED_BY_KEY[windows.key].archs
        problems.append(problem(
            "guest_arch_unsupported",
            "%s is declared %d-bit, but %s is supported only as %s"
            % (label, guest.arch, windows.title, " and ".join("%d-bit" % a for a in archs)), label))
    if guest.arch == 64 and host_wordsize_value == 32:
        problems.append(problem(
            "guest_arch_exceeds_host",
            "%s is 64-bit Windows, but the host is 32-bit; a 32-bit host can run only 32-bit guests "
            "(a 64-bit host runs both)" % label, label))
    if guest.free_space_mb is None:
        notes.append(note(
            "guest_free_space_unverified",
            "free space on %s is not known (set free_space_mb); the drivers need at least %d MB free on the "
            "guest" % (label, MINIMUM_FREE_SPACE_MB), label))
    elif guest.free_space_mb < MINIMUM_FREE_SPACE_MB:
        problems.append(problem(
            "guest_free_space_low",
            "%s has %d MB free; the drivers need at least %d MB free on the guest"
            % (label, guest.free_space_mb, MINIMUM_FREE_SPACE_MB), label))
    notes.append(note(
        "guest_admin_access_unverified",
        "installing the drivers inside %s needs administrator access to Windows, which cannot be checked "
        "from the host" % label, label))
    report = {"name": guest.name, "label": label, "os": windows.title, "os_key": windows.key,
              "arch": guest.arch, "free_space_mb": guest.free_space_mb, "defined": None, "domain_type": None,
              "os_type": None, "hvm": None, "machine_arch": None, "system_disk": None, "paravirt_disks": [],
              "emulated_disks": [], "disks": []}
    if guest.name is None:
        notes.append(note(
            "guest_disks_unverified",
            "%s names no libvirt domain, so its system disk (rule 6) is not checked" % label, label))
    elif lookup_error is not None:
        report["defined"] = False
        problems.append(problem(
            "guest_not_found", "%s is not a guest the host's libvirt knows: %s" % (label, lookup_error), label))
    elif definition is not None:
        report["defined"] = True
        definition_report, definition_problems, definition_notes = check_definition(definition, label, guest.arch)
        report.update(definition_report)
        problems.extend(definition_problems)
        notes.extend(definition_notes)
    # The drivers apply to the guest when it is a supported Windows the host can run as an HVM Xen guest.
    blocking = ("guest_os_unsupported", "guest_arch_unsupported", "guest_arch_exceeds_host", "guest_not_hvm",
                "guest_not_xen", "guest_arch_mismatch")
    needs = guest.arch if not any(p["code"] in blocking for p in problems) else None
    report["problems"] = [p["code"] for p in problems]
    report["supported"] = not problems
    return report, problems, notes, needs


def evaluate(host_facts, guests, definitions=None, lookup_errors=None, debug=False, accept_rebuilds=False):
    """All six rules.

    ``host_facts``: ``release_text`` (None when unreadable), ``release_source``, ``machine``, and
    optionally ``is_root``. ``guests``: normalize_guests' result. ``definitions``: parsed Domain per
    guest name; ``lookup_errors``: why a named guest could not be read.
    Returns ``{host, packages, problems, notes, guests, supported}``; packages are Red Hat's names.
    """
    definitions = definitions or {}
    lookup_errors = lookup_errors or {}
    host, problems, notes = check_host(host_facts.get("release_text"), host_facts.get("release_source"),
                                       host_facts.get("machine"), accept_rebuilds)
    wordsize = host_wordsize(host_facts.get("machine"))
    if host_facts.get("is_root") is False:
        notes.append(note(
            "host_root_unverified",
            "the check does not run as root; installing the packages needs root or sudo on the host "
            "(become: true)"))
    reports, needed = [], set()
    for guest in guests:
        report, guest_problems, guest_notes, needs = check_guest(
            guest, wordsize, definitions.get(guest.name), lookup_errors.get(guest.name))
        reports.append(report)
        problems.extend(guest_problems)
        notes.extend(guest_notes)
        report["package"] = seed_package(needs) if needs is not None and wordsize in WORDSIZES else None
        if report["package"]:
            needed.add(needs)
    if not guests:
        notes.append(note("no_guests", "no Windows guests are declared, so no driver package is needed"))
    packages = []
    if wordsize in WORDSIZES:  # on Itanium or an unknown architecture no package applies
        for arch in sorted(needed):
            packages.append(seed_package(arch))
            if debug:
                packages.append(seed_package(arch, debug=True))
    return {"host": host, "packages": packages, "problems": problems, "notes": notes, "guests": reports,
            "supported": not problems}


def describe_problems(problems):
    """One message naming every problem (the failed task's msg)."""
    return "%d problem%s with the para-virtualized Windows drivers: %s" % (
        len(problems), "" if len(problems) == 1 else "s",
        " ".join("[%s] %s." % (p["code"], p["message"]) for p in problems))
