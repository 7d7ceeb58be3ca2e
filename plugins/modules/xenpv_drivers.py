#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: xenpv_drivers
short_description: Check a Xen host and its Windows guests against the para-virtualized driver (xenpv-win) rules
version_added: 0.1.0
description:
  - Checks every requirement Red Hat lists for the para-virtualized Windows drivers (the C(xenpv-win)
    packages) on a Red Hat Enterprise Linux Xen host and its fully virtualized Windows guests, and says which
    driver packages the host needs, which are installed and which are missing.
  - Read-only. It reads the host's release file and machine architecture, queries the RPM database with
    C(rpm -q), and reads the persistent definition of each named guest over a read-only libvirt connection.
    Installing the packages is the job of the C(virt.libvirt.xenpv_win) role.
  - Works on hosts that cannot run modules, such as RHEL 5 with its Python 2.4. An action plugin then gathers
    the same facts with plain commands over the connection and applies the same rules on the controller (see
    O(gather)).
  - "Rule 1: the host runs Red Hat Enterprise Linux 5.2 or later on x86 (32-bit, C(i386) to C(i686)) or
    AMD64/Intel 64 (C(x86_64)). Itanium (C(ia64)) and every other architecture are refused. CentOS and
    other rebuilds are not Red Hat Enterprise Linux and are refused unless O(accept_rebuilds=true).
    A release line without a minor number (RHEL 5.0 wrote C(release 5)) is 5.0."
  - "Rule 2: a 64-bit host runs 32-bit and 64-bit guests, mixed; a 32-bit host runs only 32-bit guests. A
    64-bit Windows declared on a guest whose definition emulates a 32-bit machine is refused too."
  - "Rule 3: the packages needed are C(xenpv-win-32bit) and/or C(xenpv-win-64bit), only for the architectures
    of the declared guests, plus their C(-debug) variants with O(debug=true)."
  - "Rule 4: each guest needs at least 10 MB free (checked when O(guests[].free_space_mb) is given, else
    returned as a note); administrator access inside Windows cannot be checked from the host and is always
    returned as a note; root or sudo on the host is a note when the check does not run as root."
  - "Rule 5: supported guests are Windows Server 2003 SP2 and Windows Server 2003 R2 SP2 (32- and 64-bit),
    Windows XP SP2 and SP3 (32-bit), and Windows XP Professional x64 Edition SP1 and SP2 (64-bit)."
  - "Rule 6: the system drive (C:, the disk with the boot information and the Windows directory) must not
    use the para-virtualized block driver. The system disk of a named guest is its first bootable hard disk -
    the hard disk with the lowest per-device C(<boot order>) when the definition uses them, else the first
    hard disk of the definition (which BIOS boots with C(<boot dev='hd'/>)). A disk is para-virtualized on
    the C(xen) bus (C(xvd*)) or the C(virtio) bus (C(vd*)), emulated on C(ide), C(sata) or C(scsi). A guest
    that is not a fully virtualized (C(hvm)) Xen guest is refused: the drivers are for HVM guests."
  - Every violation is returned in RV(problems) with a stable code; with O(fail_on_problems=true) the task
    fails naming every problem, not only the first.
author:
  - virt.libvirt developers (!UNKNOWN)
extends_documentation_fragment:
  - virt.libvirt.connection
attributes:
  check_mode:
    support: full
    description: The module changes nothing; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  idempotent:
    support: full
    description: Read-only; it never reports a change.
  action:
    support: full
    description: >-
      An action plugin chooses between running the module on the host and gathering its facts with plain
      commands (O(gather)); the rules are applied on the controller in the second case.
