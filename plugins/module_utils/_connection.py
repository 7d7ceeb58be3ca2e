# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The one way the collection talks to libvirt: open by URI, translate errors, always close."""
from __future__ import annotations

import contextlib

from ansible_collections.virt.libvirt.plugins.module_utils._errors import VirtLibvirtError

try:
    import libvirt
except ImportError:  # reported by _deps.require_libraries before any use
    libvirt = None

DEFAULT_URI = "qemu:///system"

# Mirrored by plugins/doc_fragments/connection.py.
CONNECTION_ARGUMENT_SPEC = {
    "uri": {"type": "str", "default": DEFAULT_URI},
}


def _silence_default_error_handler(_context, _error):
    # libvirt prints every error to stderr by default; we report them through VirtLibvirtError.
    return None


def libvirt_error_text(error):
    """libvirt's own message for a libvirtError, without the Python class noise."""
    try:
        text = error.get_error_message()
    except Exception:  # pylint: disable=broad-except
        text = None
    return text or str(error)


def is_libvirt_error(error, *codes):
    """True when ``error`` is a libvirtError (with one of ``codes`` when given)."""
    if libvirt is None or not isinstance(error, libvirt.libvirtError):
        return False
    return not codes or error.get_error_code() in codes


@contextlib.contextmanager
def translate_libvirt_errors(action, option=None, **details):
    """Turn a libvirtError raised inside the block into VirtLibvirtError naming ``action``."""
    try:
        yield
    except libvirt.libvirtError as error:
        text = libvirt_error_text(error)
        raise VirtLibvirtError(
            "%s failed: %s" % (action, text), option=option, libvirt_message=text, **details
        ) from None


class LibvirtConnection:
    """A libvirt connection opened by URI and closed when the ``with`` block ends."""

    def __init__(self, uri=DEFAULT_URI, read_only=False):
        self.uri = uri or DEFAULT_URI
        self.read_only = read_only
        self.conn = None

    def __enter__(self):
        libvirt.registerErrorHandler(_silence_default_error_handler, None)
        try:
            if self.read_only:
                self.conn = libvirt.openReadOnly(self.uri)
            else:
                self.conn = libvirt.open(self.uri)
        except libvirt.libvirtError as error:
            text = libvirt_error_text(error)
            raise VirtLibvirtError(
                "cannot connect to libvirt at uri '%s': %s" % (self.uri, text),
                option="uri", libvirt_message=text,
            ) from None
        if self.conn is None:
            raise VirtLibvirtError("cannot connect to libvirt at uri '%s'" % self.uri, option="uri")
        return self

    def __exit__(self, *exc_info):
        if self.conn is not None:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass  # the daemon may be gone already; nothing left to release
            self.conn = None
        return False

    def call(self, action, function, *args, **kwargs):
        """Run one libvirt API call, translating its error into VirtLibvirtError."""
        with translate_libvirt_errors(action, uri=self.uri):
            return function(*args, **kwargs)

    def driver_name(self):
        return self.call("reading the hypervisor type", self.conn.getType)
