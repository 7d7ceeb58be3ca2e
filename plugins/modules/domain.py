#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: domain
short_description: Declare libvirt guests (Xen PV, Xen HVM, KVM, QEMU) and converge them
version_added: 0.1.0
description:
  - Defines, changes, starts, pauses, shuts down, destroys and undefines libvirt guests.
  - A guest is declared with structured options, with a full domain document in O(xml), or both; the
    structured options are applied on top of the document.
  - The declared guest is compared with the guest's persistent definition field by field, after
    normalisation (memory units, MAC case, UUID dashes, the defaults libvirt adds), never as text. Only what
    is declared is compared; everything else in the definition, including XML the module does not model,
    is kept as it is.
  - Devices are matched by identity - disks by target device, interfaces by MAC address (else by type and
    source, in order), graphics by type, consoles by position. With O(purge_devices=false) undeclared
    devices are kept.
  - A change to a running (or paused) guest is written to its persistent definition and, where libvirt can
    apply it without a restart (O(live=true), the default), to the running guest in the same task - disks
    plugged in and out on virtio, scsi and usb buses, CD-ROM and floppy media inserted, changed and ejected,
    interfaces plugged in and out, moved to another network or bridge and their link set up or down, vCPUs
    online within O(max_vcpu), the balloon target O(current_memory), a graphical console's password. Everything
    else waits for a restart.
  - On every run the running guest is compared with its persistent definition, with the same identity and
    normalisation rules, whatever changed it (this run, an earlier one with O(restart=false), C(virsh define)).
    What differs is listed in RV(pending) with its reason, and RV(restart_required) is true; with
    O(restart=true) the guest is shut down and started again, once, and only when something is pending.
  - The bulk form O(domains) converges many guests over one connection in one task.
  - A task that fails after it wrote something (a definition written, then the start refused) reports
    RV(changed=true) and the written fields in RV(changes) along with the failure. A new guest whose first start
    fails is undefined again, so the task leaves nothing behind and reports no change; a rerun defines and starts
    it once the cause is fixed.
  - Warnings (shown by Ansible) name what libvirt accepts but cannot work, such as an interface on a network
    that does not exist.
author:
  - virt.libvirt developers (!UNKNOWN)
extends_documentation_fragment:
  - virt.libvirt.connection
attributes:
  check_mode:
    support: full
    description: Reports what would change, including power state changes, and changes nothing.
  diff_mode:
    support: full
    description: Returns the persistent definition before and after, with passwords masked.
  idempotent:
    support: full
    description: A second identical run reports no change, whatever defaults libvirt added.
