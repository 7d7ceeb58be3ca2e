# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action behind virt.libvirt.xenpv_drivers: the module where the host can run it, plain commands where
it cannot.

A RHEL 5 Xen host - the only Xen host Red Hat shipped - has Python 2.4, which no module of ansible-core 2.16+
runs on. With ``gather: auto`` (the default) the interpreter Ansible would use is asked its version first;
when it is missing, older than 3.8 or lacks lxml (or libvirt-python for named guests), the facts are gathered
with commands over the connection and the same rules (module_utils/_xenpv.py, _xenpv_rules.py) are applied
on the controller. Options, results, problem codes and check mode are the module's.
"""
from __future__ import annotations

from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.virt.libvirt.plugins.module_utils._connection import uri_secret_values
from ansible_collections.virt.libvirt.plugins.module_utils._errors import VirtLibvirtError
from ansible_collections.virt.libvirt.plugins.module_utils._xenpv import check_input, check_xenpv_host, error_result
from ansible_collections.virt.libvirt.plugins.module_utils._xenpv_raw import (
    CommandHost, check_raw_input, command_line, interpreter_argv, module_can_run, probe_argv, validated_parameters,
)

MODULE = "virt.libvirt.xenpv_drivers"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True  # everything it does reads; check mode runs the same
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        module_args = dict(self._task.args)
        secrets = uri_secret_values(module_args.get("uri"))
        reason = None
        try:
            # Bad input is refused before anything runs on the host, whichever way the facts come.
            params = validated_parameters(module_args, self._task.action)
            check_input(params)
            gather, reason = params["gather"], "gather is raw"
            if gather == "auto":
                gather, reason = self._choose(module_args, params, task_vars)
            if gather == "module":
                result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
                return remove_values(result, secrets)
            check_raw_input(params)
            result.update(check_xenpv_host(params, self._host(), gather="raw"))
            result["gather_reason"] = reason
        except VirtLibvirtError as error:
            result.update(error_result(error))
            if error.details.get("gather") == "raw":
                result["gather_reason"] = reason
        return remove_values(result, secrets)

    def _choose(self, module_args, params, task_vars):
        """("module", None) when the host can run the module, else ("raw", why not)."""
        interpreter = interpreter_argv(self._module_shebang(module_args, task_vars))
        rc, stdout, stderr = self._host().run(probe_argv(interpreter))
        can_run, why = module_can_run(interpreter, rc, stdout, stderr, params)
        return ("module", None) if can_run else ("raw", why)

    def _module_shebang(self, module_args, task_vars):
        """The interpreter line Ansible would run the module with. ansible-core before 2.19 returns
        (style, shebang, data, path) from _configure_module; 2.19 and later (the built module, path), the built
        module carrying the shebang."""
        configured = self._configure_module(MODULE, dict(module_args), task_vars)
        if len(configured) == 2:
            return configured[0].shebang
        return configured[1]

    def _host(self):
        """The host, asked with commands, and the task's environment for the programs a module would start."""
        environment = {}
        self._compute_environment_string(environment)
        return CommandHost(self._run_on_host, environment)

    def _run_on_host(self, argv):
        """One command on the host, with become when the task has it, as the module would run."""
        outcome = self._low_level_execute_command(command_line(argv), sudoable=bool(self._connection.become))
        return outcome.get("rc"), outcome.get("stdout") or "", outcome.get("stderr") or ""