options:
  uri:
    description:
      - The libvirt connection URI to read the named guests' definitions from, for example C(xen:///) (RHEL 5's
        libvirt accepts no other path for Xen; later ones also C(xen:///system)). Only opened when a guest has
        O(guests[].name).
      - With O(gather=raw) the URI is opened by C(virsh) on the host, so it names the hypervisor as the host
        sees it, and must not carry a password.
  guests:
    description:
      - The Windows guests the host runs (or will run). Their architectures decide which packages are needed.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The libvirt domain of the guest. When given, its persistent definition is read and checked (rule 6,
            full virtualization, the emulated machine's architecture). Without it those checks are returned as
            a note.
          - Must not contain C(/) or control characters, which libvirt does not allow in a name.
        type: str
      os:
        description:
          - The Windows version, in the wording of Red Hat's requirements (V(Windows XP, Service Pack 3),
            V(Windows Server 2003 R2, Service Pack 2), V(Windows XP Professional x64 Edition, Service Pack 1 – 64-bit))
            - case, punctuation and dashes do not matter, C(Service Pack 2) may be written C(SP2), C(Microsoft)
            and C(Windows) may be left out.
          - "Short forms: V(2003-sp2), V(2003r2-sp2), V(xp-sp2), V(xp-sp3), V(xpx64-sp1), V(xpx64-sp2)
            (also with a C(win) prefix, such as V(winxp-sp3) or V(win2k3r2-sp2))."
          - Other Windows versions (V(Windows 2000), V(Windows Vista), V(Windows Server 2008), V(Windows XP, Service Pack 1) ...)
            are accepted and reported as the problem C(guest_os_unsupported); text that names no Windows version
            fails the task as bad input.
        type: str
        required: true
      arch:
        description:
          - The Windows guest's architecture in bits. May be left out when O(guests[].os) implies it - Windows XP
            is 32-bit, Windows XP Professional x64 Edition 64-bit, or the text names it (C(32-bit), C(64-bit),
            C(x86), C(x86_64), C(AMD64), C(x64 Edition)); required for Windows Server 2003 otherwise.
          - When given together with an architecture in O(guests[].os), both must agree.
        type: int
        choices: [32, 64]
      free_space_mb:
        description:
          - Free space on the guest's system drive in megabytes, as the guest reports it. Below 10 is a problem;
            when omitted the rule is returned as a note.
        type: int
  debug:
    description: Also need the debugging driver packages (C(xenpv-win-32bit-debug), C(xenpv-win-64bit-debug)).
    type: bool
    default: false
  release_file:
    description: The file that names the host's distribution and release.
    type: path
    default: /etc/redhat-release
  host_arch:
    description:
      - The host's machine architecture (C(i686), C(x86_64), C(ia64) ...). Defaults to the architecture of the
        machine the module runs on (C(uname -m)).
    type: str
  accept_rebuilds:
    description:
      - Check CentOS, Scientific Linux, Oracle Linux, Rocky Linux and AlmaLinux hosts like Red Hat Enterprise
        Linux of the same version, instead of reporting C(host_not_rhel). Red Hat's requirements name only
        Red Hat Enterprise Linux; this is an opt-in at your own risk. Other distributions are always refused.
    type: bool
    default: false
  package_names:
    description:
      - Maps Red Hat's package names (C(xenpv-win-32bit), C(xenpv-win-32bit-debug), C(xenpv-win-64bit),
        C(xenpv-win-64bit-debug)) to the names a repository uses. Names not mapped stay as they are.
        RV(packages), RV(installed) and RV(missing) use the repository's names.
    type: dict
    default: {}
  installroot:
    description:
      - The root of the RPM database to query (C(rpm --root)), as C(installroot) of M(ansible.builtin.dnf).
        Media paths in RV(media) are returned below it.
    type: path
    default: /
  fail_on_problems:
    description: Fail the task when any rule is violated, naming every problem. When false the problems are only returned.
    type: bool
    default: true
  gather:
    description:
      - How the host's facts are gathered.
      - V(module) runs the module on the host, which needs Python 3.8 or later there with lxml (and
        libvirt-python when guests are named).
      - V(raw) runs no Python on the host. It reads the facts with plain commands over the connection, as
        M(ansible.builtin.raw) does - C(head) of O(release_file), C(uname -m), C(id -u), C(test -d) of
        O(installroot), C(rpm -q) and C(rpm -ql), and C(virsh -r -c URI dumpxml --inactive) for each named guest
        - and applies the rules on the controller. Same options, results and problem codes; O(release_file) and
        O(installroot) must then be absolute paths. Every argument is quoted; nothing reaches the host's shell
        unquoted. Runs with C(become) like the module would.
      - V(auto) asks the interpreter Ansible would run the module with for its version first (one command),
        and uses V(module) when it is Python 3.8 or later with the libraries, else V(raw). RV(gather) says which
        was used and RV(gather_reason) why not the module.
    type: str
    choices: [auto, module, raw]
    default: auto
