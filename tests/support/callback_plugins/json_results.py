# Test-only callback: writes every task result as one JSON line to $VIRT_LIBVIRT_RESULTS.
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: json_results
type: aggregate
short_description: write task results as JSON lines (tests only)
description: [Writes each task result to the file named by VIRT_LIBVIRT_RESULTS.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "json_results"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = {}

    def v2_runner_on_start(self, host, task):
        # when a worker took the task for the host: with several forks, hosts' runs overlap
        self._started[(host.get_name(), task._uuid)] = time.time()

    def _write(self, result, status):
        path = os.environ.get("VIRT_LIBVIRT_RESULTS")
        if not path:
            return
        record = {
            "task": result._task.get_name(),
            "action": result._task.action,
            "host": result._host.get_name(),
            "status": status,
            "result": result._result,
            "started": self._started.get((result._host.get_name(), result._task._uuid)),
            "ended": time.time(),
        }
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_item_on_ok(self, result):
        self._write(result, "item_ok")

    def v2_runner_item_on_failed(self, result):
        self._write(result, "item_failed")
