#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: capabilities_facts
short_description: What a libvirt host can virtualize (Xen PV or HVM, KVM or QEMU, 32 or 64 bit), as facts
version_added: 0.1.0
description:
  - Reads the host's capabilities (libvirt's C(virConnectGetCapabilities), what C(virsh capabilities) shows) and
    returns them as the fact C(libvirt_capabilities) - the host's CPU architecture and features, and one entry
    per kind of guest the host can run, with its OS type, architecture, word size, domain types, emulator,
    machine types and loader.
  - Adds answers derived from them for playbooks that choose what to provision on each host of a fleet -
    RV(ansible_facts.libvirt_capabilities.hvm), RV(ansible_facts.libvirt_capabilities.paravirt),
    RV(ansible_facts.libvirt_capabilities.kvm), RV(ansible_facts.libvirt_capabilities.guest_arches) - and what
    the connection itself reports - the hypervisor driver and version, the libvirt version, the host's memory
    and CPU count.
  - With O(domain_capabilities), also reads libvirt's domain capabilities (C(virsh domcapabilities)) - the disk
    buses, graphics types, firmware, loaders and CPU modes one emulator offers a domain type.
  - Read-only - never changes anything on the host, reports C(changed=false), and runs the same in check mode.
author:
  - virt.libvirt developers (!UNKNOWN)
extends_documentation_fragment:
  - virt.libvirt.connection
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode gathers the same facts.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
  facts:
    support: full
    description: Returns C(ansible_facts.libvirt_capabilities), which updates the host's facts.
  idempotent:
    support: full
    description: Never changes anything; always reports C(changed=false).
options:
  read_only:
    description:
      - Open a read-only connection (C(virConnectOpenReadOnly)). On most hosts any local user may open one, so
        unprivileged accounts can gather the facts.
      - libvirt refuses domain capabilities on a read-only connection, so it cannot be combined with
        O(domain_capabilities).
    type: bool
    default: false
  domain_capabilities:
    description:
      - Also gather libvirt's domain capabilities (C(virConnectGetDomainCapabilities)) and return them in
        RV(ansible_facts.libvirt_capabilities.domain_capabilities), keyed by domain type.
      - Give an empty dictionary (V({})) for the host's own architecture and every domain type it offers.
      - The task fails, naming this option and quoting libvirt, when libvirt cannot answer, for example on a
        driver without domain capabilities (the test driver), for an architecture without an emulator, or for
        a machine type the emulator does not know.
    type: dict
    suboptions:
      arch:
        description: The guest architecture, for example V(x86_64) or V(i686). Defaults to the host's.
        type: str
      virttype:
        description:
          - The domain type, for example V(kvm), V(qemu) or V(xen).
          - When omitted, every domain type the capabilities list for O(domain_capabilities.arch) is gathered
            (on a KVM host both V(qemu) and V(kvm)).
        type: str
        choices: [xen, kvm, qemu, kqemu, lxc, uml, openvz, test, vmware, hyperv, vbox, phyp, parallels, bhyve, vz, hvf, none]
      machine:
        description: The machine type, for example V(q35) or V(pc). Defaults to the emulator's default machine.
        type: str
      emulator:
        description: Path of the emulator binary. Defaults to the one libvirt picks for the architecture.
        type: str
