#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: pool
short_description: Declare libvirt storage pools (directories, filesystems, NFS, LVM, disks, iSCSI, RBD) and converge them
version_added: 0.2.0
description:
  - Defines, builds, starts, stops, undefines and deletes libvirt storage pools in one declarative task.
  - A pool is declared with structured options, with a full pool document in O(xml), or both; the structured
    options win over the document. The declaration is compared with the pool's persistent definition field
    by field (sizes, permission modes and UUIDs normalised), never as text; options that are not given are
    not compared, and what the module does not model (C(<auth>), C(<adapter>), C(<initiator>) ...) is kept.
  - O(build=true) creates the pool's directory, or formats its source, when the pool is new or its directory
    is missing (also when it was removed behind libvirt's back - an active pool is then stopped, built and
    started again). A source that already holds a filesystem or volume group is never formatted unless
    O(overwrite=true).
  - Every input error fails the task naming the option, before anything on the host is changed.
  - The bulk form O(pools) converges many pools over one connection in one task.
author:
  - virt.libvirt developers (!UNKNOWN)
extends_documentation_fragment:
  - virt.libvirt.connection
attributes:
  check_mode:
    support: full
    description: Reports what would change (definition, build, start, stop, autostart, deletion) and changes nothing.
  diff_mode:
    support: full
    description: Returns the persistent definition before and after.
  idempotent:
    support: full
    description: A second identical run reports no change, whatever defaults libvirt added.
options:
  name:
    description:
      - Name of the pool. Must not contain C(/). Required unless O(pools) is given.
    type: str
  pools:
    description:
      - Bulk form. A list of pools, each a dictionary taking the same options as the single form (O(name)
        required in each, O(uri) and O(stop_on_error) only at task level). Task-level O(state), O(autostart),
        O(build), O(overwrite), O(delete) and O(force) apply to items that do not set them.
      - Mutually exclusive with O(name). Every item is converged and reported in RV(results); a failing item
        does not stop the others unless O(stop_on_error=true), and the task fails at the end naming every
        failed item.
    type: list
    elements: dict
  stop_on_error:
    description: With O(pools), stop at the first item that fails.
    type: bool
    default: false
  state:
    description:
      - V(present) defines the pool and leaves it running or stopped as it is.
      - V(active) defines and starts it; V(inactive) defines and stops it.
      - V(absent) stops and undefines it. Its storage (directory, filesystem, volume group) is kept unless
        O(delete=true). The other options may come along; they are checked as for any other state.
    type: str
    default: present
    choices: [present, active, inactive, absent]
  type:
    description:
      - The pool's backend, as libvirt's pool XML names it. Required for a new pool (or in O(xml)); the type of
        an existing pool cannot change.
      - V(dir) a directory; V(fs) a block device mounted on O(target.path); V(netfs) an NFS export mounted there;
        V(logical) an LVM volume group; V(disk) a partitioned disk; V(iscsi) and V(iscsi-direct) an iSCSI
        target; V(rbd) Ceph; and the other libvirt backends.
    type: str
    choices: [dir, fs, netfs, logical, disk, iscsi, iscsi-direct, scsi, mpath, rbd, sheepdog, gluster, zfs, vstorage]
  uuid:
    description: The pool's UUID, with or without dashes. The UUID of an existing pool cannot change.
    type: str
  target:
    description: Where the pool's volumes appear on the host.
    type: dict
    suboptions:
      path:
        description: The directory (V(dir)), the mount point (V(fs), V(netfs)) or the device directory (V(logical)). Absolute.
        type: str
      permissions:
        description: Owner, group, mode and security label the directory gets when it is built.
        type: dict
        suboptions:
          mode:
            description: Octal mode, for example V('0711').
            type: raw
          owner:
            description: Numeric user ID.
            type: int
          group:
            description: Numeric group ID.
            type: int
          label:
            description: SELinux label.
            type: str
  source:
    description: Where the pool's storage comes from (not used by V(dir) pools).
    type: dict
    suboptions:
      device:
        description: The block device (V(fs), V(logical), V(disk)) or the iSCSI target IQN (V(iscsi)).
        type: str
      host:
        description: The storage server (V(netfs), V(iscsi), V(rbd), V(gluster)).
        type: str
      port:
        description: The server's port.
        type: int
      dir:
        description: The exported directory (V(netfs)). Absolute.
        type: str
      name:
        description: The volume group (V(logical)), the Ceph pool (V(rbd)) or the Gluster volume.
        type: str
      format:
        description: The source's format, for example V(ext4) or V(auto) (V(fs)), V(nfs) (V(netfs)), V(lvm2), V(gpt).
        type: str
  autostart:
    description: Whether the pool starts when the host boots. Not changed when omitted.
    type: bool
  build:
    description:
      - Build the pool when it is new or its directory is missing - create the directory, format the device,
        create the volume group - as C(virsh pool-build) does.
      - A source that already holds data (a filesystem, a volume group) is kept as it is unless O(overwrite=true).
    type: bool
    default: false
  overwrite:
    description: With O(build=true), format the source even when it already holds a filesystem or volume group, destroying its data.
    type: bool
    default: false
  delete:
    description:
      - With O(state=absent), also delete the pool's storage (its directory, volume group ...), as
        C(virsh pool-delete) does. Only an empty pool's storage is deleted unless O(force=true).
    type: bool
    default: false
  force:
    description: With O(state=absent) and O(delete=true), delete every volume of the (active) pool first.
    type: bool
    default: false
  xml:
    description:
      - A full C(<pool>) document used as the base of the declared pool, for what the structured options do not
        cover (authentication, SCSI adapters, iSCSI initiators). The sizes a dumped document carries are ignored.
    type: str