options:
  name:
    description:
      - Name of the guest. Must not contain C(/) or control characters.
      - Required unless O(domains) is given.
    type: str
  domains:
    description:
      - Bulk form. A list of guests, each a dictionary taking the same options as the single form (O(name)
        required in each, O(uri) and O(stop_on_error) only at task level), checked like them. Task-level
        O(state), O(purge_devices), O(restart), O(live), O(force), O(shutdown_timeout), O(remove_storage) and
        O(autostart) apply to items that do not set them.
      - Mutually exclusive with O(name). One connection; every item is converged and reported in
        RV(results); a failing item does not stop the others unless O(stop_on_error=true), and the task
        fails at the end naming every failed item. The items' warnings are the task's, each prefixed with the
        item's name.
    type: list
    elements: dict
  stop_on_error:
    description: With O(domains), stop at the first item that fails.
    type: bool
    default: false
  state:
    description:
      - V(present) defines the guest and leaves its power state as it is.
      - V(running) defines and starts (or resumes) it. V(paused) defines it and leaves it paused (started
        paused when it was off). A guest this task defined and could not start is undefined again.
      - V(shutdown) asks the guest to shut down (ACPI) and waits O(shutdown_timeout) seconds; then the task
        fails unless O(force=true), which powers it off.
      - V(destroyed) powers it off at once.
      - V(absent) powers it off and undefines it. Disk images are kept unless O(remove_storage=true). The
        guest's other options may come along (the same declaration with only its state changed); they are
        checked as for any other state, and a bad one fails the task before anything is removed.
    type: str
    default: present
    choices: [present, running, paused, shutdown, destroyed, absent]
  autostart:
    description: Whether the guest starts when the host boots. Not changed when omitted.
    type: bool
  xml:
    description:
      - A full C(<domain>) document used as the base of the declared guest. Runtime data (the C(id)
        attribute) is ignored. The structured options are applied on top of it.
      - The libvirt 0.2 spelling C(<source dev='br0'/>) of a bridge interface is accepted and written as
        C(<source bridge='br0'/>).
    type: str
  type:
    description: The hypervisor type (C(<domain type=...>)). New guests default to V(kvm).
    type: str
    choices: [xen, kvm, qemu, kqemu, lxc, uml, openvz, test, vmware, hyperv, vbox, phyp, parallels, bhyve, vz, hvf, none]
  uuid:
    description: The guest's UUID, with or without dashes. The UUID of an existing guest cannot change.
    type: str
  memory:
    description:
      - Maximum memory. An integer is in KiB; a string is a number with its unit written right after it,
        without a space (V(512MiB), V(2GiB), V(1000MB), V(2G)), as libvirt reads them (K/M/G and KiB/MiB/GiB are
        powers of 1024, KB/MB/GB of 1000). V(2 GB) with a space is refused. Required for a new guest.
    type: raw
  current_memory:
    description:
      - Memory at start (C(<currentMemory>)), same format as O(memory).
      - At most O(memory) (or the guest's memory when O(memory) is not given); libvirt would silently lower a
        larger value, so it is refused.
    type: raw
  vcpu:
    description:
      - Number of virtual CPUs. New guests default to 1.
      - Without O(max_vcpu), the guest has this many, all online (C(<vcpu>N</vcpu>)); a change waits for a restart.
      - With O(max_vcpu), the number online (C(<vcpu current=...>)), at most O(max_vcpu); a running guest gets
        the change live.
    type: int
  max_vcpu:
    description:
      - The most vCPUs the guest can have online (C(<vcpu>)), the ceiling O(vcpu) is changed within while the
        guest runs. A change of the ceiling itself waits for a restart.
      - When O(vcpu) is not given, an existing guest keeps the number it has online (at most O(max_vcpu)); a new
        one has them all online.
    type: int
  os:
    description: The C(<os>) block.
    type: dict
    suboptions:
      type:
        description: V(hvm) for fully virtualized guests, V(linux) (or V(xen)) for Xen paravirtualized ones.
        type: str
        choices: [hvm, linux, xen, xenpvh, exe, uml]
      arch:
        description: CPU architecture to emulate, for example V(x86_64) or V(i686).
        type: str
      machine:
        description: Machine type, for example V(pc) or V(q35).
        type: str
      kernel:
        description: Path of the kernel on the host (direct kernel boot, Xen PV).
        type: str
      initrd:
        description: Path of the initial ramdisk on the host.
        type: str
      cmdline:
        description: Kernel command line, kept exactly as given.
        type: str
      root:
        description: The root filesystem from the guest's view (Xen PV), for example V(/dev/sda1).
        type: str
      loader:
        description: Boot loader or firmware, for example V(/usr/lib/xen/boot/hvmloader).
        type: str
      boot:
        description: Boot devices in order.
        type: list
        elements: str
        choices: [fd, hd, cdrom, network]
  features:
    description:
      - The flags in C(<features>), for example V([pae, acpi, apic]). The list is the whole set - flags not
        listed are removed, listed ones already present keep what they carry.
      - A new x86 HVM guest that declares no features (here or as C(<features>) in O(xml)) gets V([acpi, apic]),
        as virt-install gives it (without ACPI, QEMU runs it with C(-no-acpi) and O(state=shutdown) cannot
        reach it). x86 HVM is O(type) V(kvm), V(qemu) or V(xen) with O(os.type=hvm) and O(os.arch) V(x86_64) or
        V(i686) (or no O(os.arch) on an x86 host). Declare O(features) to choose, V([]) for none. Existing guests
        are never given these defaults.
    type: list
    elements: str
  on_poweroff:
    description: What happens when the guest powers off.
    type: str
    choices: [destroy, restart, preserve, rename-restart]
  on_reboot:
    description: What happens when the guest reboots.
    type: str
    choices: [destroy, restart, preserve, rename-restart]
  on_crash:
    description: What happens when the guest crashes.
    type: str
    choices: [destroy, restart, preserve, rename-restart, coredump-destroy, coredump-restart]
  emulator:
    description: Path of the device model (C(<emulator>)), for example V(/usr/bin/qemu-system-x86_64).
    type: str
  disks:
    description: Disks, matched with the existing ones by O(disks[].target).
    type: list
    elements: dict
    suboptions:
      type:
        description:
          - V(file) for an image file, V(block) for a host block device, V(volume) for a volume of a libvirt
            storage pool (implied by O(disks[].volume)).
        type: str
        choices: [file, block, dir, network, volume, nvme, vhostuser]
      device:
        description: What the guest sees.
        type: str
        choices: [disk, cdrom, floppy, lun]
      source:
        description:
          - The image file or block device on the host.
          - A V(cdrom) or V(floppy) declared with no O(disks[].source) (or with V("")) has no medium - its medium is
            ejected, from the running guest too. V("") with no O(disks[].device) ejects the medium of the stored
            CD-ROM or floppy of that target, and is refused for a hard disk.
        type: str
      target:
        description: The device name in the guest (V(hda), V(sda1), V(vda), V(xvdb), V(fda)).
        type: str
        required: true
      bus:
        description: The bus; libvirt derives it from O(disks[].target) when omitted.
        type: str
        choices: [ide, scsi, virtio, xen, usb, sata, sd, fdc]
      readonly:
        description: Read-only device.
        type: bool
      driver_name:
        description: Driver name, for example V(qemu).
        type: str
      driver_type:
        description:
          - Image format, for example V(raw) or V(qcow2). A disk on a volume takes the volume's format when
            omitted (QEMU would read an unnamed format as raw).
        type: str
      volume:
        description:
          - The storage volume the disk is on (C(<disk type='volume'><source pool= volume=>)), with
            O(disks[].pool); instead of O(disks[].source). Made with M(virt.libvirt.volume).
          - A volume that does not exist fails the task, naming the pool and the volume, before anything is
            defined (in check mode it is a warning, since an earlier task may only have predicted creating it).
        type: str
      pool:
        description: The storage pool of O(disks[].volume).
        type: str
  interfaces:
    description:
      - Network interfaces, matched by O(interfaces[].mac), else by type and source in order.
      - V(user) is QEMU's userspace SLIRP stack; V(network) a libvirt virtual network; V(bridge) a host
        bridge; V(ethernet) a tun device with an optional script; V(mcast) a multicast tunnel; V(server) and
        V(client) a TCP tunnel.
    type: list
    elements: dict
    suboptions:
      type:
        description: The kind of interface.
        type: str
        required: true
        choices: [user, network, bridge, ethernet, mcast, server, client, udp, direct, hostdev, vhostuser, vdpa, "null", vds]
      network:
        description:
          - The libvirt network (type V(network)). One that does not exist is accepted, as libvirt accepts it,
            with a warning; the guest cannot start until the network exists.
        type: str
      bridge:
        description: The host bridge (type V(bridge)), for example V(xenbr0) or V(br0).
        type: str
      dev:
        description: The host device (type V(direct)).
        type: str
      address:
        description:
          - Multicast group (V(mcast)) or server address (V(client), V(server)), an IPv4 or IPv6 address or a
            host name.
        type: str
      port:
        description: Port of the tunnel (V(mcast), V(server), V(client)).
        type: int
      mac:
        description:
          - MAC address, any case, colons or dashes. Must be unicast, and not used by another interface of the
            guest (in O(interfaces) or in O(xml)).
        type: str
      target:
        description:
          - Name of the host tap device (at most 15 characters), for example V(web1-eth0).
          - Names starting with C(vnet), C(macvtap) or C(macvlan) are the ones libvirt generates and are refused;
            in O(xml) they are ignored, as libvirt ignores them.
        type: str
      script:
        description: Script run to plug the device in (Xen V(vif-bridge), QEMU V(/etc/qemu-ifup)).
        type: str
      model:
        description: The device model the guest sees, for example V(virtio), V(e1000), V(rtl8139).
        type: str
      ip:
        description: The guest's IP address (C(<ip address=...>)), used by Xen scripts. An IPv4 or IPv6 address.
        type: str
      link:
        description:
          - The link state the guest sees (C(<link state=...>)), as if a cable were plugged in or pulled; the interface
            stays plugged. Changed live on a running guest. Not changed when omitted.
        type: str
        choices: [up, down]
  consoles:
    description:
      - Consoles, matched by position. The tty of a V(pty) console is allocated by the host when the guest
        starts; it is returned, not configured.
    type: list
    elements: dict
    suboptions:
      type:
        description: Console type; V(pty) when omitted.
        type: str
        choices: [pty, dev, file, "null", vc, stdio, tcp, udp, unix, spicevmc, pipe, spiceport, nmdm, qemu-vdagent, dbus]
      tty:
        description: For type V(dev), the host device path.
        type: str
      target_type:
        description: V(serial), V(virtio), V(xen) ...
        type: str
      target_port:
        description: Target port number.
        type: int
  graphics:
    description: Graphical consoles, matched by type.
    type: list
    elements: dict
    suboptions:
      type:
        description: V(vnc), V(sdl), V(spice) ...
        type: str
        required: true
        choices: [vnc, sdl, spice, rdp, desktop, egl-headless, dbus]
      port:
        description: Fixed TCP port; V(-1) picks a free port (the same as O(graphics[].autoport=true)).
        type: int
      autoport:
        description: Pick a free port when the guest starts.
        type: bool
      listen:
        description: Address to listen on, for example V(127.0.0.1).
        type: str
      password:
        description: Password for the console. Never logged; masked in results and diffs.
        type: str
  purge_devices:
    description:
      - When true, devices of a declared kind (O(disks), O(interfaces), O(consoles), O(graphics)) that are
        not declared are removed. When false they are kept.
    type: bool
    default: false
  restart:
    description:
      - When the running guest differs from its persistent definition in something libvirt cannot change live
        (RV(pending) is not empty - a change of this task, of an earlier one, or made outside Ansible), shut it down
        (as O(state=shutdown), honouring O(shutdown_timeout) and O(force)) and start it again. A change that can go
        live is not applied live first - the restart applies everything at once.
      - When the guest does not stop in time (and O(force=false)), the task fails and puts the previous
        definition back, so nothing is half applied; run it again with O(force=true).
    type: bool
    default: false
  live:
    description:
      - With V(true), a change to a running or paused guest is also applied to the running guest where libvirt can
        (see the description); what it cannot apply, or refuses, or what the guest does not acknowledge (a disk
        unplug a guest without an operating system never confirms) is in RV(pending) with the reason, and the task
        does not fail for it.
      - With V(false), changes are written to the persistent definition only, and are in RV(pending) until the
        guest restarts.
    type: bool
    default: true
  force:
    description: Power the guest off when it does not shut down within O(shutdown_timeout).
    type: bool
    default: false
  shutdown_timeout:
    description: Seconds to wait for a graceful shutdown.
    type: int
    default: 120
  remove_storage:
    description:
      - With O(state=absent), also delete the guest's writable hard-disk images (never CD-ROM, floppy or
        read-only media), through libvirt's storage pools when the image belongs to one, and its UEFI
        variable store (NVRAM), which is otherwise kept.
      - Disks on storage volumes (O(disks[].volume)) are deleted through their pool, CD-ROMs included (a
        guest's cloud-init disk is its own). A base image the guest's volume is a copy-on-write clone of is not
        a disk of the guest and is kept.
      - An image or volume that any other guest on the connection uses is never deleted - it is kept, listed in
        RV(kept_storage) and warned about, and the guest is still removed. Used means named as a disk source by
        the other guest's definition, persistent or transient, or by what it runs with (with the backing files
        libvirt reports for a running guest), under any path that resolves to the same file.
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff_mode). Use the action group C(virt.libvirt.libvirt) in
    C(module_defaults) to set O(uri) once.
