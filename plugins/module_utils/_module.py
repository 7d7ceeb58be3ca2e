# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The AnsibleModule every module of the collection builds: argument errors always name the option."""
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.errors import NoLogError

from ansible_collections.virt.libvirt.plugins.module_utils._connection import uri_secret_values
from ansible_collections.virt.libvirt.plugins.module_utils._deps import require_libraries
from ansible_collections.virt.libvirt.plugins.module_utils._errors import VirtLibvirtError, fail_from_error


def argument_errors(errors):
    """The errors of an argument spec validation, those that name their option first.

    For a string given where a dictionary of suboptions is expected (``os: hvm``), ansible-core's first error
    comes from its no_log scan and reads "dictionary requested, could not parse JSON or key=value", naming
    nothing; the type check's error for the same value, which names the option, follows it.
    """
    errors = list(getattr(errors, "errors", errors) or [])
    named = [error for error in errors if not isinstance(error, NoLogError)]
    return named or errors


def argument_error_messages(errors):
    """The messages of ``argument_errors(errors)``."""
    return [error.args[0] for error in argument_errors(errors)]


class VirtLibvirtModule(AnsibleModule):
    """AnsibleModule whose argument errors name the option they are about, and which masks the values of
    ``secret_values`` like no_log values: in the result, the diff, the echoed arguments and the invocation it
    logs on the host (logged while __init__ runs, hence the hook in _log_invocation)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.no_log_values.update(self.secret_values(self.params))

    def secret_values(self, params):
        """Secrets no_log cannot reach because they sit inside another option's value."""
        return uri_secret_values(params.get("uri"))

    def _log_invocation(self):
        self.no_log_values.update(self.secret_values(self.params))
        super()._log_invocation()

    def fail_json(self, msg=None, **kwargs):
        # Also when the arguments themselves are refused, before __init__ got to the secrets.
        self.no_log_values.update(self.secret_values(getattr(self, "params", None) or {}))
        result = getattr(self, "validation_result", None)
        errors = getattr(getattr(result, "errors", None), "errors", None)
        if errors and msg == errors[0].args[0]:
            msg = argument_error_messages(errors)[0]
        super().fail_json(msg=msg, **kwargs)


def run_module_main(runner, argument_spec, module_class=VirtLibvirtModule, libraries=None, **module_options):
    """A module's whole ``main()``: build the module (check mode supported), fail with Ansible's missing-library
    message when a library is missing, run ``runner(module)`` and exit with its result, or fail naming the
    option a VirtLibvirtError is about. ``libraries(params)`` names the libraries the task needs."""
    module = module_class(argument_spec=argument_spec, supports_check_mode=True, **module_options)
    if libraries is None:
        require_libraries(module)
    else:
        require_libraries(module, names=libraries(module.params))
    try:
        result = runner(module)
    except VirtLibvirtError as error:
        fail_from_error(module, error)
    module.exit_json(**result)
