# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""cloud-init NoCloud disk images: an ISO 9660 filesystem labelled ``cidata`` holding ``user-data``,
``meta-data`` and optionally ``network-config`` and ``vendor-data``, made in Python with pycdlib."""
from __future__ import annotations

import io
import json

from ansible_collections.virt.libvirt.plugins.module_utils._errors import InputError

try:
    import pycdlib
except ImportError:  # reported by _deps.missing_library_message before any use
    pycdlib = None

LABEL = "cidata"
# The options of cloud_init and the files NoCloud reads, in this order.
FILES = (("user_data", "user-data"), ("meta_data", "meta-data"), ("network_config", "network-config"),
         ("vendor_data", "vendor-data"))
# ISO 9660 names (interchange level 3); Rock Ridge and Joliet carry the real names.
_ISO_NAMES = {"user-data": "/USER_DATA.;1", "meta-data": "/META_DATA.;1", "network-config": "/NETWORK_CONFIG.;1",
              "vendor-data": "/VENDOR_DATA.;1"}


def _text(value, option, cloud_config):
    """A file's content: a string as it is, a dictionary as JSON (which YAML, and so cloud-init, reads),
    with the ``#cloud-config`` line cloud-init needs to take user data as configuration."""
    if isinstance(value, dict):
        text = json.dumps(value, indent=2, sort_keys=True) + "\n"
        return ("#cloud-config\n" + text) if cloud_config else text
    if isinstance(value, (list, tuple, bool, int, float)):
        raise InputError("must be a YAML document as a string, or a dictionary, got %s" % type(value).__name__,
                         option=option)
    return str(value)


def cloud_init_files(options, option, default_instance_id):
    """The files of the cloud-init disk from the ``cloud_init`` options, as bytes by file name. meta-data defaults to the
    volume's instance id, user-data to an empty cloud-config."""
    files = {}
    for key, filename in FILES:
        value = options.get(key)
        if value is None:
            if key == "meta_data":
                value = "instance-id: %s\n" % default_instance_id
            elif key == "user_data":
                value = "#cloud-config\n"
            else:
                continue
        files[filename] = _text(value, "%s.%s" % (option, key), key in ("user_data", "vendor_data")).encode("utf-8")
    return files


def build_cloud_init_image(files):
    """The ISO image (bytes) holding ``files``, labelled ``cidata``."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=LABEL)
    for filename, data in files.items():
        iso.add_fp(io.BytesIO(data), len(data), _ISO_NAMES[filename], rr_name=filename, joliet_path="/" + filename)
    output = io.BytesIO()
    iso.write_fp(output)
    iso.close()
    return output.getvalue()


def read_cloud_init_image(image):
    """The label and the files of a cloud-init image, or None when ``image`` is not an ISO 9660 filesystem."""
    iso = pycdlib.PyCdlib()
    try:
        iso.open_fp(io.BytesIO(image))
    except pycdlib.pycdlibexception.PyCdlibException:
        return None
    try:
        label = iso.pvd.volume_identifier.decode("ascii", "replace").strip()
        files = {}
        for _key, filename in FILES:
            output = io.BytesIO()
            try:
                iso.get_file_from_iso_fp(output, rr_path="/" + filename)
            except pycdlib.pycdlibexception.PyCdlibException:
                continue
            files[filename] = output.getvalue()
        return label, files
    finally:
        iso.close()