seealso:
  - module: virt.libvirt.network
  - module: virt.libvirt.capabilities_facts
  - name: libvirt domain XML format
    description: The reference of the document O(xml) takes.
    link: https://libvirt.org/formatdomain.html
"""

EXAMPLES = r"""
- name: A Xen paravirtualized guest (kernel and initrd in Domain 0)
  virt.libvirt.domain:
    uri: xen:///system
    name: fc4
    type: xen
    memory: 131072
    vcpu: 1
    os:
      type: linux
      kernel: /boot/vmlinuz-2.6.15-1.43_FC5guest
      initrd: /boot/initrd-2.6.15-1.43_FC5guest.img
      root: /dev/sda1
      cmdline: " ro selinux=0 3"
    disks:
      - type: file
        source: /u/fc4.img
        target: sda1
    interfaces:
      - type: bridge
        bridge: xenbr0
        mac: aa:00:00:00:00:11
        script: /etc/xen/scripts/vif-bridge
    consoles:
      - type: pty
    state: running

- name: A Xen fully virtualized (HVM) guest
  virt.libvirt.domain:
    uri: xen:///system
    name: fv0
    type: xen
    uuid: 4dea22b31d52d8f32516782e98ab3fa0
    memory: 512MiB
    vcpu: 1
    os:
      type: hvm
      loader: /usr/lib/xen/boot/hvmloader
      boot: [hd]
    features: [pae, acpi, apic]
    on_poweroff: destroy
    on_reboot: restart
    on_crash: restart
    emulator: /usr/lib/xen/bin/qemu-dm
    disks:
      - {type: file, source: /root/fv0, target: hda}
      - {type: file, device: cdrom, source: /root/fc5-x86_64-boot.iso, target: hdc, readonly: true}
      - {type: file, device: floppy, source: /root/fd.img, target: fda}
    interfaces:
      - {type: bridge, bridge: xenbr0, mac: "00:16:3e:5d:c7:9e", script: vif-bridge}
    graphics:
      - {type: vnc, port: 5904}