notes:
  - Supports C(check_mode) and C(diff_mode). Use the action group C(virt.libvirt.libvirt) in C(module_defaults)
    to set O(uri) once.
  - A changed definition of an active pool takes effect when it starts again (RV(restart_required)).
seealso:
  - module: virt.libvirt.volume
  - module: virt.libvirt.domain
  - name: libvirt storage pool XML format
    description: The reference of the document O(xml) takes.
    link: https://libvirt.org/formatstorage.html
"""

EXAMPLES = r"""
- name: A directory pool for guest images, created, running and started at boot
  virt.libvirt.pool:
    name: guests
    type: dir
    target:
      path: /srv/guests
      permissions: {mode: "0711", owner: 0, group: 0}
    build: true
    state: active
    autostart: true

- name: A filesystem pool on a disk, formatted only if it holds no filesystem yet
  virt.libvirt.pool:
    name: fast
    type: fs
    source: {device: /dev/sdb1, format: ext4}
    target: {path: /srv/fast}
    build: true
    state: active

- name: An NFS export as a pool
  virt.libvirt.pool:
    name: shared
    type: netfs
    source: {host: nfs.example.com, dir: /export/images, format: nfs}
    target: {path: /var/lib/libvirt/shared}
    state: active

- name: An LVM volume group as a pool (libvirt creates the group when it builds the pool)
  virt.libvirt.pool:
    name: vg_guests
    type: logical
    source: {name: vg_guests, device: /dev/sdc, format: lvm2}
    target: {path: /dev/vg_guests}
    build: true
    state: active

- name: Every pool of the host in one task
  virt.libvirt.pool:
    state: active
    autostart: true
    build: true
    pools:
      - {name: images, type: dir, target: {path: /var/lib/libvirt/images}}
      - {name: isos, type: dir, target: {path: /srv/isos}}

- name: Remove a pool and its (empty) directory
  virt.libvirt.pool:
    name: isos
    state: absent
    delete: true
"""

RETURN = r"""
changed:
  description: Whether anything changed (or would change, in check mode).
  returned: always
  type: bool
changes:
  description: The names of the fields that changed, for example C(target.path), C(build), C(state), C(autostart), C(pool).
  returned: single form
  type: list
  elements: str
  sample: [pool, build, state, autostart]
differences:
  description: Each change with its value before and after.
  returned: single form
  type: list
  elements: dict
  sample: [{field: state, before: inactive, after: active}]
restart_required:
  description:
    - Single form - whether the active pool's definition changed, which libvirt applies when it starts again.
    - Bulk form - the names of the pools that must restart.
  returned: always
  type: raw
pool:
  description: The pool after the task (in check mode, as it would be).
  returned: single form
  type: dict
  contains:
    name: {description: Name., type: str, returned: always}
    uuid: {description: UUID (null for a pool check mode would define)., type: str, returned: when defined}
    type: {description: The pool's backend., type: str, returned: when defined}
    active: {description: Whether the pool is running., type: bool, returned: when defined}
    autostart: {description: Autostart flag., type: bool, returned: when defined}
    persistent: {description: Whether the pool has a persistent definition., type: bool, returned: when defined}
    path: {description: The target path., type: str, returned: when defined}
    capacity: {description: Size of the pool's storage in bytes (0 while inactive)., type: int, returned: when defined}
    allocation: {description: Bytes allocated to volumes., type: int, returned: when defined}
    available: {description: Bytes free for new volumes., type: int, returned: when defined}
    xml: {description: The persistent definition., type: str, returned: when defined}
results:
  description: Bulk form - one entry per item of O(pools), with its own C(name), C(changed), C(changes), C(failed), C(msg) and C(pool).
  returned: bulk form
  type: list
  elements: dict
"""

from ansible_collections.virt.libvirt.plugins.module_utils._module import run_module_main
from ansible_collections.virt.libvirt.plugins.module_utils._pool import (
    POOL_MUTUALLY_EXCLUSIVE, POOL_REQUIRED_ONE_OF, pool_argument_spec, run_pool_module,
)


def main():
    run_module_main(lambda module: run_pool_module(module.params, module.check_mode, module._diff),
                    pool_argument_spec(),
                    mutually_exclusive=POOL_MUTUALLY_EXCLUSIVE, required_one_of=POOL_REQUIRED_ONE_OF)


if __name__ == "__main__":
    main()
