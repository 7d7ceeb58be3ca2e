# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Storage volumes: the declaration and the adapter the shared converger (_converge.py) runs for
virt.libvirt.volume.

A volume is created in its pool (``createXML``, or ``createXMLFrom`` for a full clone), never redefined:
what a task can change on an existing volume is its capacity (grown, never shrunk) and, only when declared,
its content (a cloud-init disk whose files differ, or an upload with ``force``). Everything else that differs
from the declaration (format, backing) is refused with the reason, since libvirt cannot change it in place.
"""
from __future__ import annotations

import hashlib
import os

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._bulk import bulk_argument_spec, item_argument_spec
from ansible_collections.virt.libvirt.plugins.module_utils._connection import libvirt, translate_libvirt_errors
from ansible_collections.virt.libvirt.plugins.module_utils._converge import Adapter, Plan, run_module
from ansible_collections.virt.libvirt.plugins.module_utils._deps import missing_library_message
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._storage_model import (
    MODE, ID, NAME, SIZE, VOLUME_FORMATS, Volume, describe_size,
)

STATES = ("present", "absent")

_PERMISSIONS_SPEC = {
    "mode": {"type": "raw"},
    "owner": {"type": "int"},
    "group": {"type": "int"},
    "label": {"type": "str"},
}
_BACKING_SPEC = {
    "volume": {"type": "str"},
    "pool": {"type": "str"},
    "path": {"type": "str"},
    "format": {"type": "str", "choices": list(VOLUME_FORMATS)},
}
_CLONE_SPEC = {
    "volume": {"type": "str", "required": True},
    "pool": {"type": "str"},
}
_CLOUD_INIT_SPEC = {
    "user_data": {"type": "raw"},
    "meta_data": {"type": "raw"},
    "network_config": {"type": "raw"},
    "vendor_data": {"type": "raw"},
}
VOLUME_ITEM_SPEC = {
    "name": {"type": "str"},
    "pool": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": list(STATES)},
    "capacity": {"type": "raw"},
    "allocation": {"type": "raw"},
    "format": {"type": "str", "choices": list(VOLUME_FORMATS)},
    "backing": {"type": "dict", "options": _BACKING_SPEC},
    "clone": {"type": "dict", "options": _CLONE_SPEC},
    "upload": {"type": "path"},
    "cloud_init": {"type": "dict", "options": _CLOUD_INIT_SPEC},
    "permissions": {"type": "dict", "options": _PERMISSIONS_SPEC},
    "xml": {"type": "str"},
    "force": {"type": "bool", "default": False},
    "wipe": {"type": "bool", "default": False},
}
VOLUME_MUTUALLY_EXCLUSIVE = [("name", "volumes")]
VOLUME_REQUIRED_ONE_OF = [("name", "volumes")]
_TASK_LEVEL_OPTIONS = ("pool", "state", "force", "wipe")
_VOLUME_ITEM_SPEC = item_argument_spec(VOLUME_ITEM_SPEC)
# Where a volume's content comes from; at most one per volume.
_CONTENT_OPTIONS = ("backing", "clone", "upload", "cloud_init")
# How much a pool may round a capacity up (qemu-img to 512-byte sectors, LVM to its 4 MiB extents): a declared
# capacity that much below the volume's is the size it was created with, not a request to shrink it.
_ROUNDING = {"file": 512}
_DEFAULT_ROUNDING = 4 * 1024 ** 2
# Image headers (offset, magic, format) of the formats an uploaded file is checked against.
_MAGIC = ((0, b"QFI\xfb", "qcow2"), (0, b"QED\x00", "qed"), (0, b"KDMV", "vmdk"), (0, b"conectix", "vpc"),
          (0x8001, b"CD001", "iso"))
_STREAM_CHUNK = 256 * 1024


def volume_argument_spec():
    return bulk_argument_spec(VOLUME_ITEM_SPEC, "volumes")


def probe_format(path):
    """The image format of the file at ``path`` as its header says (raw when none is recognised)."""
    with open(path, "rb") as stream:
        head = stream.read(0x8010)
    for offset, magic, name in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return name
    return "raw"


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_STREAM_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class DeclaredVolume:
    """The user's options, validated and normalised; nothing here talks to libvirt."""

    def __init__(self, params, prefix=""):
        self.prefix = prefix
        name = params.get("name")
        if name is None or not str(name).strip():
            raise InputError("is required", option=self.option("name"))
        self.name = NAME.normalize(name, self.option("name"))
        if params.get("pool") in (None, ""):
            raise InputError("is required: the storage pool the volume %s is in" % self.name, option=self.option("pool"))
        self.pool = NAME.normalize(params["pool"], self.option("pool"))
        self.state = params.get("state") or "present"
        self.force = bool(params.get("force"))
        self.wipe = bool(params.get("wipe"))
        self.base = Volume.from_user_xml(params["xml"], self.option("xml")) if params.get("xml") else None
        if self.base is not None and self.base.name and self.base.name != self.name:
            raise InputError("names the volume %r but the task's name is %r" % (self.base.name, self.name),
                             option=self.option("xml"))
        permissions = params.get("permissions") or {}
        self.fields = {
            "capacity": SIZE.normalize(params["capacity"], self.option("capacity"))
            if params.get("capacity") is not None else None,
            "allocation": SIZE.normalize(params["allocation"], self.option("allocation"))
            if params.get("allocation") is not None else None,
            "format": params.get("format"),
            "mode": MODE.normalize(permissions["mode"], self.option("permissions.mode"))
            if permissions.get("mode") is not None else None,
            "owner": ID.normalize(permissions["owner"], self.option("permissions.owner"))
            if permissions.get("owner") is not None else None,
            "group": ID.normalize(permissions["group"], self.option("permissions.group"))
            if permissions.get("group") is not None else None,
            "label": xm.TEXT.normalize(permissions["label"], self.option("permissions.label"))
            if permissions.get("label") is not None else None,
        }
        given = [key for key in _CONTENT_OPTIONS if params.get(key)]
        if len(given) > 1:
            raise InputError("conflicts with %s: a volume's content comes from one of %s" % (
                given[0], ", ".join(_CONTENT_OPTIONS)), option=self.option(given[1]))
        self.backing = self._backing(params.get("backing"))
        self.clone = self._clone(params.get("clone"))
        # A volume is removed whatever its content was made from: the file to upload may be gone by then.
        removing = self.state == "absent"
        self.upload = self._upload(params.get("upload")) if not removing else None
        self.cloud_init = self._cloud_init_files(params.get("cloud_init")) if not removing else None

    def option(self, name):
        return self.prefix + name

    def _backing(self, backing):
        if not backing:
            return None
        option = self.option("backing")
        if bool(backing.get("volume")) == bool(backing.get("path")):
            raise InputError("give the backing volume (volume, and pool when it is in another pool) or a path, "
                             "one of the two", option=option)
        if backing.get("path"):
            path = xm.TEXT.normalize(backing["path"], option + ".path")
            if not path.startswith("/"):
                raise InputError("must be an absolute path, got %r" % path, option=option + ".path")
            if backing.get("pool"):
                raise InputError("names the pool of a backing volume; a backing path has none", option=option + ".pool")
            return {"path": path, "format": backing.get("format")}
        return {"volume": NAME.normalize(backing["volume"], option + ".volume"),
                "pool": NAME.normalize(backing["pool"], option + ".pool") if backing.get("pool") else self.pool,
                "format": backing.get("format")}

    def _clone(self, clone):
        if not clone:
            return None
        option = self.option("clone")
        return {"volume": NAME.normalize(clone["volume"], option + ".volume"),
                "pool": NAME.normalize(clone["pool"], option + ".pool") if clone.get("pool") else self.pool}

    def _upload(self, path):
        if not path:
            return None
        if not os.path.isfile(path):
            raise InputError("%s is not a file on the host the task runs on" % path, option=self.option("upload"))
        image_format = probe_format(path)
        if self.fields["format"] and self.fields["format"] != image_format:
            raise InputError("is %s, but the file to upload (%s) is a %s image" % (
                self.fields["format"], path, image_format), option=self.option("format"))
        return {"path": path, "size": os.path.getsize(path), "format": image_format}

    def _cloud_init_files(self, options):
        if not options:
            return None
        # Imported here: only a cloud-init disk needs pycdlib, which may be missing where no task makes one.
        from ansible_collections.virt.libvirt.plugins.module_utils import _cloud_init  # pylint: disable=import-outside-toplevel
        missing = missing_library_message("pycdlib")
        if missing:
            raise VirtLibvirtError(missing, option=self.option("cloud_init"))
        for key in ("capacity", "format"):
            if self.fields[key] is not None and not (key == "format" and self.fields[key] in ("raw", "iso")):
                raise InputError("is the size and format of the cloud-init image cloud_init makes; omit it",
                                 option=self.option(key))
        instance_id = self.name.rsplit(".", 1)[0] if "." in self.name else self.name
        return _cloud_init.cloud_init_files(options, self.option("cloud_init"), instance_id)