- name: A KVM guest on the default NAT network, running
  virt.libvirt.domain:
    name: demo2
    type: kvm
    uuid: 4dea24b3-1d52-d8f3-2516-782e98a23fa0
    memory: 128MiB
    vcpu: 1
    os:
      type: hvm
    emulator: /usr/bin/qemu-system-x86_64
    disks:
      - {type: file, device: disk, source: /var/lib/libvirt/images/demo2.img, target: hda}
    interfaces:
      - {type: network, network: default, model: virtio}
    graphics:
      - {type: vnc, port: -1, listen: 127.0.0.1}
    state: running

- name: A QEMU (emulated i686) guest booting from CD-ROM
  virt.libvirt.domain:
    name: QEmu-fedora-i686
    type: qemu
    uuid: c7a5fdbd-cdaf-9455-926a-d65c16db1809
    memory: 219200
    current_memory: 219200
    vcpu: 2
    os:
      type: hvm
      arch: i686
      machine: pc
      boot: [cdrom]
    emulator: /usr/bin/qemu-system-i386
    disks:
      - {type: file, device: cdrom, source: /home/user/boot.iso, target: hdc, readonly: true}
      - {type: file, device: disk, source: /home/user/fedora.img, target: hda}
    interfaces:
      - {type: network, network: default}
    graphics:
      - {type: vnc, port: -1}

