#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: volume
short_description: Declare libvirt storage volumes - empty images, copy-on-write clones, full copies, uploaded base images, cloud-init disks
version_added: 0.2.0
description:
  - Creates, grows and deletes volumes of a libvirt storage pool in one declarative task.
  - A new volume is empty (O(capacity)), a copy-on-write clone of a base image (O(backing)), a full copy of
    another volume (O(clone)), a file of the managed host streamed into the pool (O(upload)), or a cloud-init
    NoCloud disk made from O(cloud_init).
  - An existing volume is compared with the declaration. Its capacity only grows (a smaller O(capacity) is
    refused, never truncated); its content is never rewritten unless declared (a changed O(cloud_init), or
    O(upload) with O(force=true) when the file differs). A different format or backing is refused, since
    libvirt cannot change it in place.
  - O(state=absent) deletes the volume; one that is the backing of another volume or a disk of a defined guest
    is refused, naming them, unless O(force=true).
  - Every input error fails the task naming the option, before anything on the host is changed.
  - The bulk form O(volumes) converges many volumes over one connection, refreshing each pool once.
author:
  - virt.libvirt developers (!UNKNOWN)
extends_documentation_fragment:
  - virt.libvirt.connection
requirements:
  - pycdlib, for O(cloud_init) only (the C(libvirt_host) role installs it)
attributes:
  check_mode:
    support: full
    description: Reports what would change (creation, growth, rewritten cloud-init disk or upload, deletion) and changes nothing.
  diff_mode:
    support: full
    description: Returns the volume's document before and after.
  idempotent:
    support: full
    description: A second identical run reports no change.