notes:
  - C(kvm) is true only when a guest of the host's own architecture lists the domain type V(kvm). libvirt lists
    it only when C(/dev/kvm) is usable and the emulator supports KVM, so it answers "can guests here run with
    hardware acceleration". A 64-bit x86 host usually lists V(kvm) for V(i686) guests too
    (RV(ansible_facts.libvirt_capabilities.kvm_arches)).
  - C(paravirt) is true when a guest has OS type V(xen) (classic Xen paravirtualization; the domain module's
    C(os.type) V(linux) or V(xen)); C(pvh) when one has OS type V(xenpvh); C(hvm) when one has OS type V(hvm).
  - Machine types - C(machines) lists every name libvirt accepts in a guest's C(os.machine), canonical names and
    aliases alike, in libvirt's order; C(machine_aliases) maps each alias to the canonical (versioned) machine
    it stands for (libvirt's C(<machine canonical=...>)), for example C(pc) to C(pc-i440fx-7.2). libvirt
    stores the canonical name in a guest's definition when it is given an alias.
  - Values libvirt does not report (a host UUID on the test driver, a loader on KVM) are V(null), and lists
    are empty, so every key is always present.
  - Use the action group C(virt.libvirt.libvirt) in C(module_defaults) to set O(uri) once.
seealso:
  - module: virt.libvirt.domain
  - name: libvirt capabilities XML format
    description: The host capabilities document these facts come from.
    link: https://libvirt.org/formatcaps.html
  - name: libvirt domain capabilities XML format
    description: The document behind O(domain_capabilities).
    link: https://libvirt.org/formatdomaincaps.html
"""

EXAMPLES = r"""
- name: Read what the host can virtualize
  virt.libvirt.capabilities_facts:

- name: Show the guest kinds
  ansible.builtin.debug:
    msg: "{{ item.os_type }} {{ item.arch }} ({{ item.wordsize }} bit) on {{ item.domain_types | join(', ') }}"
  loop: "{{ ansible_facts.libvirt_capabilities.guests }}"

- name: Create a guest with hardware acceleration where the host has it, else emulated (QEMU TCG)
  virt.libvirt.domain:
    name: web1
    type: "{{ 'kvm' if ansible_facts.libvirt_capabilities.kvm else 'qemu' }}"
    memory: 1GiB
    os: {type: hvm}
    state: running

- name: A Xen host - does it take paravirtualized guests, fully virtualized ones, or both?
  virt.libvirt.capabilities_facts:
    uri: xen:///system

- name: Choose the guest kind per Xen host
  ansible.builtin.set_fact:
    guest_os_type: "{{ 'linux' if ansible_facts.libvirt_capabilities.paravirt else 'hvm' }}"

- name: Only 64-bit hosts can run 64-bit guests
  ansible.builtin.assert:
    that: "'x86_64' in ansible_facts.libvirt_capabilities.guest_arches"
    fail_msg: "{{ inventory_hostname }} can run only {{ ansible_facts.libvirt_capabilities.guest_arches }}"

- name: Also ask which disk buses, graphics and firmware KVM offers on this host
  virt.libvirt.capabilities_facts:
    domain_capabilities:
      virttype: kvm
      machine: q35

- name: Use virtio only where the emulator offers it
  ansible.builtin.set_fact:
    disk_bus: "{{ 'virtio' if 'virtio' in ansible_facts.libvirt_capabilities.domain_capabilities.kvm.disk_buses else 'ide' }}"

- name: Gather as an unprivileged user over the read-only socket
  virt.libvirt.capabilities_facts:
    read_only: true
"""

RETURN = r"""
ansible_facts:
  description: The facts.
  returned: always
  type: dict
  contains:
    libvirt_capabilities:
      description: What the host behind O(uri) can virtualize.
      returned: always
      type: dict
      contains:
        uri:
          description: The connection's canonical URI, as libvirt reports it.
          type: str
          returned: always
          sample: qemu:///system
        hostname:
          description: The host's name as libvirt reports it; null when the driver does not say.
          type: str
          returned: always
          sample: kvm01
        libvirt_version:
          description: The libvirt version of the daemon serving the connection.
          type: str
          returned: always
          sample: 9.0.0
        hypervisor:
          description: The connection's driver and the hypervisor's version.
          type: dict
          returned: always
          contains:
            name:
              description: The connection's driver name (C(virConnectGetType)) - C(QEMU), C(Xen), C(TEST), C(LXC) ...
              type: str
              returned: always
              sample: QEMU
            version:
              description: The hypervisor's version; null when the driver does not know it.
              type: str
              returned: always
              sample: 7.2.0
            version_number:
              description: The same as libvirt encodes it (major * 1000000 + minor * 1000 + release).
              type: int
              returned: always
              sample: 7002000
        hvm:
          description: Fully virtualized guests (OS type C(hvm)) are possible.
          type: bool
          returned: always
        paravirt:
          description: Xen paravirtualized guests (OS type C(xen)) are possible.
          type: bool
          returned: always
        pvh:
          description: Xen PVH guests (OS type C(xenpvh)) are possible.
          type: bool
          returned: always
        kvm:
          description:
            - Hardware acceleration is usable - a guest of the host's own architecture lists domain type C(kvm).
          type: bool
          returned: always
        guest_arches:
          description: Every guest architecture, in libvirt's order.
          type: list
          elements: str
          returned: always
          sample: [i686, x86_64]
        hvm_arches:
          description: The architectures of fully virtualized guests.
          type: list
          elements: str
          returned: always
        paravirt_arches:
          description: The architectures of Xen paravirtualized guests.
          type: list
          elements: str
          returned: always
        kvm_arches:
          description: The architectures that list domain type C(kvm).
          type: list
          elements: str
          returned: always
        domain_types:
          description: Every domain type any guest offers, for a domain's O(virt.libvirt.domain#module:type).
          type: list
          elements: str
          returned: always
          sample: [qemu, kvm]
        host:
          description: The host.
          type: dict
          returned: always
          contains:
            arch:
              description: The host CPU's architecture.
              type: str
              returned: always
              sample: x86_64
            uuid:
              description: The host's UUID.
              type: str
              returned: always
            cpu_model:
              description: The CPU model libvirt matched the host CPU to.
              type: str
              returned: always
              sample: Broadwell-noTSX-IBRS
            cpu_vendor:
              description: The CPU vendor.
              type: str
              returned: always
              sample: Intel
            cpu_microcode:
              description: The CPU's microcode version.
              type: str
              returned: always
            cpu_features:
              description:
                - CPU features beyond those of RV(ansible_facts.libvirt_capabilities.host.cpu_model) (C(vmx), C(svm), C(pae) ...),
                  in libvirt's order. Both spellings libvirt has used (C(<features><vmx/>) and
                  C(<feature name='vmx'/>)) are read.
              type: list
              elements: str
              returned: always
              sample: [vmx, pae]
            cpu_topology:
              description: C(sockets), C(dies), C(clusters), C(cores) and C(threads) as reported (absent ones left out); null when not reported.
              type: dict
              returned: always
              sample: {sockets: 1, dies: 1, cores: 8, threads: 2}
            cpu_address_bits:
              description: Physical address bits of the host CPU.
              type: int
              returned: always
            cpus:
              description: Active host CPUs (C(virNodeGetInfo)).
              type: int
              returned: always
            cpu_mhz:
              description: CPU frequency in MHz (C(virNodeGetInfo)).
              type: int
              returned: always
            memory_mib:
              description: Host memory in MiB (C(virNodeGetInfo)).
              type: int
              returned: always
            page_sizes_kib:
              description: Memory page sizes the host supports, in KiB (4 and the huge page sizes).
              type: list
              elements: int
              returned: always
              sample: [4, 2048, 1048576]
            numa_cells:
              description: Number of NUMA cells.
              type: int
              returned: always
            numa_topology:
              description: Each NUMA cell with C(id), C(memory_kib), C(cpus) (CPU ids), C(pages) (C(size_kib), C(count)) and C(distances) (C(id), C(value)).
              type: list
              elements: dict
              returned: always
            cache_banks:
              description: Host CPU caches with C(id), C(level), C(type), C(size_kib) and C(cpus).
              type: list
              elements: dict
              returned: always
            security_models:
              description: Security drivers with C(model) (C(selinux), C(apparmor), C(dac) ...), C(doi) and C(base_labels) per domain type.
              type: list
              elements: dict
              returned: always
              sample: [{model: dac, doi: "0", base_labels: {kvm: "+107:+107", qemu: "+107:+107"}}]
            power_management:
              description: Host suspend modes (C(suspend_mem), C(suspend_disk), C(suspend_hybrid)); null when not reported.
              type: list
              elements: str
              returned: always
            iommu:
              description: Whether the host has an IOMMU usable for device assignment; null when not reported.
              type: bool
              returned: always
            migration:
              description: C(live) (live migration supported; null when not reported) and C(uri_transports) (C(tcp), C(rdma) ...).
              type: dict
              returned: always
        guests:
          description: One entry per kind of guest (OS type and architecture), in libvirt's order.
          type: list
          elements: dict
          returned: always
          contains:
            os_type:
              description: C(hvm) (fully virtualized), C(xen) (Xen paravirtualized), C(xenpvh), C(exe) (containers) ...
              type: str
              returned: always
            arch:
              description: The guest architecture.
              type: str
              returned: always
            wordsize:
              description: 32 or 64.
              type: int
              returned: always
            domain_types:
              description: The hypervisors that can run it, for example C([qemu, kvm]) or C([xen]).
              type: list
              elements: str
              returned: always
            emulator:
              description: The device model binary.
              type: str
              returned: always
            loader:
              description: The firmware or boot loader (Xen HVM's C(hvmloader)); null when none is given.
              type: str
              returned: always
            machines:
              description: Every machine type name, canonical names and aliases alike.
              type: list
              elements: str
              returned: always
              sample: [pc-i440fx-7.2, pc, pc-q35-7.2, q35, isapc]
            machine_aliases:
              description: Alias to canonical machine type.
              type: dict
              returned: always
              sample: {pc: pc-i440fx-7.2, q35: pc-q35-7.2}
            machine_details:
              description: Each machine with C(name), C(canonical) (null unless an alias), C(max_cpus) and C(deprecated).
              type: list
              elements: dict
              returned: always
            features:
              description: Guest features (C(pae), C(nonpae), C(acpi), C(apic) ...), sorted.
              type: list
              elements: str
              returned: always
            feature_settings:
              description: For features that say so, C(default) (on unless configured) and C(toggle) (a guest may switch it).
              type: dict
              returned: always
              sample: {acpi: {default: true, toggle: true}}
            domain_type_overrides:
              description: >-
                For domain types with an emulator or machines of their own (libvirt's C(<domain
                type='kvm'><emulator>)) - C(emulator), C(machines), C(machine_aliases).
              type: dict
              returned: always
        domain_capabilities:
          description: With O(domain_capabilities), one entry per domain type gathered, keyed by it (C(kvm), C(qemu) ...).
          type: dict
          returned: when O(domain_capabilities) is given
          contains:
            emulator:
              description: The emulator the answer is for.
              type: str
              returned: always
            domain_type:
              description: The domain type.
              type: str
              returned: always
            machine:
              description: The machine type (canonical).
              type: str
              returned: always
            arch:
              description: The architecture.
              type: str
              returned: always
            vcpu_max:
              description: Most vCPUs a guest may have.
              type: int
              returned: always
            iothreads:
              description: Whether I/O threads are supported.
              type: bool
              returned: always
            disk_buses:
              description: Disk buses (C(ide), C(scsi), C(virtio), C(xen), C(sata) ...).
              type: list
              elements: str
              returned: always
            disk_devices:
              description: Disk devices (C(disk), C(cdrom), C(floppy), C(lun)).
              type: list
              elements: str
              returned: always
            disk_models:
              description: Disk models (C(virtio), C(virtio-transitional) ...).
              type: list
              elements: str
              returned: always
            graphics_types:
              description: Graphics types (C(vnc), C(spice), C(sdl) ...).
              type: list
              elements: str
              returned: always
            video_models:
              description: Video models (C(vga), C(cirrus), C(qxl), C(virtio) ...).
              type: list
              elements: str
              returned: always
            hostdev_subsystem_types:
              description: Host device kinds that can be assigned (C(usb), C(pci), C(scsi)).
              type: list
              elements: str
              returned: always
            firmware:
              description: Firmware a guest may ask for with C(<os firmware=...>) (C(bios), C(efi)).
              type: list
              elements: str
              returned: always
            loaders:
              description: Paths of the firmware images libvirt knows (OVMF/AAVMF); empty when none are installed.
              type: list
              elements: str
              returned: always
            loader_types:
              description: Loader types (C(rom), C(pflash)).
              type: list
              elements: str
              returned: always
            supported_cpu_modes:
              description: CPU modes that are supported (C(host-passthrough), C(host-model), C(maximum), C(custom)).
              type: list
              elements: str
              returned: always
            usable_cpu_models:
              description: CPU models of the custom mode that this host can run.
              type: list
              elements: str
              returned: always
            os:
              description: The C(<os>) block - C(supported), each enum by name (C(firmware)), and C(loader) with its own C(supported), C(values) and enums.
              type: dict
              returned: always
            cpu_modes:
              description: >-
                Each CPU mode by name with C(supported) and its enums; C(host-model) adds C(model), C(vendor),
                C(fallback), C(features_required), C(features_disabled); C(custom) adds C(models),
                C(usable_models) and, where libvirt names them, C(model_aliases) (alias to canonical model).
              type: dict
              returned: always
            memory_backing:
              description: C(supported) and C(sourceType).
              type: dict
              returned: always
            devices:
              description: >-
                Each device kind (C(disk), C(graphics), C(video), C(hostdev), C(rng), C(filesystem), C(tpm)
                ...) with C(supported) and every enum by libvirt's name.
              type: dict
              returned: always
              sample: {disk: {supported: true, diskDevice: [disk, cdrom], bus: [ide, scsi, virtio], model: [virtio]}}
            features:
              description: >-
                Each feature (C(gic), C(vmcoreinfo), C(genid), C(sev), C(sgx), C(hyperv) ...) with
                C(supported), its enums and its settings (SEV's C(cbitpos)).
              type: dict
              returned: always
"""

from ansible_collections.virt.libvirt.plugins.module_utils._capabilities import (
    capabilities_argument_spec, run_capabilities_facts_module,
)
from ansible_collections.virt.libvirt.plugins.module_utils._module import run_module_main


def main():
    run_module_main(lambda module: run_capabilities_facts_module(module.params), capabilities_argument_spec())


if __name__ == "__main__":
    main()