- name: From a full XML document, with one structured change on top
  virt.libvirt.domain:
    name: web1
    xml: "{{ lookup('ansible.builtin.file', 'web1.xml') }}"
    memory: 2GiB

- name: Change a running guest and restart it so the change takes effect
  virt.libvirt.domain:
    name: web1
    vcpu: 4
    restart: true
    shutdown_timeout: 300
    force: true

- name: A second data disk, a new installer ISO and a vCPU more, all live, no restart
  virt.libvirt.domain:
    name: web1
    max_vcpu: 8
    vcpu: 3
    disks:
      - {source: /var/lib/libvirt/images/web1-data.qcow2, target: vdb, bus: virtio, driver_type: qcow2}
      - {device: cdrom, source: /var/lib/libvirt/images/debian-12.iso, target: sda, bus: sata}
  register: web1

- name: Restart only the guests whose running configuration lags behind their definition
  virt.libvirt.domain:
    name: web1
    restart: true
  when: web1.restart_required

- name: Eject the CD-ROM
  virt.libvirt.domain:
    name: web1
    disks:
      - {device: cdrom, target: sda}

- name: Converge a whole host in one task
  virt.libvirt.domain:
    state: running
    domains:
      - {name: web1, memory: 1GiB, os: {type: hvm}, interfaces: [{type: network, network: default}]}
      - {name: web2, memory: 1GiB, os: {type: hvm}, interfaces: [{type: network, network: default}]}

- name: Remove a guest and its writable disk images
  virt.libvirt.domain:
    name: old-guest
    state: absent
    remove_storage: true
