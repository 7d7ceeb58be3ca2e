# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The collection's error types (one base, VirtLibvirtError); modules turn them into fail_json in one place."""
from __future__ import annotations


class VirtLibvirtError(Exception):
    """An error a user can act on.

    ``option`` names the task option (dotted path such as ``interfaces[1].mac``) that caused it,
    ``libvirt_message`` carries libvirt's own text when libvirt refused something.
    """

    def __init__(self, message, option=None, libvirt_message=None, **details):
        super().__init__(message)
        self.message = message
        self.option = option
        self.libvirt_message = libvirt_message
        self.details = details

    def __str__(self):
        text = self.message
        if self.option and not text.startswith(self.option):
            text = "%s: %s" % (self.option, text)
        if self.libvirt_message and self.libvirt_message not in text:
            text = "%s (libvirt: %s)" % (text, self.libvirt_message)
        return text


class ModelError(VirtLibvirtError):
    """Raised by the XML models (``_xmlmodel.py`` and the ``_*_model.py`` files) for a document or a value
    their codecs and parsers cannot accept: XML that is not well-formed, a size with an unknown unit, a MAC
    that is not one. The option is the one the value came from (``xml``, ``memory``)."""


class InputError(VirtLibvirtError):
    """Raised by the checks of a task's options outside the models (the ``Declared*`` classes, the plans,
    the bulk form's items, the xenpv-win rules): options that each read well but make no sense together or
    with the host (two disks on one target, a uuid that cannot change, a static lease outside its subnet).
    Found before the host is changed, and names the option."""


def fail_from_error(module, error, **result):
    """The single place where a VirtLibvirtError becomes a failed task."""
    extra = dict(result)
    if error.option:
        extra["option"] = error.option
    if error.libvirt_message:
        extra["libvirt_message"] = error.libvirt_message
    extra.update(error.details)
    module.fail_json(msg=str(error), **extra)


class ConcurrentChange(Exception):
    """libvirt refused a write because another client changed the same object after it was read (two runs
    converging one host at once). Not an error a user sees: control flow for the converger, which reads the
    object again and compares instead of failing. ``error`` is the VirtLibvirtError the write failed with,
    raised as it is when the races go on (_converge.converge); ``done`` the changes written before."""

    def __init__(self, error, done=()):
        super().__init__(error.message)
        self.error = error
        self.done = list(done)
