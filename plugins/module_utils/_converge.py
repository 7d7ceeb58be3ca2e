# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""One converge loop for every kind of libvirt object; each kind is an adapter.

``Converger.run()`` is the whole loop, written once: declare -> look up -> plan -> write -> active state ->
autostart -> describe, with check mode, the diff (only when asked for), the absent path and the result. An
adapter says how its kind of object is looked up, read, planned, written, started and stopped, and removed;
what a kind does not have (a volume has no active state and no autostart) it leaves out by its class
attributes. Every write to libvirt goes through ``Converger.write``: skipped in check mode, translated into
our error, and, when libvirt refuses it because another client got there first, turned into a
ConcurrentChange that ``converge`` answers by reading the object again and comparing.
"""
from __future__ import annotations

from ansible_collections.virt.libvirt.plugins.module_utils._bulk import converge_items
from ansible_collections.virt.libvirt.plugins.module_utils._connection import (
    LibvirtConnection, concurrent_change_guard, translate_libvirt_errors,
)
from ansible_collections.virt.libvirt.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.virt.libvirt.plugins.module_utils._errors import ConcurrentChange, VirtLibvirtError


class Plan:
    """What a task wants of one object: ``desired`` (the model of its definition, or None for kinds whose
    definition is not rewritten) and ``tracker`` (the changes of the definition), plus what the adapter
    needs to carry from planning to writing (``steps``)."""

    def __init__(self, desired=None, tracker=None, **steps):
        self.desired = desired
        self.tracker = tracker if tracker is not None else DifferenceTracker()
        self.steps = steps

    @property
    def changed(self):
        return self.tracker.changed


class Adapter:
    """How one kind of libvirt object is converged. Subclasses set the class attributes and the methods
    their kind needs; ``converger`` is the Converger running them (for ``write`` and the tracker)."""

    KIND = None              # LibvirtConnection.lookup's kind
    NOUN = None              # "storage pool", for messages
    RESULT_KEY = None        # the result's key describing the object ("pool")
    HAS_ACTIVE_STATE = False  # started and stopped (state active/inactive)
    HAS_AUTOSTART = False

    def __init__(self, connection, params, prefix=""):
        self.connection = connection
        self.params = params
        self.prefix = prefix
        self.check_mode = False  # set by the Converger running the adapter
        self.warnings = []  # reported with the result, and with an error after writes

    def option(self, name):
        """The option ``name`` as the task spells it (``volumes[2].capacity`` in the bulk form)."""
        return self.prefix + name

    # -- what every adapter supplies ---------------------------------------------------------------
    def declare(self):
        """The declared object (``.name``, ``.state``), checked; nothing on the host is touched."""
        raise NotImplementedError

    def lookup(self, declared):
        return self.lookup_name(declared.name)

    def lookup_name(self, name):
        """The object called ``name``, or None when there is none (a race check reads it again by name)."""
        return self.connection.lookup(self.KIND, name, option=self.option("name"))

    def read(self, handle):
        """The model of the object's persistent definition."""
        raise NotImplementedError

    def plan(self, declared, current, handle):
        """A Plan from the declaration and the current model (None for a new object)."""
        raise NotImplementedError

    def write(self, converger, declared, plan, handle):
        """Write the plan (define or create, and what follows it) with ``converger.write``; return the
        handle of the object (None only in check mode for a new one)."""
        raise NotImplementedError

    def remove(self, converger, declared, handle, before):
        """``state: absent`` on an existing object: record and make the removal."""
        raise NotImplementedError

    def describe(self, handle, plan, declared, check_mode):
        raise NotImplementedError

    def document(self, model):
        """The text of a model in the diff."""
        return model.to_pretty_xml()

    def definition_after(self, handle, plan):
        """The model the diff shows after the run: read back when this run wrote it, else as planned."""
        if handle is not None and plan.changed and not self.check_mode:
            return self.read(handle)
        return plan.desired

    def extra_result(self):
        """Keys the kind's result carries beyond the common ones."""
        return {}

    def differences(self, tracker):
        """``differences`` of the result (a kind with secrets masks them here)."""
        return tracker.as_list()

    def absent_description(self, declared):
        """How the result describes an object that is not there (any more)."""
        return {"name": declared.name, "state": "absent"}

    # -- active state and autostart, for kinds that have them ------------------------------------------
    def wanted_active(self, declared):
        """True (started), False (stopped) or None (left as it is)."""
        return None

    def is_active(self, handle):
        with translate_libvirt_errors("reading the state of the %s %s" % (self.NOUN, handle.name())):
            return bool(handle.isActive())

    def start(self, converger, declared, handle):
        converger.write("starting the %s %s" % (self.NOUN, declared.name), handle.create, ["state"],
                        raced=lambda: self.is_active(handle), option=self.option("state"))

    def stop(self, converger, declared, handle):
        converger.write("stopping the %s %s" % (self.NOUN, declared.name), handle.destroy, ["state"],
                        raced=lambda: not self.is_active(handle))

    def converge_state(self, converger, declared, handle):
        """Start or stop the object as declared (a kind with more states than two overrides this)."""
        wanted = self.wanted_active(declared)
        if wanted is None:
            return
        active = handle is not None and self.is_active(handle)
        if active == wanted:
            return
        converger.tracker.add("state", "active" if active else "inactive", "active" if wanted else "inactive")
        if handle is None:  # check mode: the object this run would define
            return
        (self.start if wanted else self.stop)(converger, declared, handle)

    def converge_autostart(self, converger, declared, handle):
        autostart = self.params.get("autostart")
        if autostart is None:
            return
        current = False
        if handle is not None:
            with translate_libvirt_errors("reading autostart of the %s %s" % (self.NOUN, declared.name)):
                current = bool(handle.autostart())
        if current == autostart:
            return
        converger.tracker.add("autostart", current, autostart)
        if handle is not None:
            converger.write("setting autostart of the %s %s" % (self.NOUN, declared.name),
                            lambda: handle.setAutostart(1 if autostart else 0), ["autostart"],
                            option=self.option("autostart"))