notes:
  - Uses C(rpm) (through the module's command runner) to read the package database; a host without C(rpm)
    gets the problem C(host_no_package_database).
  - "The problem codes are stable: C(host_release_unreadable), C(host_release_unrecognized), C(host_not_rhel),
    C(host_release_too_old), C(host_arch_itanium), C(host_arch_unsupported) (rule 1); C(guest_arch_exceeds_host),
    C(guest_arch_mismatch), C(guest_not_hvm), C(guest_not_xen) (rule 2); C(host_no_package_database) (rule 3);
    C(guest_free_space_low) (rule 4); C(guest_os_unsupported), C(guest_arch_unsupported) (rule 5);
    C(guest_not_found), C(guest_no_system_disk), C(system_disk_paravirt) (rule 6)."
  - "Note codes: C(guest_free_space_unverified), C(guest_admin_access_unverified), C(host_root_unverified),
    C(guest_disks_unverified), C(guest_boots_elsewhere), C(host_rebuild_accepted), C(host_release_without_xen),
    C(no_guests)."
  - Red Hat Enterprise Linux 6 and later satisfy "5.2 or later" but ship no Xen host; the module accepts them as
    Red Hat's requirements say and returns the note C(host_release_without_xen).
seealso:
  - module: virt.libvirt.domain
  - module: virt.libvirt.capabilities_facts
"""

EXAMPLES = r"""
- name: Check a RHEL 5 Xen host and its Windows guests (its Python 2.4 cannot run modules; gather auto uses commands)
  virt.libvirt.xenpv_drivers:
    uri: xen:///
    guests:
      - name: win2003-db
        os: Windows Server 2003 R2, Service Pack 2
        arch: 64
        free_space_mb: 2048
      - name: winxp-desk
        os: Windows XP, Service Pack 3
  register: xenpv

- name: Show what is missing
  ansible.builtin.debug:
    msg: "{{ xenpv.missing }}"

- name: Report only (never fail), with the debug drivers and a repository's own package names
  virt.libvirt.xenpv_drivers:
    guests:
      - {os: xpx64-sp2}
    debug: true
    package_names:
      xenpv-win-64bit: rh-xenpv-win-64bit
      xenpv-win-64bit-debug: rh-xenpv-win-64bit-debug
    fail_on_problems: false
  register: report
"""

RETURN = r"""
changed:
  description: Always false; the module only reads.
  returned: always
  type: bool
supported:
  description: Whether the host and every guest meet all the rules (no RV(problems)).
  returned: always
  type: bool
packages:
  description: The packages the host needs for its guests' architectures (repository names, see O(package_names)).
  returned: always
  type: list
  elements: str
  sample: [xenpv-win-32bit, xenpv-win-64bit]
installed:
  description: The xenpv-win packages installed on the host, needed or not.
  returned: always
  type: list
  elements: str
installed_versions:
  description: The version (C(epoch:version-release.arch)) of each installed xenpv-win package.
  returned: always
  type: dict
  sample: {xenpv-win-32bit: "0:1.3.8-1.el5.noarch"}
missing:
  description: The needed packages that are not installed.
  returned: always
  type: list
  elements: str
package_names:
  description: Red Hat's package names mapped to the repository's names.
  returned: always
  type: dict
media:
  description: For each installed package (by Red Hat's name), the first ISO image it carries - the driver media to attach to the guests as a CD-ROM.
  returned: always
  type: dict
  sample: {xenpv-win-32bit: /usr/share/xenpv-win/xenpv-win-32bit.iso}
problems:
  description: Every rule violation found.
  returned: always
  type: list
  elements: dict
  contains:
    code: {description: "A stable code such as C(system_disk_paravirt).", type: str, returned: always}
    rule: {description: "The rule of Red Hat's requirements it enforces (1 to 6).", type: int, returned: always}
    guest: {description: "The guest it concerns (its name, or C(guests[N])); null for the host.", type: str, returned: always}
    message: {description: "What is wrong, in a sentence.", type: str, returned: always}
  sample:
    - code: system_disk_paravirt
      rule: 6
      guest: win2003-db
      message: the system drive of win2003-db (xvda, the first hard disk) is on the para-virtualized xen bus; ...
notes:
  description: >-
    Rules that cannot be verified from the host (free space not given, administrator access inside Windows,
    root when not running as root) and other facts worth knowing; never failures.
  returned: always
  type: list
  elements: dict
  contains:
    code: {description: "A stable code such as C(guest_free_space_unverified).", type: str, returned: always}
    guest: {description: "The guest it concerns, null for the host.", type: str, returned: always}
    message: {description: "The note, in a sentence.", type: str, returned: always}
host:
  description: What the host said about itself.
  returned: always
  type: dict
  contains:
    release: {description: "The release line read from O(release_file).", type: str, returned: always}
    distribution: {description: "The distribution, such as C(Red Hat Enterprise Linux Server).", type: str, returned: always}
    version: {description: "The release as C(major.minor), such as C(5.4).", type: str, returned: always}
    arch: {description: "The machine architecture checked.", type: str, returned: always}
    wordsize: {description: "32 or 64; null on Itanium and unknown architectures.", type: int, returned: always}
gather:
  description: How the facts were gathered, V(module) (the module ran on the host) or V(raw) (plain commands).
  returned: always
  type: str
  sample: raw
gather_reason:
  description: Why the facts were gathered with commands, such as the host's interpreter being too old or missing.
  returned: when gather is raw
  type: str
  sample: the interpreter /usr/bin/python is Python 2.4; the module needs Python 3.8 or later
guests:
  description: One entry per item of O(guests), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: "The libvirt domain, or null.", type: str, returned: always}
    label: {description: "The name, or C(guests[N]) for an unnamed guest (how problems refer to it).", type: str, returned: always}
    os: {description: "The Windows version understood from O(guests[].os).", type: str, returned: always}
    os_key: {description: "The short form of a supported version (C(xp-sp3) ...), null when not supported.", type: str, returned: always}
    arch: {description: "32 or 64.", type: int, returned: always}
    supported: {description: "Whether this guest meets every guest rule (host problems aside).", type: bool, returned: always}
    package:
      description: >-
        Red Hat's name of the driver package this guest uses (C(xenpv-win-32bit) or C(xenpv-win-64bit)); null when
        the drivers cannot apply to it (unsupported Windows, 64-bit on a 32-bit host, not HVM, not Xen, Itanium host).
      type: str
      returned: always
    problems: {description: "The codes of this guest's problems.", type: list, elements: str, returned: always}
    defined: {description: "Whether the named domain exists; null for an unnamed guest.", type: bool, returned: always}
    hvm: {description: "Whether the guest is fully virtualized.", type: bool, returned: when the domain was read}
    domain_type: {description: "The domain's hypervisor type (C(xen) ...).", type: str, returned: when the domain was read}
    machine_arch: {description: "The architecture the domain emulates (C(i686), C(x86_64)).", type: str, returned: when the domain was read}
    system_disk:
      description: The system drive (C:) - C(target), C(bus), C(source), C(device), C(paravirt) and C(chosen_by) (why it is the system disk).
      type: dict
      returned: when the domain was read and has a hard disk
    paravirt_disks: {description: "Targets of the other hard disks on a para-virtualized bus (D: and beyond).", type: list, elements: str, returned: always}
    emulated_disks: {description: "Targets of the other hard disks on an emulated bus.", type: list, elements: str, returned: always}
    disks:
      description:
        - Every disk of the definition (hard disks, CD-ROMs, floppies) with its C(target), C(bus), C(source),
          C(device) and C(paravirt).
      type: list
      elements: dict
      returned: always
    free_space_mb: {description: "The free space given, or null.", type: int, returned: always}
"""

from ansible_collections.virt.libvirt.plugins.module_utils._module import run_module_main
from ansible_collections.virt.libvirt.plugins.module_utils._xenpv import (
    required_libraries, run_xenpv_check, xenpv_argument_spec,
)


def main():
    run_module_main(run_xenpv_check, xenpv_argument_spec(), libraries=required_libraries)


if __name__ == "__main__":
    main()
