# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Storage pools: the declaration and the adapter the shared converger (_converge.py) runs for
virt.libvirt.pool."""
from __future__ import annotations

import os

from ansible_collections.virt.libvirt.plugins.module_utils import _xmlmodel as xm
from ansible_collections.virt.libvirt.plugins.module_utils._bulk import bulk_argument_spec, item_argument_spec
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    is_libvirt_error, libvirt, translate_libvirt_errors, translated_error,
)
from ansible_collections.virt.libvirt.plugins.module_utils._converge import Adapter, Plan, run_module
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._storage_model import POOL_TYPES, Pool

STATES = ("present", "active", "inactive", "absent")

_PERMISSIONS_SPEC = {
    "mode": {"type": "raw"},
    "owner": {"type": "int"},
    "group": {"type": "int"},
    "label": {"type": "str"},
}
_TARGET_SPEC = {
    "path": {"type": "str"},
    "permissions": {"type": "dict", "options": _PERMISSIONS_SPEC},
}
_SOURCE_SPEC = {
    "device": {"type": "str"},
    "host": {"type": "str"},
    "port": {"type": "int"},
    "dir": {"type": "str"},
    "name": {"type": "str"},
    "format": {"type": "str"},
}
POOL_ITEM_SPEC = {
    "name": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": list(STATES)},
    "type": {"type": "str", "choices": list(POOL_TYPES)},
    "uuid": {"type": "str"},
    "target": {"type": "dict", "options": _TARGET_SPEC},
    "source": {"type": "dict", "options": _SOURCE_SPEC},
    "autostart": {"type": "bool"},
    "build": {"type": "bool", "default": False},
    "overwrite": {"type": "bool", "default": False},
    "delete": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": False},
    "xml": {"type": "str"},
}
POOL_MUTUALLY_EXCLUSIVE = [("name", "pools")]
POOL_REQUIRED_ONE_OF = [("name", "pools")]
# Task-level options a bulk item inherits when it does not set them.
_TASK_LEVEL_OPTIONS = ("state", "autostart", "build", "overwrite", "delete", "force")
_POOL_ITEM_SPEC = item_argument_spec(POOL_ITEM_SPEC)

# What a new pool of each type needs (the fields, any one of a tuple), as libvirt refuses it otherwise.
_NEEDS = {
    "dir": ("target_path",),
    "fs": ("source_device", "target_path"),
    "netfs": ("source_host", "source_dir", "target_path"),
    "logical": (("source_name", "source_device"),),
    "disk": ("source_device",),
    "iscsi": ("source_host", "source_device"),
    "rbd": ("source_host", "source_name"),
    "gluster": ("source_host", "source_name"),
}
# Pools whose build formats a source (and so takes libvirt's overwrite or no-overwrite flag).
_FORMATTED_TYPES = ("fs", "logical", "disk")
# Pools whose storage is a directory on the host (a mount point for fs and netfs).
_DIRECTORY_TYPES = ("dir", "fs", "netfs")
# The options naming each field, for messages.
_OPTIONS = {"type": "type", "uuid": "uuid"}
_OPTIONS.update(Pool.OPTION_LABELS)


def pool_argument_spec():
    return bulk_argument_spec(POOL_ITEM_SPEC, "pools")


class DeclaredPool:
    """The user's options (and the ``xml`` base under them), validated and normalised; nothing here talks
    to libvirt."""

    def __init__(self, params, prefix=""):
        self.prefix = prefix
        name = params.get("name")
        if name is None or not str(name).strip():
            raise InputError("is required", option=self.option("name"))
        fields = Pool.fields()
        self.name = fields["name"].normalize(name, self.option("name"))
        self.state = params.get("state") or "present"
        self.base = Pool.from_user_xml(params["xml"], self.option("xml")) if params.get("xml") else None
        if self.base is not None and self.base.name and self.base.name != self.name:
            raise InputError("names the pool %r but the task's name is %r" % (self.base.name, self.name),
                             option=self.option("xml"))
        source, target = params.get("source") or {}, params.get("target") or {}
        permissions = target.get("permissions") or {}
        given = {
            "type": params.get("type"), "uuid": params.get("uuid"),
            "source_device": source.get("device"), "source_host": source.get("host"),
            "source_port": source.get("port"), "source_dir": source.get("dir"), "source_name": source.get("name"),
            "source_format": source.get("format"), "target_path": target.get("path"),
            "target_mode": permissions.get("mode"), "target_owner": permissions.get("owner"),
            "target_group": permissions.get("group"), "target_label": permissions.get("label"),
        }
        self.fields = {key: fields[key].normalize(value, self.option(_OPTIONS[key])) for key, value in given.items()}
        for key in ("target_path", "source_dir"):
            if self.fields[key] is not None and not self.fields[key].startswith("/"):
                raise InputError("must be an absolute path, got %r" % self.fields[key], option=self.option(_OPTIONS[key]))
        self.build = bool(params.get("build"))
        self.overwrite = bool(params.get("overwrite"))
        self.delete = bool(params.get("delete"))
        self.force = bool(params.get("force"))
        if self.overwrite and not self.build:
            raise InputError("formats the pool's source when it is built, so it needs build: true",
                             option=self.option("overwrite"))

    def option(self, name):
        return self.prefix + name

    def wanted(self):
        """The declared values with those of the xml base under them (the structured options win)."""
        values = {}
        if self.base is not None:
            values = {key: value for key, value in self.base.values().items()
                      if key != "name" and value is not None}
        return xm.overlay(values, {key: value for key, value in self.fields.items() if value is not None})


class PoolAdapter(Adapter):
    KIND = "pool"
    NOUN = "storage pool"
    RESULT_KEY = "pool"
    HAS_ACTIVE_STATE = True
    HAS_AUTOSTART = True

    def __init__(self, connection, params, prefix=""):
        super().__init__(connection, params, prefix)
        self.created = False
        self.before_xml = None
        self.restart_required = False
        self.stopped_for_build = False

    def declare(self):
        return DeclaredPool(self.params, self.prefix)

    def _xml(self, handle):
        """The definition the pool gets at its next start (libvirt's test driver has only one)."""
        action = "reading the definition of the storage pool %s" % handle.name()
        try:
            return handle.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE)
        except libvirt.libvirtError as error:
            if not is_libvirt_error(error, libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_NO_SUPPORT):
                raise translated_error(action, error) from None
        with translate_libvirt_errors(action):
            return handle.XMLDesc(0)

    def read(self, handle):
        self.before_xml = self._xml(handle)
        return Pool.from_xml(self.before_xml).without_runtime()

    # -- planning ------------------------------------------------------------------------------------
    def plan(self, declared, current, handle):
        tracker = DifferenceTracker()
        wanted = declared.wanted()
        if current is None:
            desired = declared.base.copy() if declared.base is not None else Pool()
            desired.name = declared.name
            desired.apply(wanted, DifferenceTracker())
            self._check_new(declared, desired)
            tracker.add("pool", None, "defined")
            return Plan(desired, tracker)
        for key, what in (("type", "type"), ("uuid", "uuid")):
            if wanted.get(key) and getattr(current, key) and wanted[key] != getattr(current, key):
                raise InputError("the pool %s exists with %s %s; a pool's %s cannot be changed (got %s)%s" % (
                    declared.name, what, getattr(current, key), what, wanted[key],
                    "; remove the pool first" if key == "type" else ""), option=declared.option(key))
        desired = current.copy()
        desired.apply(wanted, tracker)
        if declared.base is not None:
            xm.merge_unmodelled(desired, declared.base.without_runtime(), tracker)
        return Plan(desired, tracker)

    @staticmethod
    def _check_new(declared, desired):
        if desired.type is None:
            raise InputError("is required to define the new pool %s" % declared.name, option=declared.option("type"))
        for need in _NEEDS.get(desired.type, ()):
            alternatives = need if isinstance(need, tuple) else (need,)
            if all(getattr(desired, field) is None for field in alternatives):
                raise InputError("a %s pool needs %s" % (desired.type, " or ".join(_OPTIONS[f] for f in alternatives)),
                                 option=declared.option(_OPTIONS[alternatives[0]]))

    # -- writing -------------------------------------------------------------------------------------
    def write(self, converger, declared, plan, handle):
        created = self.created = handle is None
        if plan.changed:
            was_active = not created and self.is_active(handle)
            defined = converger.write(
                "defining the storage pool %s" % declared.name,
                lambda: self.connection.conn.storagePoolDefineXML(plan.desired.to_xml(), 0), plan.tracker.fields,
                raced=lambda: self._changed_underneath(declared, created),
                option=declared.option("xml") if declared.base is not None else None)
            handle = defined or handle
            # libvirt applies a new definition of an active pool when it starts again.
            self.restart_required = was_active
        if declared.build:
            self._build(converger, declared, plan.desired, handle, created)
        return handle

    def _changed_underneath(self, declared, created):
        handle = self.lookup(declared)
        if created:
            return handle is not None  # two runs defining one pool: the second is refused
        return handle is None or self._xml(handle) != self.before_xml

    def _target_missing(self, desired):
        """Whether the directory of a directory-backed pool is gone (removed behind libvirt's back, or never
        made); seen only on the host this module runs on."""
        if desired.type not in _DIRECTORY_TYPES or not desired.target_path or not self.connection.is_local:
            return False
        # libvirt's test driver keeps its pools in memory: their paths are no directories of this host.
        if self.connection.memo.setdefault("driver", self.connection.driver_name()) == "TEST":
            return False
        return not os.path.isdir(desired.target_path)

    def _build(self, converger, declared, desired, handle, created):
        if not (created or self._target_missing(desired)):
            return
        what = desired.target_path if desired.type in _DIRECTORY_TYPES else (desired.source_device or desired.source_name)
        converger.tracker.add("build", None, what)
        if handle is not None and self.is_active(handle):
            # Active, but its directory is gone: libvirt builds only a stopped pool; it is started again below.
            self.stopped_for_build = True
            converger.write("stopping the storage pool %s to build it again" % declared.name, handle.destroy,
                            ["build"])
        if handle is None:
            return
        flags = 0
        if desired.type in _FORMATTED_TYPES:
            flags = libvirt.VIR_STORAGE_POOL_BUILD_OVERWRITE if declared.overwrite \
                else libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE
        try:
            converger.write("building the storage pool %s" % declared.name, lambda: _build_keeping_data(handle, flags),
                            ["build"], option=declared.option("build"))
        except VirtLibvirtError:
            if created:
                _undefine_quietly(converger, handle)
            raise

    # -- state ---------------------------------------------------------------------------------------
    def start(self, converger, declared, handle):
        try:
            super().start(converger, declared, handle)
        except VirtLibvirtError:
            if self.created:
                # A pool this task defined and could not start is removed again: the task changes nothing.
                _undefine_quietly(converger, handle)
            raise

    def wanted_active(self, declared):
        if self.stopped_for_build and declared.state == "present":
            return True  # it was running before this task stopped it to build it
        return {"active": True, "inactive": False}.get(declared.state)

    def converge_state(self, converger, declared, handle):
        active = handle is not None and self.is_active(handle) and not self.stopped_for_build
        if active and not declared.build and self.wanted_active(declared) is not False:
            desired = self.read(handle)
            if self._target_missing(desired):
                raise VirtLibvirtError(
                    "the directory %s of the active pool %s is missing (removed outside libvirt); set build: true "
                    "to create it again" % (desired.target_path, declared.name), option=declared.option("build"))
        wanted = self.wanted_active(declared)
        if wanted is None or active == wanted:
            return
        converger.tracker.add("state", "active" if active else "inactive", "active" if wanted else "inactive")
        if handle is not None:
            (self.start if wanted else self.stop)(converger, declared, handle)

    # -- absent --------------------------------------------------------------------------------------
    def remove(self, converger, declared, handle, before):
        active = self.is_active(handle)
        volumes = []
        if declared.delete and active:
            with translate_libvirt_errors("listing the volumes of the storage pool %s" % declared.name):
                handle.refresh(0)
                volumes = sorted(handle.listVolumes())
            if volumes and not declared.force:
                raise VirtLibvirtError(
                    "the pool %s holds %d volume(s) (%s); delete: true removes only an empty pool's storage. Set "
                    "force: true to delete its volumes too" % (declared.name, len(volumes), ", ".join(volumes[:5])),
                    option=declared.option("force"))
        for name in volumes:
            converger.tracker.add("volumes[%s]" % name, "present", None)
            converger.write("deleting the volume %s of the storage pool %s" % (name, declared.name),
                            lambda name=name: handle.storageVolLookupByName(name).delete(0), ["volumes[%s]" % name],
                            option=declared.option("force"))
        if active:
            converger.tracker.add("state", "active", "inactive")
            self.stop(converger, declared, handle)
        if declared.delete:
            converger.tracker.add("storage", before.target_path or before.source_device or declared.name, None)
            converger.write("deleting the storage of the pool %s (is it empty?)" % declared.name,
                            lambda: handle.delete(0), ["storage"], option=declared.option("delete"))
        with translate_libvirt_errors("reading the storage pool %s" % declared.name):
            persistent = handle.isPersistent()
        if persistent:
            converger.tracker.add("pool", "defined", None)
            converger.write("undefining the storage pool %s" % declared.name, handle.undefine, ["pool"])

    # -- reporting -----------------------------------------------------------------------------------
    def describe(self, handle, plan, declared, check_mode):
        desired = plan.desired
        if handle is None:
            return {"name": declared.name, "uuid": desired.uuid, "type": desired.type,
                    "active": declared.state == "active", "autostart": bool(self.params.get("autostart")),
                    "persistent": True, "path": desired.target_path, "capacity": None, "allocation": None,
                    "available": None, "xml": desired.to_xml()}
        with translate_libvirt_errors("describing the storage pool %s" % declared.name):
            _state, capacity, allocation, available = handle.info()
            info = {"name": handle.name(), "uuid": handle.UUIDString(), "active": bool(handle.isActive()),
                    "autostart": bool(handle.autostart()), "persistent": bool(handle.isPersistent()),
                    "capacity": capacity, "allocation": allocation, "available": available}
        stored = desired if check_mode else Pool.from_xml(self._xml(handle)).without_runtime()
        info.update({"type": stored.type, "path": stored.target_path, "xml": stored.to_xml()})
        if check_mode:
            if declared.state in ("active", "inactive"):
                info["active"] = declared.state == "active"
            if self.params.get("autostart") is not None:
                info["autostart"] = self.params["autostart"]
        return info

    def extra_result(self):
        return {"restart_required": self.restart_required}


def _build_keeping_data(handle, flags):
    """Build the pool; a source that holds a filesystem or volume group already is kept as it is (libvirt's
    "already built" with NO_OVERWRITE), which is what build asks for."""
    try:
        handle.build(flags)
    except libvirt.libvirtError as error:
        if not is_libvirt_error(error, libvirt.VIR_ERR_STORAGE_POOL_BUILT):
            raise


def _undefine_quietly(converger, handle):
    """Undefine a pool this task defined; when that fails, the original error says more."""
    try:
        handle.undefine()
    except libvirt.libvirtError:
        return
    converger.forget_writes()


def run_pool_module(params, check_mode, want_diff):
    """Converge the single pool (``name``) or every pool of ``pools`` over one connection."""
    return run_module(PoolAdapter, params, check_mode, want_diff, "pools", "storage pool", _TASK_LEVEL_OPTIONS,
                      _POOL_ITEM_SPEC)