class Converger:
    """Brings one object to its declared state through its adapter and reports what it did (or would do)."""

    def __init__(self, adapter, check_mode, want_diff):
        self.adapter = adapter
        adapter.check_mode = check_mode
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.tracker = DifferenceTracker()
        self.done = []  # the changes written so far, reported even when a later write fails or loses a race

    def write(self, action, perform, fields, raced=None, option=None):
        """One write to libvirt: ``perform()`` unless in check mode. When it fails and ``raced()`` (which reads
        the object again) says another client got there first, ConcurrentChange is raised and the task
        reads and compares again; any other failure is our error naming ``action`` (and ``option``). The
        ``fields`` count as written from then on."""
        if self.check_mode:
            return None
        with concurrent_change_guard(raced or (lambda: False), self.done), \
                translate_libvirt_errors(action, option=option):
            value = perform()
        self.count_written(fields)
        return value

    def count_written(self, fields):
        """``fields`` were written (a write done outside ``write``, such as a shutdown awaited)."""
        self.done.extend(field for field in fields if field not in self.done)

    def forget_writes(self):
        """What this run wrote was taken back (a new object that could not start, undefined again): a failure
        from here on says the task changed nothing."""
        del self.done[:]

    def failed_after_writes(self, error, earlier=()):
        """``error`` carrying what this task wrote before it (``changed``, ``changes``, also from earlier
        attempts that lost a race) and the warnings so far, so that a failed task does not say it changed
        nothing."""
        written = list(earlier) + [field for field in self.done if field not in earlier]
        if written:
            error.details.update(changed=True, changes=written)
        if self.adapter.warnings:
            error.details["warnings"] = list(error.details.get("warnings") or []) + list(self.adapter.warnings)
        return error

    def run(self):
        adapter = self.adapter
        declared = adapter.declare()
        if declared.state == "absent":
            # Another run removing the same object at once: whatever fails because it is gone is no error.
            with concurrent_change_guard(lambda: adapter.lookup(declared) is None, self.done):
                return self._absent(declared)
        handle = adapter.lookup(declared)
        current = adapter.read(handle) if handle is not None else None
        plan = adapter.plan(declared, current, handle)
        self.tracker.extend(plan.tracker)
        handle = adapter.write(self, declared, plan, handle)
        if adapter.HAS_ACTIVE_STATE:
            adapter.converge_state(self, declared, handle)
        if adapter.HAS_AUTOSTART:
            adapter.converge_autostart(self, declared, handle)
        result = self._result(adapter.describe(handle, plan, declared, self.check_mode))
        if self.want_diff:
            result["diff"] = self._diff(declared.name, current, adapter.definition_after(handle, plan))
        return result

    def _absent(self, declared):
        adapter = self.adapter
        handle = adapter.lookup(declared)
        if handle is None:
            return self._result(adapter.absent_description(declared))
        before = adapter.read(handle)
        adapter.remove(self, declared, handle, before)
        result = self._result(adapter.absent_description(declared))
        if self.want_diff:
            result["diff"] = self._diff(declared.name, before, None)
        return result

    def _result(self, description):
        result = {
            "changed": self.tracker.changed,
            "changes": self.tracker.fields,
            "differences": self.adapter.differences(self.tracker),
            self.adapter.RESULT_KEY: description,
        }
        result.update(self.adapter.extra_result())
        if self.adapter.warnings:
            result["warnings"] = list(self.adapter.warnings)
        return result

    def _diff(self, name, before, after):
        header = "%s (%s)" % (name, "persistent definition" if self.adapter.HAS_ACTIVE_STATE else "definition")
        return {
            "before": self.adapter.document(before) if before is not None else "",
            "after": self.adapter.document(after) if after is not None else "",
            "before_header": header,
            "after_header": header if after is not None else "(absent)",
        }


# How often one object is read and converged again when another client changed it under a write.
CONCURRENT_CHANGE_ATTEMPTS = 3


def converge(adapter_class, connection, params, check_mode, want_diff, prefix=""):
    """Converge one object. When another client raced one of the writes, read and converge again: what an
    attempt wrote before it lost the race still counts as this task's change, in the result and in a failure
    (when the races go on, the last write's error is raised as it is)."""
    earlier = []  # what attempts that lost a race to another run wrote
    for attempt in range(CONCURRENT_CHANGE_ATTEMPTS):
        converger = Converger(adapter_class(connection, params, prefix), check_mode, want_diff)
        try:
            result = converger.run()
        except ConcurrentChange as race:
            earlier.extend(field for field in race.done if field not in earlier)
            if attempt + 1 == CONCURRENT_CHANGE_ATTEMPTS:
                raise race.error from None
            continue
        except VirtLibvirtError as error:
            raise converger.failed_after_writes(error, earlier) from None
        if earlier:
            result["changed"] = True
            result["changes"] = earlier + [field for field in result.get("changes", []) if field not in earlier]
        return result


def run_module(adapter_class, params, check_mode, want_diff, bulk_option, noun, task_level_options, item_spec):
    """A module's whole run: one connection; the single object, or every item of ``bulk_option``."""
    with LibvirtConnection(params.get("uri")) as connection:
        if not params.get(bulk_option):
            return converge(adapter_class, connection, params, check_mode, want_diff)
        return converge_items(
            params, bulk_option, noun, task_level_options, item_spec,
            lambda item, prefix: converge(adapter_class, connection, item, check_mode, want_diff, prefix))
