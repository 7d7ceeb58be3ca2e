# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""One difference tracker feeds ``changed``, ``changes`` and the diff."""
from __future__ import annotations


class DifferenceTracker:
    """Collects (field, before, after) once; everything else is derived from it."""

    def __init__(self):
        self._differences = []

    def add(self, field, before, after):
        self._differences.append({"field": field, "before": before, "after": after})

    def extend(self, other):
        for difference in other._differences:  # pylint: disable=protected-access
            self.add(difference["field"], difference["before"], difference["after"])

    @property
    def changed(self):
        return bool(self._differences)

    @property
    def fields(self):
        """The changed field names, in the order they were recorded, without repeats."""
        seen = []
        for difference in self._differences:
            if difference["field"] not in seen:
                seen.append(difference["field"])
        return seen

    def as_list(self):
        return [dict(d) for d in self._differences]

    def __bool__(self):
        return self.changed

    def __len__(self):
        return len(self._differences)
