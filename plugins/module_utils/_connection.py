# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The one way the collection talks to libvirt: open by URI, translate errors, always close."""
from __future__ import annotations

import contextlib
from urllib.parse import urlparse

from ansible_collections.virt.libvirt.plugins.module_utils._errors import ConcurrentChange, VirtLibvirtError

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


def uri_secret_values(uri):
    """A password written into a connection URI (``esx://root:password@host/``), to mask in output."""
    if not isinstance(uri, str):
        return set()
    try:
        password = urlparse(uri).password
    except ValueError:  # a malformed URI: libvirt will say so, and there is no password to find
        return set()
    return {password} if password else set()


def is_local_uri(uri):
    """Whether ``uri`` reaches the daemon on this host (``qemu:///system``): then the paths libvirt names are
    this host's files. A remote URI names a host (``qemu+ssh://host/system``)."""
    return not urlparse(uri).netloc


def _unreachable_hint(error):
    """What to check when no daemon answered (its socket is missing, refused, or the remote host is not reached)."""
    if error.get_error_domain() == libvirt.VIR_FROM_RPC and error.get_error_code() == libvirt.VIR_ERR_SYSTEM_ERROR:
        return ". Is the libvirt daemon (libvirtd, or the driver's own daemon such as virtqemud) running on that " \
               "host, and is the uri right?"
    return ""


def translated_error(action, error, option=None, **details):
    """The VirtLibvirtError for a libvirtError raised while doing ``action``."""
    text = libvirt_error_text(error)
    lost = ""
    if error.get_error_domain() == libvirt.VIR_FROM_RPC and error.get_error_code() in (
            libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_INTERNAL_ERROR):
        lost = " (the connection to the libvirt daemon was lost: did it stop or restart during the task?)"
    return VirtLibvirtError("%s failed: %s%s" % (action, text, lost), option=option, libvirt_message=text, **details)


@contextlib.contextmanager
def translate_libvirt_errors(action, option=None, **details):
    """Turn a libvirtError raised inside the block into VirtLibvirtError naming ``action``."""
    try:
        yield
    except libvirt.libvirtError as error:
        raise translated_error(action, error, option, **details) from None


@contextlib.contextmanager
def concurrent_change_guard(changed_underneath, done=()):
    """A write that fails because another client got there first (``changed_underneath()`` re-reads the
    object and says so) raises ConcurrentChange; any other failure is raised as it is."""
    try:
        yield
    except ConcurrentChange:
        raise
    except VirtLibvirtError as error:
        try:
            raced = bool(changed_underneath())
        except VirtLibvirtError:
            raced = False  # the object cannot be read again either: the original error says more
        if raced:
            raise ConcurrentChange(error, done) from None
        raise


class LibvirtConnection:
    """A libvirt connection opened by URI and closed when the ``with`` block ends."""

    def __init__(self, uri=DEFAULT_URI, read_only=False):
        self.uri = uri or DEFAULT_URI
        self.read_only = read_only
        self.conn = None
        self._capabilities = None
        # What one task reads once over this connection and shares between its items (a bulk form's volumes
        # refresh their pool once, not once each).
        self.memo = {}

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
                "cannot connect to libvirt at uri '%s': %s%s" % (self.uri, text, _unreachable_hint(error)),
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

    def capabilities(self):
        """The host's capabilities, read once per connection and only when a task needs them."""
        if self._capabilities is None:
            # Imported here: most module runs never need them.
            from ansible_collections.virt.libvirt.plugins.module_utils._capabilities_model import Capabilities
            self._capabilities = Capabilities.from_xml(
                self.call("reading the host capabilities", self.conn.getCapabilities))
        return self._capabilities

    def canonical_machine(self, arch, domain_type, name):
        """The machine type the host's ``name`` is an alias of (``pc`` -> ``pc-i440fx-7.2``), or None."""
        return self.capabilities().canonical_machine(arch, domain_type, name)

    # How each kind of object is looked up: (method of the connection, or of the parent for a volume; the
    # libvirt error code that means "no such object"; the noun for messages).
    _LOOKUPS = {
        "domain": ("lookupByName", "VIR_ERR_NO_DOMAIN", "guest"),
        "network": ("networkLookupByName", "VIR_ERR_NO_NETWORK", "network"),
        "pool": ("storagePoolLookupByName", "VIR_ERR_NO_STORAGE_POOL", "storage pool"),
        "volume": ("storageVolLookupByName", "VIR_ERR_NO_STORAGE_VOL", "storage volume"),
    }

    def lookup(self, kind, name, parent=None, option="name"):
        """The libvirt object of ``kind`` called ``name`` (a volume: in the pool ``parent``), or None when
        there is none. Any other failure is raised, naming ``option``."""
        method, code, noun = self._LOOKUPS[kind]
        owner = parent if kind == "volume" else self.conn
        try:
            return getattr(owner, method)(name)
        except libvirt.libvirtError as error:
            if is_libvirt_error(error, getattr(libvirt, code)):
                return None
            raise translated_error("looking up the %s %s" % (noun, name), error, option=option, uri=self.uri) from None

    @property
    def is_local(self):
        return is_local_uri(self.uri)

    def driver_name(self):
        return self.call("reading the hypervisor type", self.conn.getType)
