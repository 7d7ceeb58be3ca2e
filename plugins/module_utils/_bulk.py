# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The bulk form shared by the modules: converge every item of a list over one connection."""
from __future__ import annotations

from ansible_collections.virt.libvirt.plugins.module_utils._errors import ModelError, VirtLibvirtError


def item_argument_spec(single_spec):
    """The options of one bulk item: the single form's, with ``name`` required and no defaults of their
    own, so that an item inherits the task-level value of an option it does not set."""
    spec = {key: {k: v for k, v in value.items() if k != "default"} for key, value in single_spec.items()}
    spec["name"] = dict(spec["name"], required=True)
    return spec


def converge_items(params, option, noun, task_level_options, converge_one):
    """Converge each item of ``params[option]`` with ``converge_one(item_params, prefix)``.

    A failing item does not stop the others unless ``stop_on_error``; the whole task fails at the end
    naming every failed item, and its result still carries every item's own outcome.
    """
    items = params[option]
    names = [item.get("name") for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ModelError("the %s %s is listed more than once" % (noun, duplicates[0]), option=option)
    results, failed = [], []
    for index, item in enumerate(items):
        merged = {key: value for key, value in item.items() if value is not None}
        for key in task_level_options:
            merged.setdefault(key, params.get(key))
        try:
            outcome = converge_one(merged, "%s[%d]." % (option, index))
            outcome["failed"] = False
        except VirtLibvirtError as error:
            outcome = {"failed": True, "msg": str(error), "changed": False, "changes": [],
                       "restart_required": False}
            failed.append(outcome)
        outcome["name"] = item.get("name")
        results.append(outcome)
        if failed and params.get("stop_on_error"):
            break
    summary = {
        "changed": any(result.get("changed") for result in results),
        "results": results,
        "restart_required": [result["name"] for result in results if result.get("restart_required")],
    }
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