class VolumeAdapter(Adapter):
    KIND = "volume"
    NOUN = "storage volume"
    RESULT_KEY = "volume"

    def __init__(self, connection, params, prefix=""):
        super().__init__(connection, params, prefix)
        self.pool_handle = None

    def declare(self):
        return DeclaredVolume(self.params, self.prefix)

    # -- looking up ----------------------------------------------------------------------------------
    def _pool(self, name, option, missing_ok=False):
        """The active pool ``name``, refreshed once per task (a volume deleted or added outside libvirt is
        seen then); None when it is missing and ``missing_ok``."""
        pool = self.connection.lookup("pool", name, option=option)
        if pool is None:
            if missing_ok:
                return None
            raise _Unresolved("the storage pool %s does not exist" % name, option=option)
        with translate_libvirt_errors("reading the storage pool %s" % name, option=option):
            active = pool.isActive()
        if not active:
            raise _Unresolved("the storage pool %s is not active; start it (virt.libvirt.pool with state: active) "
                              "before managing its volumes" % name, option=option)
        refreshed = self.connection.memo.setdefault("refreshed_pools", set())
        if name not in refreshed:
            with translate_libvirt_errors("refreshing the storage pool %s" % name, option=option):
                pool.refresh(0)
            refreshed.add(name)
        return pool

    def lookup(self, declared):
        try:
            self.pool_handle = self._pool(declared.pool, declared.option("pool"), missing_ok=declared.state == "absent")
        except _Unresolved as missing:
            if not self.check_mode:
                raise
            self._predicted(missing)  # the task creating or starting the pool may only have predicted it
            return None
        if self.pool_handle is None:
            return None
        return self.connection.lookup("volume", declared.name, parent=self.pool_handle, option=declared.option("name"))

    def _volume(self, name, pool_name, option):
        """Another volume a declaration names (a backing or clone source), which must exist."""
        volume = self.connection.lookup("volume", name, parent=self._pool(pool_name, option + ".pool"),
                                        option=option + ".volume")
        if volume is None:
            raise _Unresolved("the volume %s does not exist in the storage pool %s" % (name, pool_name),
                              option=option + ".volume")
        return volume

    def read(self, handle):
        with translate_libvirt_errors("reading the storage volume %s" % handle.name()):
            return Volume.from_xml(handle.XMLDesc(0))

    # -- planning ------------------------------------------------------------------------------------
    def _predicted(self, missing):
        """In check mode, a pool or source volume that does not exist yet is a warning, not an error: the task
        that makes it may only have predicted making it. The volume is predicted as created."""
        self.warnings.append(str(missing))

    def plan(self, declared, current, handle):
        if current is None:
            if self.warnings:
                return self._plan_unresolved(declared)
            try:
                return self._plan_new(declared)
            except _Unresolved as missing:
                if not self.check_mode:
                    raise
                self._predicted(missing)
                return self._plan_unresolved(declared)
        tracker = DifferenceTracker()
        fields = declared.fields
        steps = {}
        declared_format = fields["format"] or (declared.base.format if declared.base is not None else None)
        if declared_format and current.format and declared_format != current.format and declared.cloud_init is None:
            raise InputError("the volume %s exists in format %s; libvirt cannot convert it to %s (create a new volume "
                             "with clone, or remove this one first)" % (declared.name, current.format, declared_format),
                             option=declared.option("format"))
        backing_path = self._backing(declared)[0] if declared.backing else None
        if declared.backing and backing_path != current.backing_path:
            raise InputError("the volume %s exists %s; the backing of an existing volume cannot be changed to %s" % (
                declared.name, "backed by %s" % current.backing_path if current.backing_path else "without a backing",
                backing_path), option=declared.option("backing"))
        capacity = fields["capacity"]
        if capacity is not None and current.capacity is not None and capacity != current.capacity:
            rounding = _ROUNDING.get(current.element.get("type"), _DEFAULT_ROUNDING)
            if capacity > current.capacity:
                tracker.add("capacity", describe_size(current.capacity), describe_size(capacity))
                steps["resize"] = capacity
            elif current.capacity - capacity >= rounding:
                raise InputError("is %s, smaller than the volume %s (%s); a volume is only grown, never shrunk (that "
                                 "would cut off its data)" % (describe_size(capacity), declared.name,
                                                              describe_size(current.capacity)),
                                 option=declared.option("capacity"))
        if declared.cloud_init is not None:
            changed = self._cloud_init_changes(handle, declared.cloud_init)
            for filename, before, after in changed:
                tracker.add("cloud_init.%s" % filename, before, after)
            if changed:
                steps["content"], steps["image"] = "cloud-init", _cloud_init_image(declared.cloud_init)
        elif declared.upload is not None and declared.force:
            before = self._volume_digest(handle)
            after = file_digest(declared.upload["path"])
            if before != after:
                tracker.add("content", "sha256:" + before, "sha256:" + after)
                steps["content"] = "upload"
        return Plan(current, tracker, **steps)

    def _plan_new(self, declared):
        desired = declared.base.copy() if declared.base is not None else Volume()
        desired.name = declared.name
        values = {key: value for key, value in declared.fields.items() if value is not None}
        clone_source = None
        if declared.backing:
            path, backing_format, backing_capacity = self._backing(declared)
            desired.backing_path, desired.backing_format = path, backing_format
            values.setdefault("format", "qcow2")  # a copy-on-write overlay is a qcow2 image
            values.setdefault("capacity", backing_capacity or 0)  # 0: libvirt takes the backing's size
        elif declared.clone:
            clone_source = self._volume(declared.clone["volume"], declared.clone["pool"], declared.option("clone"))
            source = self.read(clone_source)
            values.setdefault("format", source.format)
            values.setdefault("capacity", source.capacity)
        elif declared.upload:
            # Created raw, exactly the file's size, and filled by the upload; libvirt reads the image's own
            # format and virtual size from it when the pool is refreshed.
            values["format"], values["capacity"] = "raw", declared.upload["size"]
            values["allocation"] = 0
        elif declared.cloud_init is not None:
            image = _cloud_init_image(declared.cloud_init)
            values["format"], values["capacity"] = "raw", len(image)
        if values.get("capacity") is None and desired.capacity is None:
            raise InputError("is required to create the new volume %s (or give backing, clone, upload or cloud_init)"
                             % declared.name, option=declared.option("capacity"))
        if values.get("format") is None and desired.format is None:
            values["format"] = "raw"
        desired.apply({key: value for key, value in values.items() if value is not None}, DifferenceTracker())
        tracker = DifferenceTracker()
        tracker.add("volume", None, "created (%s)" % desired.describe() if declared.cloud_init is None else
                    "created (cloud-init disk)")
        return Plan(desired, tracker, create=True, clone_source=clone_source,
                    content="cloud-init" if declared.cloud_init is not None else ("upload" if declared.upload else None),
                    image=image if declared.cloud_init is not None else None)

    def _plan_unresolved(self, declared):
        desired = declared.base.copy() if declared.base is not None else Volume()
        desired.name = declared.name
        desired.apply({key: value for key, value in declared.fields.items() if value is not None}, DifferenceTracker())
        tracker = DifferenceTracker()
        tracker.add("volume", None, "created")
        return Plan(desired, tracker, create=True)

    def _backing(self, declared):
        """The backing's path, format and capacity (None when not known from a volume)."""
        backing = declared.backing
        if "path" in backing:
            image_format = backing["format"]
            if image_format is None:
                if not (self.connection.is_local and os.path.isfile(backing["path"])):
                    raise InputError("the format of %s cannot be read on this host; give it" % backing["path"],
                                     option=declared.option("backing.format"))
                image_format = probe_format(backing["path"])
            return backing["path"], image_format, None
        volume = self._volume(backing["volume"], backing["pool"], declared.option("backing"))
        model = self.read(volume)
        return model.path, backing["format"] or model.format or "raw", model.capacity

    # -- content -------------------------------------------------------------------------------------
    def _download(self, handle, sink):
        stream = self.connection.conn.newStream(0)
        with translate_libvirt_errors("reading the content of the volume %s" % handle.name()):
            handle.download(stream, 0, 0, 0)
            stream.recvAll(lambda _stream, data, _opaque: sink(data), None)
            stream.finish()

    def _volume_digest(self, handle):
        digest = hashlib.sha256()
        self._download(handle, digest.update)
        return digest.hexdigest()

    def _cloud_init_changes(self, handle, files):
        """(file, before, after) for each file of the cloud-init disk that differs (sha256 digests: it may hold
        secrets), or the label when the volume is no cloud-init disk at all."""
        from ansible_collections.virt.libvirt.plugins.module_utils import _cloud_init  # pylint: disable=import-outside-toplevel
        chunks = []
        self._download(handle, chunks.append)
        found = _cloud_init.read_cloud_init_image(b"".join(chunks))
        if found is None:
            return [("label", None, _cloud_init.LABEL)]
        label, stored = found
        changes = [("label", label, _cloud_init.LABEL)] if label != _cloud_init.LABEL else []
        for filename in sorted(set(files) | set(stored)):
            before, after = stored.get(filename), files.get(filename)
            if before != after:
                changes.append((filename, _digest(before), _digest(after)))
        return changes

    def _upload(self, handle, read, length):
        stream = self.connection.conn.newStream(0)
        handle.upload(stream, 0, length, 0)
        stream.sendAll(lambda _stream, size, _opaque: read(size), None)
        stream.finish()

    def _write_content(self, converger, declared, handle, kind, image=None):
        if kind == "cloud-init":
            size = self.read(handle).capacity
            if size != len(image):
                flags = libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK if len(image) < size else 0
                converger.write("resizing the cloud-init volume %s" % declared.name, lambda: handle.resize(len(image), flags),
                                [], option=declared.option("cloud_init"))
            view = memoryview(image)
            position = [0]

            def read(size):
                chunk = view[position[0]:position[0] + size].tobytes()
                position[0] += len(chunk)
                return chunk

            converger.write("writing the cloud-init disk into the volume %s" % declared.name,
                            lambda: self._upload(handle, read, len(image)), [], option=declared.option("cloud_init"))
        else:
            path = declared.upload["path"]

            def upload():
                with open(path, "rb") as stream:
                    self._upload(handle, stream.read, os.path.getsize(path))

            converger.write("uploading %s into the volume %s" % (path, declared.name), upload, [],
                            option=declared.option("upload"))
        with translate_libvirt_errors("refreshing the storage pool %s" % declared.pool):
            self.pool_handle.refresh(0)

    # -- writing -------------------------------------------------------------------------------------
    def write(self, converger, declared, plan, handle):
        fields = plan.tracker.fields
        if plan.steps.get("create"):
            xml = plan.desired.to_xml()
            source = plan.steps.get("clone_source")
            what = "creating the volume %s in the storage pool %s" % (declared.name, declared.pool)

            def perform():
                if source is not None:
                    return self.pool_handle.createXMLFrom(xml, source, 0)
                return self.pool_handle.createXML(xml, 0)

            handle = converger.write(what, perform, fields, option=declared.option("xml") if declared.base else None,
                                     raced=lambda: self.connection.lookup("volume", declared.name,
                                                                          parent=self.pool_handle) is not None)
            if handle is not None and plan.steps.get("content"):
                try:
                    self._write_content(converger, declared, handle, plan.steps["content"], plan.steps.get("image"))
                    capacity = declared.fields["capacity"]
                    if declared.upload and capacity and capacity > self.read(handle).capacity:
                        converger.write("growing the volume %s to %s" % (declared.name, describe_size(capacity)),
                                        lambda: handle.resize(capacity, 0), [], option=declared.option("capacity"))
                except VirtLibvirtError:
                    # A volume this task created and could not fill is removed again: the task changes nothing.
                    try:
                        handle.delete(0)
                        converger.forget_writes()
                    except libvirt.libvirtError:
                        pass
                    raise
            return handle
        if plan.steps.get("resize") is not None:
            size = plan.steps["resize"]
            converger.write("growing the volume %s to %s" % (declared.name, describe_size(size)),
                            lambda: handle.resize(size, 0), ["capacity"], option=declared.option("capacity"))
        if plan.steps.get("content"):
            self._write_content(converger, declared, handle, plan.steps["content"], plan.steps.get("image"))
            converger.count_written(fields)
        return handle

    # -- absent --------------------------------------------------------------------------------------
    def remove(self, converger, declared, handle, before):
        users = volume_users(self.connection, before.path, declared.pool, declared.name)
        if users and not declared.force:
            raise VirtLibvirtError("the volume %s is in use by %s; set force: true to delete it anyway" % (
                declared.name, "; ".join(users)), option=declared.option("force"))
        converger.tracker.add("volume", before.describe(), None)
        if declared.wipe:
            converger.write("wiping the volume %s" % declared.name, lambda: handle.wipe(0), [],
                            option=declared.option("wipe"))
        converger.write("deleting the volume %s" % declared.name, lambda: handle.delete(0), ["volume"],
                        raced=lambda: self.connection.lookup("volume", declared.name, parent=self.pool_handle) is None)
        forget_volume(self.connection, before.path)

    # -- reporting -----------------------------------------------------------------------------------
    def describe(self, handle, plan, declared, check_mode):
        model = plan.desired if handle is None or check_mode else self.read(handle)
        info = {"name": declared.name, "pool": declared.pool, "path": model.path, "format": model.format,
                "capacity": model.capacity, "allocation": model.allocation, "backing": model.backing_path,
                "xml": model.to_xml()}
        if check_mode and plan.steps.get("resize") is not None:
            info["capacity"] = plan.steps["resize"]
        if check_mode and plan.steps.get("create") and declared.upload:
            info["format"] = declared.upload["format"]  # what libvirt reads from the image once it is uploaded
        return info


