# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Import guards for the libraries the modules need on the managed host (pycdlib only for cloud-init disks)."""
from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import lxml.etree  # noqa: F401 pylint: disable=unused-import
    LXML_IMPORT_ERROR = None
except ImportError:
    LXML_IMPORT_ERROR = traceback.format_exc()

try:
    import libvirt  # noqa: F401 pylint: disable=unused-import
    LIBVIRT_IMPORT_ERROR = None
except ImportError:
    LIBVIRT_IMPORT_ERROR = traceback.format_exc()

try:
    import pycdlib  # noqa: F401 pylint: disable=unused-import
    PYCDLIB_IMPORT_ERROR = None
except ImportError:
    PYCDLIB_IMPORT_ERROR = traceback.format_exc()

# (import name, package to install, import traceback)
_LIBRARIES = {
    "lxml": ("lxml", LXML_IMPORT_ERROR),
    "libvirt": ("libvirt-python", LIBVIRT_IMPORT_ERROR),
    "pycdlib": ("pycdlib", PYCDLIB_IMPORT_ERROR),
}


def missing_library_message(name):
    """Ansible's standard "missing library" message for ``name`` when it cannot be imported, else None (for a
    library only some options need, checked when they are given)."""
    package, import_error = _LIBRARIES[name]
    if import_error is None:
        return None
    return missing_required_lib(package) + " (Python module '%s' cannot be imported)" % name


def require_libraries(module, names=("lxml", "libvirt")):
    """Fail the task with Ansible's standard "missing library" message naming the package."""
    for name in names:
        package, import_error = _LIBRARIES[name]
        if import_error is not None:
            module.fail_json(
                msg=missing_required_lib(package) + " (Python module '%s' cannot be imported)" % name,
                exception=import_error,
            )
