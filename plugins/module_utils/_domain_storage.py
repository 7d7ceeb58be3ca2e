# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""A guest's storage: disks declared on storage volumes (checked before anything is defined), and the disk
images ``remove_storage`` deletes with the guest (never one another guest uses).

Imported only by a task that declares a disk on a volume or removes a guest with ``remove_storage``.
"""
from __future__ import annotations

import os

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    is_libvirt_error, libvirt, translate_libvirt_errors, translated_error,
)
from ansible_collections.virt.libvirt.plugins.module_utils._domain_model import removable_storage, removable_volumes
from ansible_collections.virt.libvirt.plugins.module_utils._errors import VirtLibvirtError

# Formats a volume disk must name in <driver type>: QEMU reads an unnamed one as raw (format probing is off).
_IMAGE_FORMATS = ("qcow2", "qcow", "qed", "vmdk", "vpc", "vdi")


def check_disk_volumes(connection, declared, check_mode):
    """Every disk declared on a volume names a volume that exists, before anything is defined; the disk takes
    the volume's image format when it declares none. In check mode a missing volume is a warning (a task
    before this one may only have predicted creating it)."""
    warnings = []
    for disk in declared.devices.get("disks") or []:
        if disk.source_volume is None:
            continue
        option = disk.option
        pool = connection.lookup("pool", disk.source_pool, option=option + ".pool")
        volume = None
        if pool is not None:
            with translate_libvirt_errors("reading the storage pool %s" % disk.source_pool, option=option + ".pool"):
                active = pool.isActive()
            if active:
                volume = connection.lookup("volume", disk.source_volume, parent=pool, option=option + ".volume")
        if volume is None:
            message = "the volume %s does not exist in the storage pool %s%s" % (
                disk.source_volume, disk.source_pool, "" if pool is not None else " (there is no such pool)")
            if not check_mode:
                raise VirtLibvirtError(message, option=option + ".volume")
            warnings.append("%s: %s" % (option + ".volume", message))
            continue
        if disk.driver_type is None:
            with translate_libvirt_errors("reading the volume %s" % disk.source_volume, option=option + ".volume"):
                image = xm.parse_xml(volume.XMLDesc(0), "volume").find("target/format")
            if image is not None and image.get("type") in _IMAGE_FORMATS:
                disk.settle("driver_type", image.get("type"))
    return warnings


class StorageRemoval:
    """What ``remove_storage`` deletes with the guest ``domain``: its writable disk images and volumes that
    exist and no other guest uses, each with the call that deletes it (``removable``); those another guest uses
    (``kept``, also warned about), which are never deleted. Decided before anything is removed."""

    def __init__(self, connection, domain, definition, option, warnings):
        self.connection = connection
        self.option = option
        self.warnings = warnings
        self.removable, self.kept = [], []
        paths = removable_storage(definition)
        volumes = removable_volumes(definition)
        used_by = _disk_users(connection, domain) if paths or volumes else {}
        for pool_name, volume_name in volumes:
            # A disk on a storage volume is deleted through its pool, under the same rule as an image.
            volume = self._volume_of(pool_name, volume_name)
            if volume is None:
                continue
            label = "%s/%s" % (pool_name, volume_name)
            with translate_libvirt_errors("reading the volume %s" % label, option=option):
                path = volume.path()
            if not self._kept(used_by, path, label, "volume"):
                self.removable.append((label, self._volume_remover(volume, "volume %s" % label)))
        for path in paths:
            if self._kept(used_by, path, path, "disk image"):
                continue
            remover = self._file_remover(path)
            if remover is not None:
                self.removable.append((path, remover))

    def _kept(self, used_by, path, label, noun):
        users = sorted(used_by.get(same_file_key(self.connection, path), ()))
        if not users:
            return False
        self.kept.append({"path": label, "used_by": users})
        self.warnings.append("%s: the %s %s was kept: the guest%s %s use%s it" % (
            self.option, noun, label, "s" if len(users) > 1 else "", ", ".join(users), "" if len(users) > 1 else "s"))
        return True

    def _volume_of(self, pool_name, volume_name):
        pool = self.connection.lookup("pool", pool_name, option=self.option)
        if pool is None:
            return None
        return self.connection.lookup("volume", volume_name, parent=pool, option=self.option)

    def _volume_remover(self, volume, label):
        def delete_volume():
            with translate_libvirt_errors("deleting the %s" % label, option=self.option):
                volume.delete(0)
        return delete_volume

    def _file_remover(self, path):
        """A call that deletes ``path`` (a storage volume, or a local file), or None when it does not exist."""
        try:
            volume = self.connection.conn.storageVolLookupByPath(path)
        except libvirt.libvirtError:
            volume = None
        if volume is not None:
            return self._volume_remover(volume, "storage volume %s" % path)
        if not self.connection.is_local:
            self.warnings.append("%s: the disk image %s was kept: it is in no storage pool, and the host is remote"
                                 % (self.option, path))
            return None
        if not os.path.isfile(path):
            return None  # nothing to remove: already gone, or not a regular file (a block device is kept)

        def delete_file():
            try:
                os.remove(path)
            except OSError as error:
                raise VirtLibvirtError("removing the disk image %s failed: %s" % (path, error),
                                       option=self.option) from None
        return delete_file


def same_file_key(connection, path):
    """``path`` as it is compared with other guests' disks: symbolic links resolved on a local host."""
    path = os.path.normpath(path)
    return os.path.realpath(path) if connection.is_local else path


def _disk_users(connection, domain):
    """Every file or device any other guest on the connection reads or writes (persistent or transient, its
    definition and what it runs with, backing stores included), mapped to those guests' names."""
    with translate_libvirt_errors("listing the guests"):
        others = [other for other in connection.conn.listAllDomains(0) if other.UUID() != domain.UUID()]
    users = {}
    for other in others:
        try:
            documents = [other.XMLDesc(0)]
            if other.isPersistent() and other.isActive():
                documents.append(other.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            name = other.name()
        except libvirt.libvirtError as error:
            if is_libvirt_error(error, libvirt.VIR_ERR_NO_DOMAIN):
                continue  # removed since it was listed
            raise translated_error("reading the guests' disks", error) from None
        for document in documents:
            for path in _disk_sources(connection, xm.parse_xml(document, "domain")):
                users.setdefault(same_file_key(connection, path), set()).add(name)
    return users


def _disk_sources(connection, element):
    """The files and devices of a domain document's disks: sources, backing stores, and pool volumes."""
    for source in element.iterfind("devices/disk//source"):
        for attribute in ("file", "dev"):
            if source.get(attribute):
                yield source.get(attribute)
        if source.get("pool") and source.get("volume"):
            try:
                yield connection.conn.storagePoolLookupByName(source.get("pool")).storageVolLookupByName(
                    source.get("volume")).path()
            except libvirt.libvirtError:
                pass  # a pool or volume that does not exist holds no image of the guest being removed
