# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Typed objects over libvirt's storage pool and volume XML (formatstorage).

Sizes are bytes, normalised by the same size codec as a guest's memory (``10GiB``, ``512MB``, a bare integer
in bytes as libvirt's volume XML has it); permission modes are octal. What the models do not name (a pool's
``<auth>`` or ``<adapter>``, a volume's ``<encryption>`` or ``<features>``) is kept as it is.
"""
from __future__ import annotations

import re

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._errors import ModelError

# libvirt's <pool type=...> (virStoragePool), every backend it knows.
POOL_TYPES = ("dir", "fs", "netfs", "logical", "disk", "iscsi", "iscsi-direct", "scsi", "mpath", "rbd", "sheepdog",
              "gluster", "zfs", "vstorage")
# Formats of file volumes (virStorageFileFormat) as libvirt's volume XML writes them.
VOLUME_FORMATS = ("raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop", "cow", "qcow",
                  "qcow2", "qed", "vmdk")
# What a pool's document carries that is its state, not its configuration.
_POOL_RUNTIME = ("capacity", "allocation", "available")
_VOLUME_RUNTIME = ("key", "physical")


class ModeCodec(xm.Codec):
    """A permission mode, octal: ``'0755'``, ``'755'`` or the integer YAML reads ``0755`` as (493)."""

    type_name = "mode"

    def decode(self, raw, element):
        text = raw.strip()
        return int(text, 8) if re.match(r"^[0-7]{1,4}$", text) else text

    def encode(self, value):
        return "%04o" % value

    def normalize(self, value, option):
        if isinstance(value, bool) or isinstance(value, (dict, list, tuple, float)):
            raise ModelError("must be an octal mode such as '0755', got %r" % (value,), option=option)
        if isinstance(value, int):
            mode = value
        else:
            text = str(value).strip()
            if not re.match(r"^(0o)?[0-7]{1,4}$", text):
                raise ModelError("%r is not an octal mode such as '0755'" % text, option=option)
            mode = int(text.replace("0o", ""), 8)
        if not 0 <= mode <= 0o7777:
            raise ModelError("%o is not a mode (0000-7777)" % mode, option=option)
        return mode


MODE = ModeCodec()
ID = xm.IntCodec(minimum=-1)
SIZE = xm.MemoryCodec(unit="bytes", minimum=0)
NAME = xm.TextCodec(forbid="/")


def describe_size(size):
    """``10 GiB``, ``196616 bytes``: a size as people read it."""
    if size is None:
        return None
    for power, unit in ((4, "TiB"), (3, "GiB"), (2, "MiB"), (1, "KiB")):
        if size and size % 1024 ** power == 0:
            return "%d %s" % (size // 1024 ** power, unit)
    return "%d bytes" % size


class Pool(xm.XMLModel):
    """``<pool type=...>``: where volumes live (a directory, a mounted filesystem, a volume group ...)."""

    TAG = "pool"
    CHILD_ORDER = {
        "": ["name", "uuid", "capacity", "allocation", "available", "features", "source", "target"],
        "source": ["host", "device", "dir", "adapter", "name", "format", "auth", "vendor", "product", "initiator"],
        "target": ["path", "permissions"],
        "target/permissions": ["mode", "owner", "group", "label"],
    }
    OPTION_LABELS = {
        "source_device": "source.device", "source_host": "source.host", "source_port": "source.port",
        "source_dir": "source.dir", "source_name": "source.name", "source_format": "source.format",
        "target_path": "target.path", "target_mode": "target.permissions.mode",
        "target_owner": "target.permissions.owner", "target_group": "target.permissions.group",
        "target_label": "target.permissions.label",
    }

    type = xm.Field("", attr="type", codec=xm.EnumCodec(POOL_TYPES))
    name = xm.Field("name", codec=NAME)
    uuid = xm.Field("uuid", codec=xm.UUID)
    source_host = xm.Field("source/host", attr="name")
    source_port = xm.Field("source/host", attr="port", codec=xm.IntCodec(minimum=1, maximum=65535))
    source_device = xm.Field("source/device", attr="path")
    source_dir = xm.Field("source/dir", attr="path")
    source_name = xm.Field("source/name")
    source_format = xm.Field("source/format", attr="type")
    target_path = xm.Field("target/path")
    target_mode = xm.Field("target/permissions/mode", codec=MODE)
    target_owner = xm.Field("target/permissions/owner", codec=ID)
    target_group = xm.Field("target/permissions/group", codec=ID)
    target_label = xm.Field("target/permissions/label")

    @classmethod
    def from_user_xml(cls, text, option="xml"):
        """A pool document written by a user (or ``virsh pool-dumpxml``): checked, its sizes dropped."""
        pool = cls.from_xml(text, option)
        for tag in _POOL_RUNTIME:
            for element in pool.element.findall(tag):
                pool.element.remove(element)
        pool.validate_raw(option)
        return pool

    def without_runtime(self):
        """The definition without the sizes libvirt reports in it (they are state, not configuration)."""
        copy = self.copy()
        for tag in _POOL_RUNTIME:
            for element in copy.element.findall(tag):
                copy.element.remove(element)
        return copy


class Volume(xm.XMLModel):
    """``<volume>``: one image (file, logical volume, partition, RBD image ...) of a pool."""

    TAG = "volume"
    CHILD_ORDER = {
        "": ["name", "key", "source", "capacity", "allocation", "physical", "target", "backingStore"],
        "target": ["path", "format", "permissions", "timestamps", "encryption", "compat", "clusterSize", "nocow",
                   "features"],
        "target/permissions": ["mode", "owner", "group", "label"],
        "backingStore": ["path", "format", "permissions"],
    }
    OPTION_LABELS = {"backing_path": "backing", "backing_format": "backing.format", "mode": "permissions.mode",
                     "owner": "permissions.owner", "group": "permissions.group", "label": "permissions.label"}

    name = xm.Field("name", codec=NAME)
    capacity = xm.Field("capacity", codec=SIZE)
    allocation = xm.Field("allocation", codec=SIZE)
    path = xm.Field("target/path")
    format = xm.Field("target/format", attr="type", codec=xm.EnumCodec(VOLUME_FORMATS))
    mode = xm.Field("target/permissions/mode", codec=MODE)
    owner = xm.Field("target/permissions/owner", codec=ID)
    group = xm.Field("target/permissions/group", codec=ID)
    label = xm.Field("target/permissions/label")
    backing_path = xm.Field("backingStore/path")
    backing_format = xm.Field("backingStore/format", attr="type", codec=xm.EnumCodec(VOLUME_FORMATS))

    @classmethod
    def from_user_xml(cls, text, option="xml"):
        volume = cls.from_xml(text, option)
        for tag in _VOLUME_RUNTIME:
            for element in volume.element.findall(tag):
                volume.element.remove(element)
        for element in volume.element.findall("target/timestamps"):
            element.getparent().remove(element)
        volume.validate_raw(option)
        return volume

    def describe(self):
        text = "%s %s" % (self.format or "raw", describe_size(self.capacity) or "")
        if self.backing_path:
            text += " backed by %s" % self.backing_path
        return text.strip()