class _Unresolved(VirtLibvirtError):
    """A pool or volume the declaration names is missing or stopped (a warning in check mode)."""


def _cloud_init_image(files):
    from ansible_collections.virt.libvirt.plugins.module_utils import _cloud_init  # pylint: disable=import-outside-toplevel
    return _cloud_init.build_cloud_init_image(files)


def _digest(data):
    return None if data is None else "sha256:" + hashlib.sha256(data).hexdigest()


# -- who uses a volume -----------------------------------------------------------------------------
def _storage_map(connection):
    """Every volume of every active pool by path, with the path of its backing, and every disk of every
    defined guest, read once per task."""
    memo = connection.memo
    if "volume_backings" not in memo:
        backings = {}
        with translate_libvirt_errors("listing the storage volumes"):
            for pool in connection.conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
                for volume in pool.listAllVolumes(0):
                    try:
                        model = Volume.from_xml(volume.XMLDesc(0))
                    except libvirt.libvirtError:
                        continue  # deleted meanwhile, or gone behind libvirt's back: it uses nothing
                    if model.backing_path:
                        backings[model.path] = (model.backing_path, "the volume %s of the pool %s (its backing)"
                                                % (model.name, pool.name()))
        memo["volume_backings"] = backings
    if "guest_disks" not in memo:
        disks = []
        with translate_libvirt_errors("listing the guests"):
            domains = connection.conn.listAllDomains(0)
        for domain in domains:
            try:
                document = xm.parse_xml(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), "domain")
            except (libvirt.libvirtError, VirtLibvirtError):
                continue
            for disk in document.findall("devices/disk"):
                source, target = disk.find("source"), disk.find("target")
                if source is None:
                    continue
                disks.append(((source.get("file") or source.get("dev")), (source.get("pool"), source.get("volume")),
                              "the guest %s (disk %s)" % (domain.name(), target.get("dev") if target is not None else "?")))
        memo["guest_disks"] = disks
    return memo["volume_backings"], memo["guest_disks"]


def volume_users(connection, path, pool, name):
    """What would break if the volume went: volumes backed by it and guests with it as a disk."""
    backings, disks = _storage_map(connection)
    users = [label for user_path, (backing, label) in sorted(backings.items()) if backing == path and user_path != path]
    users += [label for disk_path, (disk_pool, disk_volume), label in disks
              if (path and disk_path == path) or (disk_pool == pool and disk_volume == name)]
    return users


def forget_volume(connection, path):
    """A volume this task deleted uses nothing any more (the base of a clone deleted before it is free)."""
    connection.memo.get("volume_backings", {}).pop(path, None)


def run_volume_module(params, check_mode, want_diff):
    """Converge the single volume (``name``) or every volume of ``volumes`` over one connection."""
    return run_module(VolumeAdapter, params, check_mode, want_diff, "volumes", "storage volume", _TASK_LEVEL_OPTIONS,
                      _VOLUME_ITEM_SPEC)
