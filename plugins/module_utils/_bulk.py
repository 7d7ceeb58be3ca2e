# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The bulk form shared by the modules: converge every item of a list over one connection."""
from __future__ import annotations

import collections

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.virt.libvirt.plugins.module_utils._connection import CONNECTION_ARGUMENT_SPEC
from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError, VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._module import argument_errors

try:
    from ansible.module_utils.errors import UnsupportedError
except ImportError:  # ansible-core before 2.11 has no typed validation errors
    UnsupportedError = None

# The bulk option itself (domains, networks): its items are checked here, against the single form's own
# argument spec, so the items' options are documented once, as the single form's.
BULK_OPTION_SPEC = {"type": "list", "elements": "dict"}


def bulk_argument_spec(single_spec, bulk_option):
    """A module's whole argument spec: the connection, the single form's options, the bulk option and
    ``stop_on_error``."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(single_spec)
    spec[bulk_option] = dict(BULK_OPTION_SPEC)
    spec["stop_on_error"] = {"type": "bool", "default": False}
    return spec


def item_argument_spec(single_spec):
    """The options of one bulk item: the single form's, with ``name`` required and no defaults of their
    own, so that an item inherits the task-level value of an option it does not set."""
    spec = {key: {k: v for k, v in value.items() if k != "default"} for key, value in single_spec.items()}
    spec["name"] = dict(spec["name"], required=True)
    return spec


def _validated(validator, item, prefix):
    if not isinstance(item, dict):
        raise InputError("must be a dictionary of options, got %s" % type(item).__name__, option=prefix[:-1])
    checked = validator.validate(item)
    if checked.error_messages:
        raise InputError("; ".join(_item_error_messages(checked)), option=prefix[:-1])
    return checked.validated_parameters


def _item_error_messages(checked):
    """The validator's messages, with an unknown option said to be one: ansible-core's own text for it starts
    with the bare name ("memroy. Supported parameters include: ..."), which AnsibleModule prefixes for the
    single form ("Unsupported parameters for ... module: memroy. ...")."""
    messages = []
    for error in argument_errors(checked.errors):
        message = error.args[0]
        if UnsupportedError is not None and isinstance(error, UnsupportedError):
            plural = "s" if len(checked.unsupported_parameters) > 1 else ""
            message = "unsupported parameter%s: %s" % (plural, message)
        messages.append(message)
    return messages


def converge_items(params, option, noun, task_level_options, item_spec, converge_one):
    """Converge each item of ``params[option]`` with ``converge_one(item_params, prefix)``.

    Each item is checked against ``item_spec`` first. A failing item does not stop the others unless
    ``stop_on_error``; the whole task fails at the end naming every failed item, and its result still
    carries every item's own outcome (without the objects' full XML, which would bury the messages). An item
    that failed after it changed something is reported changed. The items' warnings are the task's, each
    prefixed with its item's name.
    """
    validator = ArgumentSpecValidator(item_spec)
    items = params[option]
    names = collections.Counter(item.get("name") for item in items if isinstance(item, dict))
    duplicates = sorted(name for name, count in names.items() if count > 1 and name is not None)
    if duplicates:
        raise InputError("the %s %s is listed more than once" % (noun, duplicates[0]), option=option)
    results, failed = [], []
    for index, item in enumerate(items):
        prefix = "%s[%d]." % (option, index)
        try:
            checked = _validated(validator, item, prefix)
            merged = {key: value for key, value in checked.items() if value is not None}
            for key in task_level_options:
                merged.setdefault(key, params.get(key))
            outcome = converge_one(merged, prefix)
            outcome["failed"] = False
        except VirtLibvirtError as error:
            # What the item wrote before it failed (changed, changes) and what it warned about come along.
            outcome = dict(error.details, failed=True, msg=str(error))
            outcome["changed"] = bool(outcome.get("changed"))
            outcome.setdefault("changes", [])
            outcome.setdefault("restart_required", False)
            failed.append(outcome)
        outcome["name"] = item.get("name") if isinstance(item, dict) else None
        results.append(outcome)
        if failed and params.get("stop_on_error"):
            break
    if failed:
        results = [_without_xml(result) for result in results]
    summary = {
        "changed": any(result.get("changed") for result in results),
        "results": results,
        "restart_required": [result["name"] for result in results if result.get("restart_required")],
    }
    warnings = ["%s: %s" % (result["name"], warning) for result in results for warning in result.get("warnings", [])]
    if warnings:
        summary["warnings"] = warnings
    diffs = [dict(result["diff"], before_header=result["name"], after_header=result["name"])
             for result in results if result.get("diff") and result.get("changed")]
    if diffs:
        summary["diff"] = diffs
    if failed:
        skipped = len(items) - len(results)
        raise VirtLibvirtError(
            "%d of %d %ss failed%s: %s" % (
                len(failed), len(items), noun, " (%d not attempted: stop_on_error)" % skipped if skipped else "",
                "; ".join("%s: %s" % (result["name"], result["msg"]) for result in failed)),
            option=option, **summary)
    return summary


def _without_xml(result):
    """An item's outcome without the full XML of its object (``domain.xml``, ``network.xml``)."""
    return {key: ({k: v for k, v in value.items() if k != "xml"} if isinstance(value, dict) else value)
            for key, value in result.items()}