"""

RETURN = r"""
changed:
  description:
    - Whether anything changed (or would change, in check mode). True also on a failed task that wrote something
      before it failed, with the written fields in RV(changes).
  returned: always
  type: bool
changes:
  description: The names of the fields that changed, for example C(memory), C(interfaces[52:54:00:12:34:56].model), C(state).
  returned: single form
  type: list
  elements: str
  sample: [memory, "disks[hdb]", state]
differences:
  description: Each change with its value before and after (passwords masked).
  returned: single form
  type: list
  elements: dict
  sample: [{field: memory, before: 524288, after: 1048576}]
restart_required:
  description:
    - Single form - whether the running guest differs from its persistent definition after the task (RV(pending)
      is not empty), so it must restart for the definition to take effect, whichever run changed it.
    - Bulk form - the names of the guests that must restart.
  returned: always
  type: raw
live_changes:
  description:
    - The changes applied to the running guest (or, in check mode, that would be), named as in RV(changes); a device
      is named by its identity in the stored definition (the MAC address libvirt gave a new interface).
  returned: single form
  type: list
  elements: str
  sample: ["disks[vdb]", "disks[hdc].source", "interfaces[52:54:00:4a:6a:23]", vcpu]
pending:
  description:
    - Where the running guest differs from its persistent definition after the task (in check mode, would differ),
      field by field with the identity and normalisation rules of the comparison; runtime values (autoport ports,
      tap names, aliases, the balloon's current size, pty paths) are no difference. Each with the reason it waits for
      a restart. Empty when the guest is not running.
  returned: single form
  type: list
  elements: dict
  contains:
    field: {description: "The field, as RV(changes) names it (C(os.machine), C(interfaces[52:54:00:4a:6a:23].model)).", type: str, returned: always}
    reason: {description: Why it is not live., type: str, returned: always}
  sample: [{field: os.machine, reason: "libvirt cannot change it while the guest runs: it takes effect when the guest restarts"}]
domain:
  description: The guest after the task (in check mode, as it would be).
  returned: single form
  type: dict
  contains:
    name: {description: Name., type: str, returned: always}
    uuid: {description: UUID., type: str, returned: when defined}
    id: {description: "Runtime id, null when not running.", type: int, returned: when defined}
    state: {description: "Power state: running, paused, shutoff, absent ...", type: str, returned: always}
    autostart: {description: Autostart flag., type: bool, returned: when defined}
    persistent: {description: Whether the guest has a persistent definition., type: bool, returned: when defined}
    xml: {description: "The persistent definition, passwords masked.", type: str, returned: when defined}
removed_storage:
  description:
    - Disk images deleted (or that would be) with O(remove_storage=true) - only images that existed; images that
      another guest uses are in RV(kept_storage) instead. Volumes as C(pool/volume).
  returned: when O(state=absent) and the guest existed
  type: list
  elements: str
kept_storage:
  description: Disk images O(remove_storage=true) kept because other guests use them.
  returned: when O(remove_storage=true) kept an image
  type: list
  elements: dict
  contains:
    path: {description: The image as the removed guest named it., type: str, returned: always}
    used_by: {description: The names of the guests that use it., type: list, elements: str, returned: always}
  sample: [{path: /var/lib/libvirt/images/base.img, used_by: [web2]}]
results:
  description:
    - Bulk form - one entry per item of O(domains), with its own C(name), C(changed), C(changes),
      C(restart_required), C(live_changes), C(pending), C(failed), C(msg), C(domain), C(warnings).
    - When the task fails, C(domain.xml) is left out of every entry, so that the messages stay readable.
  returned: bulk form
  type: list
  elements: dict
"""

from ansible_collections.virt.libvirt.plugins.module_utils._domain import (
    DOMAIN_MUTUALLY_EXCLUSIVE, DOMAIN_REQUIRED_ONE_OF, DomainModule, domain_argument_spec, run_domain_module,
)
from ansible_collections.virt.libvirt.plugins.module_utils._module import run_module_main


def main():
    run_module_main(lambda module: run_domain_module(module.params, module.check_mode, module._diff),
                    domain_argument_spec(), module_class=DomainModule,
                    mutually_exclusive=DOMAIN_MUTUALLY_EXCLUSIVE, required_one_of=DOMAIN_REQUIRED_ONE_OF)


if __name__ == "__main__":
    main()