options:
  name:
    description: Name of the volume in its pool, for example V(web1.qcow2). Required unless O(volumes) is given.
    type: str
  pool:
    description:
      - The (active) storage pool the volume is in. Required; in the bulk form it may be given once at task
        level for the items that do not name their own.
    type: str
  volumes:
    description:
      - Bulk form. A list of volumes, each a dictionary taking the same options as the single form (O(name)
        required in each, O(uri) and O(stop_on_error) only at task level). Task-level O(pool), O(state),
        O(force) and O(wipe) apply to items that do not set them.
      - Mutually exclusive with O(name). Every item is converged and reported in RV(results); a failing item
        does not stop the others unless O(stop_on_error=true).
    type: list
    elements: dict
  stop_on_error:
    description: With O(volumes), stop at the first item that fails.
    type: bool
    default: false
  state:
    description: V(present) creates the volume (or grows it, or rewrites declared content); V(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
  capacity:
    description:
      - The size the guest sees, as for a guest's memory - V(10GiB), V(512MiB), V(1000MB) - or a bare integer
        in bytes (as libvirt's volume XML counts).
      - Required for a new empty volume; a clone, a copy and an upload default to their source's size.
      - An existing volume smaller than this is grown; a smaller value than the volume's is refused.
    type: raw
  allocation:
    description: Bytes allocated when the volume is created (V(0) for a sparse file). Used at creation only.
    type: raw
  format:
    description:
      - The image format, for example V(qcow2) or V(raw) (the default; a clone by O(backing) defaults to V(qcow2)).
      - Not used for volumes that are not files (logical volumes, partitions). An existing volume's format
        cannot change.
    type: str
    choices: [raw, dir, bochs, cloop, dmg, iso, vpc, vdi, fat, vhd, ploop, cow, qcow, qcow2, qed, vmdk]
  backing:
    description:
      - Make the volume a copy-on-write clone (a qcow2 overlay) of a base image - another volume (of any
        pool) or a path. Writes go to the new volume; the base stays untouched.
    type: dict
    suboptions:
      volume:
        description: The base volume.
        type: str
      pool:
        description: The pool of O(backing.volume), when it is not O(pool).
        type: str
      path:
        description: The base image's path, instead of O(backing.volume).
        type: str
      format:
        description: The base image's format; read from the volume or the file when omitted.
        type: str
        choices: [raw, dir, bochs, cloop, dmg, iso, vpc, vdi, fat, vhd, ploop, cow, qcow, qcow2, qed, vmdk]
  clone:
    description: Make the volume a full copy of another volume (C(virsh vol-clone)), at creation.
    type: dict
    suboptions:
      volume:
        description: The volume to copy.
        type: str
        required: true
      pool:
        description: Its pool, when it is not O(pool).
        type: str
  upload:
    description:
      - A file on the managed host streamed into the new volume (a base image, say). Its format is read from
        the file, and checked against O(format) when given.
      - An existing volume's content is rewritten only with O(force=true), and only when it differs from the file.
    type: path
  cloud_init:
    description:
      - Make the volume a cloud-init NoCloud disk - an ISO 9660 image labelled C(cidata) - holding these files.
        Each is a YAML document as a string, or a dictionary (written as JSON, which YAML reads; user and vendor
        data get the C(#cloud-config) line).
      - When a file differs from what the volume holds, the disk is rewritten (reported); the same content is no change.
    type: dict
    suboptions:
      user_data:
        description: C(user-data). An empty cloud-config when omitted.
        type: raw
      meta_data:
        description: C(meta-data). C(instance-id) set to the volume's name without its extension when omitted.
        type: raw
      network_config:
        description: C(network-config) (network configuration version 1 or 2).
        type: raw
      vendor_data:
        description: C(vendor-data).
        type: raw
  permissions:
    description: Owner, group, mode and label of a new volume's file. Used at creation only (QEMU's dynamic ownership changes the owner while a guest runs).
    type: dict
    suboptions:
      mode:
        description: Octal mode, for example V('0600').
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
  xml:
    description: A full C(<volume>) document used as the base of a new volume (encryption, compat, features), with the structured options over it.
    type: str
  force:
    description:
      - With O(state=absent), delete a volume that backs another volume or is a disk of a defined guest.
      - With O(upload), rewrite an existing volume whose content differs from the file.
    type: bool
    default: false
  wipe:
    description: With O(state=absent), overwrite the volume's data with zeros before deleting it.
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff_mode). Use the action group C(virt.libvirt.libvirt) in C(module_defaults)
    to set O(uri) once.
seealso:
  - module: virt.libvirt.pool
  - module: virt.libvirt.domain
  - name: libvirt storage volume XML format
    description: The reference of the document O(xml) takes.
    link: https://libvirt.org/formatstorage.html
"""

EXAMPLES = r"""
- name: A base image uploaded once from the managed host
  virt.libvirt.volume:
    pool: guests
    name: debian-12-base.qcow2
    upload: /srv/images/debian-12-genericcloud-amd64.qcow2

- name: A 20 GiB copy-on-write clone of it per guest
  virt.libvirt.volume:
    pool: guests
    name: web1.qcow2
    backing: {volume: debian-12-base.qcow2}
    capacity: 20GiB

- name: A cloud-init disk for the guest
  virt.libvirt.volume:
    pool: guests
    name: web1-cidata.iso
    cloud_init:
      meta_data: {instance-id: web1, local-hostname: web1}
      user_data:
        users:
          - name: admin
            ssh_authorized_keys: ["{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"]
            sudo: ALL=(ALL) NOPASSWD:ALL

- name: An empty raw data disk, grown later by raising capacity
  virt.libvirt.volume:
    pool: guests
    name: db1-data.img
    format: raw
    capacity: 100GiB

- name: A full copy of a volume
  virt.libvirt.volume:
    pool: guests
    name: golden-copy.qcow2
    clone: {volume: debian-12-base.qcow2}

- name: Many volumes of one pool in one task
  virt.libvirt.volume:
    pool: guests
    volumes:
      - {name: app1.qcow2, backing: {volume: debian-12-base.qcow2}}
      - {name: app2.qcow2, backing: {volume: debian-12-base.qcow2}}
      - {name: scratch.img, capacity: 4GiB}

- name: Delete a volume, zeroing it first
  virt.libvirt.volume:
    pool: guests
    name: scratch.img
    state: absent
    wipe: true
"""

RETURN = r"""
changed:
  description: Whether anything changed (or would change, in check mode).
  returned: always
  type: bool
changes:
  description: The names of the fields that changed - C(volume) (created or deleted), C(capacity), C(content), C(cloud_init.user-data) ...
  returned: single form
  type: list
  elements: str
  sample: [capacity]
differences:
  description: Each change with its value before and after (file contents as sha256 digests).
  returned: single form
  type: list
  elements: dict
  sample: [{field: capacity, before: 10 GiB, after: 20 GiB}]
restart_required:
  description: Bulk form - always an empty list (volumes need no restart).
  returned: bulk form
  type: list
  elements: str
volume:
  description: The volume after the task (in check mode, as it would be).
  returned: single form
  type: dict
  contains:
    name: {description: Name., type: str, returned: always}
    pool: {description: Its pool., type: str, returned: when present}
    path: {description: Its path on the host (null for a volume check mode would create)., type: str, returned: when present}
    format: {description: Its format., type: str, returned: when present}
    capacity: {description: Its size in bytes., type: int, returned: when present}
    allocation: {description: Bytes allocated on the host., type: int, returned: when present}
    backing: {description: "Path of its backing image (null: none).", type: str, returned: when present}
    xml: {description: Its document., type: str, returned: when present}
results:
  description: Bulk form - one entry per item of O(volumes), with its own C(name), C(changed), C(changes), C(failed), C(msg) and C(volume).
  returned: bulk form
  type: list
  elements: dict
"""

from ansible_collections.virt.libvirt.plugins.module_utils._module import run_module_main
from ansible_collections.virt.libvirt.plugins.module_utils._volume import (
    VOLUME_MUTUALLY_EXCLUSIVE, VOLUME_REQUIRED_ONE_OF, run_volume_module, volume_argument_spec,
)


def main():
    run_module_main(lambda module: run_volume_module(module.params, module.check_mode, module._diff),
                    volume_argument_spec(),
                    mutually_exclusive=VOLUME_MUTUALLY_EXCLUSIVE, required_one_of=VOLUME_REQUIRED_ONE_OF)


if __name__ == "__main__":
    main()
