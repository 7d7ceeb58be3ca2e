# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""Options declared once (as community.docker's ``OptionGroup.add_option``).

One ``Option`` row says everything about a scalar option: its dotted name as the task spells it
(``bridge.name``), its argument spec, the model field it sets, the codec that normalises it, and whether an
empty value removes it. From a table of rows come the module's argument spec (nested by the dots), the
normalisation of a task's values, the values read back from a user's document (the ``xml`` base), and the
labels ``changes`` uses. Adding an option is adding a row (and its test).
"""
from __future__ import annotations


class Option:
    """One scalar option: ``path`` as the task spells it, ``field`` of the model, its ``spec``.

    ``codec`` normalises the value (default: the field's own codec); with ``removable``, an empty string
    declares the value absent (normalised to '').
    """

    def __init__(self, path, field, spec, codec=None, removable=False):
        self.path = path
        self.steps = tuple(path.split("."))
        self.field = field
        self.spec = spec
        self.codec = codec
        self.removable = removable

    def raw(self, options):
        """The value the task gave (None when not given), found by the dotted path."""
        value = options
        for step in self.steps:
            if not isinstance(value, dict):
                return None
            value = value.get(step)
        return value

    def normalize(self, options, model_class, prefix=""):
        value = self.raw(options)
        option = prefix + self.path
        if value is None:
            return None
        if self.removable and isinstance(value, str) and not value.strip():
            return ""
        if self.codec is not None:
            return self.codec.normalize(value, option)
        return model_class.fields()[self.field].normalize(value, option)

    def read(self, model):
        """The option's value in a document (the model's field)."""
        return getattr(model, self.field)


def argument_spec(options, **others):
    """The argument spec of a table: ``bridge.name`` becomes ``bridge: {type: dict, options: {name: ...}}``.
    ``others`` are the options that are not table rows (lists of suboptions, state ...), as they are."""
    spec = dict(others)
    for option in options:
        level = spec
        for step in option.steps[:-1]:
            level = level.setdefault(step, {"type": "dict", "options": {}})["options"]
        level[option.steps[-1]] = dict(option.spec)
    return spec


def normalize(options, values, model_class, prefix=""):
    """{field: normalised value or None} for every row of ``options`` in the task's ``values``."""
    return {option.field: option.normalize(values, model_class, prefix) for option in options}


def read_back(options, model):
    """A document's values shaped as the task's options (``{"bridge": {"name": ...}}``)."""
    values = {}
    for option in options:
        level = values
        for step in option.steps[:-1]:
            level = level.setdefault(step, {})
        level[option.steps[-1]] = option.read(model)
    return values


def labels(options):
    """{model field: option path} where the two differ, for ``changes``."""
    return {option.field: option.path for option in options if option.field != option.path}


def option_of(options, field):
    """The option path that sets ``field``."""
    for option in options:
        if option.field == field:
            return option.path
    raise KeyError(field)
