# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# PRIVATE: this module_utils file is internal to virt.libvirt and may change without notice.
"""The small base shared by the domain, network and capabilities models.

The parsed lxml tree is the source of truth. A field is a descriptor that reads its value from the
tree and, when set, writes only that value back, creating the elements on its path in libvirt's
element order. Everything the model does not name (elements, attributes, comments, foreign
namespaces) is never touched, so it survives a parse/render round trip unchanged.

Codecs own normalisation (memory units, MAC case, UUID dashes, booleans): a field's value is
always normalised, so comparing two documents is ``desired == actual`` field by field.
"""
from __future__ import annotations

import copy
import re

from ansible_collections.virt.libvirt.plugins.module_utils._errors import ModelError

try:
    from lxml import etree
except ImportError:  # reported by _deps.require_libraries before any use
    etree = None

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _parser():
    # No entities, no network, no DTD: a guest definition must never read files or URLs.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_xml(text, root_tag, option="xml"):
    """Parse ``text`` into an element whose root must be ``root_tag``, or raise ModelError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ModelError("is not UTF-8 text: %s" % error, option=option) from None
    if not isinstance(text, str):
        raise ModelError("must be an XML document as a string, got %s" % type(text).__name__, option=option)
    if not text.strip():
        raise ModelError("is empty; it must be a <%s> XML document" % root_tag, option=option)
    # lxml refuses str input with an encoding declaration; the text is already decoded.
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        root = etree.fromstring(text, _parser())
    except etree.XMLSyntaxError as error:
        raise ModelError("is not well-formed XML: %s" % error, option=option) from None
    if not isinstance(root.tag, str):
        raise ModelError("has no root element", option=option)
    if root.tag != root_tag:
        raise ModelError(
            "has the root element <%s>, but a <%s> document is expected" % (root.tag, root_tag),
            option=option,
        )
    return root


# ----------------------------------------------------------------------------------------------
# Codecs: XML text <-> typed, normalised values
# ----------------------------------------------------------------------------------------------

class Codec:
    """Text as it is. Subclasses normalise and validate."""

    type_name = "string"

    def decode(self, raw, element):
        """The value stored in XML (``raw`` is the attribute or text; ``element`` its element)."""
        return raw

    def encode(self, value):
        return str(value)

    def normalize(self, value, option):
        """A value given by the user, checked and normalised, or ModelError naming ``option``."""
        if isinstance(value, (dict, list, tuple)):
            raise ModelError("must be a %s, got %s" % (self.type_name, type(value).__name__), option=option)
        if isinstance(value, bool):
            raise ModelError("must be a %s, got a boolean" % self.type_name, option=option)
        return str(value)

    def read(self, element, attr):
        raw = element.get(attr) if attr else element.text
        if raw is None:
            return None
        return self.decode(raw, element)

    def raw(self, element, attr):
        """The unconverted value as written, in the form ``normalize`` checks (a user's document)."""
        return element.get(attr) if attr else element.text

    def write(self, element, attr, value):
        if attr:
            element.set(attr, self.encode(value))
        else:
            element.text = self.encode(value)


class TextCodec(Codec):
    """A string without control characters (names, paths, devices)."""

    def __init__(self, strip=True, allow_empty=False, forbid=None):
        self.strip = strip
        self.allow_empty = allow_empty
        self.forbid = forbid or ""

    def decode(self, raw, element):
        return raw.strip() if self.strip else raw

    def normalize(self, value, option):
        value = super().normalize(value, option)
        if self.strip:
            value = value.strip()
        if not value and not self.allow_empty:
            raise ModelError("must not be empty", option=option)
        if _CONTROL_CHARACTERS.search(value):
            raise ModelError("must not contain control characters: %r" % value, option=option)
        for character in self.forbid:
            if character in value:
                raise ModelError("must not contain %r: %r" % (character, value), option=option)
        return value


class IntCodec(Codec):
    type_name = "integer"

    def __init__(self, minimum=None, maximum=None):
        self.minimum = minimum
        self.maximum = maximum

    def decode(self, raw, element):
        try:
            return int(raw.strip(), 0 if raw.strip().lower().startswith("0x") else 10)
        except ValueError:
            return raw

    def normalize(self, value, option):
        if isinstance(value, bool) or isinstance(value, (dict, list, tuple, float)):
            raise ModelError("must be an integer, got %r" % (value,), option=option)
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ModelError("must be an integer, got %r" % (value,), option=option) from None
        if self.minimum is not None and number < self.minimum:
            raise ModelError("must be at least %d, got %d" % (self.minimum, number), option=option)
        if self.maximum is not None and number > self.maximum:
            raise ModelError("must be at most %d, got %d" % (self.maximum, number), option=option)
        return number


class EnumCodec(TextCodec):
    def __init__(self, choices, aliases=None):
        super().__init__()
        self.choices = tuple(choices)
        self.aliases = aliases or {}

    def normalize(self, value, option):
        value = super().normalize(value, option)
        value = self.aliases.get(value, value)
        if value not in self.choices:
            raise ModelError(
                "unknown value %r; expected one of: %s" % (value, ", ".join(self.choices)), option=option
            )
        return value


class BoolCodec(Codec):
    """libvirt's yes/no (or on/off) attributes as Python booleans."""

    type_name = "boolean"
    _TRUE = ("yes", "on", "true", "1")
    _FALSE = ("no", "off", "false", "0")

    def __init__(self, true="yes", false="no"):
        self.true = true
        self.false = false

    def decode(self, raw, element):
        lowered = raw.strip().lower()
        if lowered in self._TRUE:
            return True
        if lowered in self._FALSE:
            return False
        return raw

    def encode(self, value):
        return self.true if value else self.false

    def normalize(self, value, option):
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in self._TRUE:
            return True
        if lowered in self._FALSE:
            return False
        raise ModelError("must be a boolean (yes/no), got %r" % (value,), option=option)


_MAC = re.compile(r"^([0-9a-f]{2})([:-][0-9a-f]{2}){5}$")


class MacCodec(TextCodec):
    """A unicast Ethernet MAC address, lower-case, colon separated."""

    def decode(self, raw, element):
        return raw.strip().lower().replace("-", ":")

    def normalize(self, value, option):
        value = super().normalize(value, option).lower()
        if not _MAC.match(value):
            raise ModelError(
                "%r is not a MAC address; expected six hex octets such as 52:54:00:12:34:56" % value,
                option=option,
            )
        value = value.replace("-", ":")
        if int(value[:2], 16) & 1:
            raise ModelError(
                "%s is a multicast MAC address (the first octet is odd); a guest needs a unicast address"
                % value, option=option,
            )
        return value


_UUID = re.compile(r"^[0-9a-f]{32}$")


def canonical_uuid(text):
    compact = text.strip().lower().replace("-", "")
    if not _UUID.match(compact):
        return None
    return "%s-%s-%s-%s-%s" % (compact[:8], compact[8:12], compact[12:16], compact[16:20], compact[20:])


class UuidCodec(TextCodec):
    """A UUID, with or without dashes, as lower-case 8-4-4-4-12."""

    def decode(self, raw, element):
        return canonical_uuid(raw) or raw.strip()

    def normalize(self, value, option):
        text = super().normalize(value, option)
        uuid = canonical_uuid(text)
        if uuid is None:
            raise ModelError("%r is not a UUID (32 hex digits, dashes optional)" % text, option=option)
        return uuid


# libvirt's virScaleInteger: a bare number is in the element's default unit; k/M/G/... are powers of
# 1024 and KB/MB/GB/... are powers of 1000.
_SIZE = re.compile(r"^\s*(\d+)\s*([A-Za-z]*)\s*$")
# The spelling of a size in an option: digits and the unit written together (512MiB, 2GiB, 1000MB). "2 GB"
# with a space is refused: libvirt would read it as 2 * 1000^3 bytes, rarely what "2 GB" meant.
_OPTION_SIZE = re.compile(r"^(\d+)([A-Za-z]*)$")
_POWERS = "kmgtpe"


def scale_to_bytes(number, unit, default_unit="KiB"):
    unit = (unit or default_unit).strip()
    lowered = unit.lower()
    if lowered in ("b", "byte", "bytes"):
        return number
    if not lowered or lowered[0] not in _POWERS:
        return None
    power = _POWERS.index(lowered[0]) + 1
    if lowered[1:] in ("", "ib"):
        return number * 1024 ** power
    if lowered[1:] == "b":
        return number * 1000 ** power
    return None


# libvirt keeps sizes in 64-bit integers; anything larger is not a size it can hold (and a digit string
# longer than Python's int() limit must not reach int()).
MAX_SIZE_BYTES = 2 ** 64 - 1


def size_in_bytes(digits, unit, default_unit="KiB"):
    """``digits`` (a string of digits) in ``unit`` as bytes, or None for an unknown unit or a size beyond
    MAX_SIZE_BYTES."""
    if len(digits.lstrip("0")) > len(str(MAX_SIZE_BYTES)):
        return None
    size = scale_to_bytes(int(digits), unit, default_unit)
    return size if size is not None and size <= MAX_SIZE_BYTES else None


def _shortened(value, limit=40):
    """repr(value), cut in the middle when long, for messages about huge numbers."""
    if isinstance(value, int) and value.bit_length() > 14000:  # more digits than repr() converts
        return "a number of %d bits" % value.bit_length()
    text = repr(value)
    return text if len(text) <= limit else "%s...%s (%d characters)" % (text[:20], text[-10:], len(text))


def _without_space(number, unit):
    """How to write ``number`` ``unit`` as an option takes it, and, for a powers-of-1000 unit, its 1024 twin."""
    lowered = unit.lower()
    if lowered[:1] in _POWERS and lowered[1:] == "b":
        power = _POWERS.index(lowered[0]) + 1
        return "%s%s (%s is 1000^%d bytes) or %s%siB (1024^%d bytes)" % (
            number, unit, unit, power, number, unit[0].upper(), power)
    return "%s%s" % (number, unit)


class MemoryCodec(Codec):
    """A size normalised to ``unit`` (KiB, as memory sizes; ``bytes`` for storage): integers are in that unit,
    strings may carry a unit (``512MiB``, ``2G``). A size that is not a whole number of ``unit`` is rounded up."""

    type_name = "size"
    _UNIT_BYTES = {"KiB": 1024, "bytes": 1}

    def __init__(self, unit_attr="unit", minimum=1, unit="KiB"):
        self.unit_attr = unit_attr
        self.minimum = minimum
        self.unit = unit
        self.unit_bytes = self._UNIT_BYTES[unit]

    def decode(self, raw, element):
        match = _SIZE.match(raw)
        unit = element.get(self.unit_attr) if self.unit_attr else None
        size = size_in_bytes(match.group(1), unit, self.unit) if match and not match.group(2) else None
        if size is None:
            return raw
        return -(-size // self.unit_bytes)

    def write(self, element, attr, value):
        element.text = str(value)
        if self.unit_attr:
            element.set(self.unit_attr, self.unit)

    def raw(self, element, attr):
        # The number with its unit (<memory unit='GB'>2</memory> is 2GB), so that a user's
        # <memory unit='XB'> is refused, not read as KiB.
        text = element.text
        unit = element.get(self.unit_attr) if self.unit_attr else None
        if text is None or unit is None or not text.strip().isdigit():
            return text
        return "%s%s" % (text.strip(), unit.strip())

    def normalize(self, value, option):
        example = "524288 (KiB), '512MiB' or '2GiB'" if self.unit == "KiB" else "'10GiB', '512MiB' or 1073741824 (bytes)"
        if isinstance(value, bool) or isinstance(value, (dict, list, tuple, float)):
            raise ModelError("must be a size such as %s, got %r" % (example, value), option=option)
        if isinstance(value, int):
            size = value * self.unit_bytes
            if size > MAX_SIZE_BYTES:
                raise ModelError("%s %s is larger than the 16 EiB libvirt can hold" % (_shortened(value), self.unit),
                                 option=option)
        else:
            match = _OPTION_SIZE.match(str(value).strip())
            spaced = _SIZE.match(str(value)) if match is None else None
            if spaced is not None and spaced.group(2) and scale_to_bytes(1, spaced.group(2)) is not None:
                raise ModelError("%r has a space between the number and the unit; write %s"
                                 % (value, _without_space(*spaced.groups())), option=option)
            size = size_in_bytes(match.group(1), match.group(2), self.unit) if match else None
            if match and size is None and scale_to_bytes(1, match.group(2), self.unit) is not None:
                raise ModelError("%s is larger than the 16 EiB libvirt can hold" % _shortened(value), option=option)
            if size is None:
                raise ModelError(
                    "%r is not a size; use an integer in %s or a number with a unit such as 512MiB, 2GiB, "
                    "1000MB" % (value, self.unit), option=option,
                )
        number = -(-size // self.unit_bytes)
        if number < self.minimum:
            raise ModelError("must be at least %d %s, got %r" % (self.minimum, self.unit, value), option=option)
        return number


TEXT = TextCodec()
RAW_TEXT = TextCodec(strip=False, allow_empty=True)
INT = IntCodec()
BOOL = BoolCodec()
MAC = MacCodec()
UUID = UuidCodec()
MEMORY = MemoryCodec()


# ----------------------------------------------------------------------------------------------
# Fields
# ----------------------------------------------------------------------------------------------

class Field:
    """A value at ``path`` (child tags separated by '/'), in attribute ``attr`` or the element text.

    Reading a missing element gives None. Setting None removes the attribute (or, for a text field,
    the element) and then any element on the path left empty by that.
    """

    def __init__(self, path, attr=None, codec=TEXT):
        self.path = path
        self.steps = tuple(step for step in path.split("/") if step not in ("", "."))
        self.attr = attr
        self.codec = codec

    def __get__(self, model, owner=None):
        if model is None:
            return self
        element = model.find(self.steps)
        if element is None:
            return None
        return self.codec.read(element, self.attr)

    def __set__(self, model, value):
        if value is None:
            element = model.find(self.steps)
            if element is None:
                return
            if self.attr:
                element.attrib.pop(self.attr, None)
                model.prune(self.steps)
            else:
                model.remove_path(self.steps)
            return
        self.codec.write(model.ensure(self.steps), self.attr, value)

    def normalize(self, value, option):
        return None if value is None else self.codec.normalize(value, option)

    def raw(self, model):
        """The unconverted string in the document, for validating a user's XML."""
        element = model.find(self.steps)
        if element is None:
            return None
        return self.codec.raw(element, self.attr)


class FlagField(Field):
    """True when the element at ``path`` exists (``<readonly/>``, ``<pae/>``)."""

    def __init__(self, path):
        super().__init__(path, codec=BOOL)

    def __get__(self, model, owner=None):
        if model is None:
            return self
        return model.find(self.steps) is not None

    def __set__(self, model, value):
        if value:
            model.ensure(self.steps)
        else:
            model.remove_path(self.steps)

    def raw(self, model):
        return None


class ListField(Field):
    """The ``attr`` (or text) of every ``tag`` child of ``path``, in order (``<boot dev=.../>`` ...)."""

    def __init__(self, path, tag, attr=None, codec=TEXT):
        super().__init__(path, attr=attr, codec=codec)
        self.tag = tag

    def __get__(self, model, owner=None):
        if model is None:
            return self
        parent = model.find(self.steps)
        if parent is None:
            return []
        return [self.codec.read(child, self.attr) for child in parent.findall(self.tag)]

    def __set__(self, model, values):
        parent = model.find(self.steps)
        if parent is not None:
            for child in parent.findall(self.tag):
                parent.remove(child)
        if not values:
            if parent is not None:
                model.prune(self.steps)
            return
        parent = model.ensure(self.steps)
        path = "/".join(self.steps)
        for value in values:
            child = etree.Element(self.tag)
            self.codec.write(child, self.attr, value)
            model.insert_child(parent, child, path)

    def normalize(self, value, option):
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            raise ModelError("must be a list", option=option)
        return [self.codec.normalize(item, "%s[%d]" % (option, index)) for index, item in enumerate(value)]

    def raw(self, model):
        parent = model.find(self.steps)
        if parent is None:
            return None
        return [child.get(self.attr) if self.attr else child.text for child in parent.findall(self.tag)]


class ChildTagsField(Field):
    """The tags of the child elements of ``path`` as a sorted list (``<features><pae/><acpi/>``).

    Setting keeps the elements already present (with whatever they carry) and adds or removes only
    the difference.
    """

    def __init__(self, path, order=()):
        super().__init__(path, codec=TEXT)
        self.order = tuple(order)

    def __get__(self, model, owner=None):
        if model is None:
            return self
        parent = model.find(self.steps)
        if parent is None:
            return None
        return sorted({child.tag for child in parent if isinstance(child.tag, str)})

    def __set__(self, model, tags):
        if tags is None:
            model.remove_path(self.steps)
            return
        parent = model.ensure(self.steps)
        wanted = set(tags)
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag not in wanted:
                parent.remove(child)
        present = {child.tag for child in parent if isinstance(child.tag, str)}
        path = "/".join(self.steps)
        for tag in tags:
            if tag not in present:
                model.insert_child(parent, etree.Element(tag), path)
                present.add(tag)

    def normalize(self, value, option):
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            raise ModelError("must be a list of names", option=option)
        names = []
        for index, item in enumerate(value):
            name = TEXT.normalize(item, "%s[%d]" % (option, index))
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*$", name):
                raise ModelError("%r is not a valid element name" % name, option="%s[%d]" % (option, index))
            names.append(name)
        return sorted(set(names))

    def raw(self, model):
        return None


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------

class XMLModel:
    """A typed view over one lxml element.

    ``TAG`` is the element's tag. ``CHILD_ORDER`` maps a parent path ('' for this element) to the
    tags libvirt writes there, in order; new elements are inserted at their place in it.
    """

    TAG = None
    CHILD_ORDER = {}

    def __init__(self, element=None):
        if element is None:
            element = etree.Element(self.TAG)
        self.element = element

    # -- parse and render ---------------------------------------------------------------------
    @classmethod
    def from_xml(cls, text, option="xml"):
        return cls(parse_xml(text, cls.TAG, option))

    def to_xml(self):
        return etree.tostring(self.element, encoding="unicode")

    def to_pretty_xml(self):
        """The document re-indented, for diffs and display (whitespace is not significant)."""
        element = copy.deepcopy(self.element)
        for node in element.iter():
            if node.text is not None and not node.text.strip() and len(node):
                node.text = None
            if node.tail is not None and not node.tail.strip():
                node.tail = None
        etree.indent(element, space="  ")
        return etree.tostring(element, encoding="unicode") + "\n"

    def copy(self):
        return type(self)(copy.deepcopy(self.element))

    # -- fields ---------------------------------------------------------------------------------
    @classmethod
    def fields(cls):
        """The model's fields by name, in declaration order (base classes first)."""
        found = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Field):
                    found[name] = value
        return found

    @classmethod
    def owned_tags(cls, under=""):
        """The child tags of the element at ``under`` that a field of the model reads or writes: what a user's
        document says in them is compared field by field, the rest is kept as written (merge_unmodelled)."""
        prefix = under + "/" if under else ""
        tags = set()
        for field in cls.fields().values():
            path = field.path + "/" + field.tag if isinstance(field, ListField) else field.path
            if path.startswith(prefix) and len(path) > len(prefix):
                tags.add(path[len(prefix):].split("/")[0])
        return tags

    def values(self):
        return {name: getattr(self, name) for name in self.fields()}

    def validate_raw(self, option):
        """Check every modelled value of a user-supplied document with the field's own rules."""
        for name, field in self.fields().items():
            raw = field.raw(self)
            if raw is not None:
                field.normalize(raw, "%s: %s" % (option, field.path + ("/@" + field.attr if field.attr else "")))

    # Field names as the user's options spell them, where they differ (os_type -> os.type).
    OPTION_LABELS = {}

    def apply(self, declared, tracker, prefix=""):
        """Set each declared (already normalised, non-None) value that differs; record it."""
        for name, value in declared.items():
            if value is None:
                continue
            current = getattr(self, name)
            # Equal after normalisation: the document keeps its own spelling (units, case). An empty list
            # (features: []) declares no such children, which is what a document without them has.
            if current != value and not (current is None and value == []):
                tracker.add(prefix + self.OPTION_LABELS.get(name, name), current, value)
                setattr(self, name, value)

    # -- tree helpers ---------------------------------------------------------------------------
    def find(self, steps):
        element = self.element
        for step in steps:
            element = element.find(step)
            if element is None:
                return None
        return element

    def ensure(self, steps):
        element = self.element
        for depth, step in enumerate(steps):
            child = element.find(step)
            if child is None:
                child = etree.Element(step)
                self.insert_child(element, child, "/".join(steps[:depth]))
            element = child
        return element

    def insert_child(self, parent, child, parent_path):
        """Insert ``child`` into ``parent`` at its place in libvirt's order, else at the end."""
        order = self.CHILD_ORDER.get(parent_path, ())
        if child.tag in order:
            rank = order.index(child.tag)
            for existing in parent:
                if isinstance(existing.tag, str) and existing.tag in order and order.index(existing.tag) > rank:
                    existing.addprevious(child)
                    return child
        parent.append(child)
        return child

    def remove_path(self, steps):
        element = self.find(steps)
        if element is None or element is self.element:
            return
        element.getparent().remove(element)
        self.prune(steps[:-1])

    def prune(self, steps):
        """Remove elements on ``steps`` left with no attributes, children or text."""
        for depth in range(len(steps), 0, -1):
            element = self.find(steps[:depth])
            if element is None:
                continue
            if len(element) or element.attrib or (element.text and element.text.strip()):
                return
            element.getparent().remove(element)

    def children(self, path, tag, model_class):
        parent = self.find(tuple(s for s in path.split("/") if s))
        if parent is None:
            return []
        return [model_class(child) for child in parent.findall(tag)]

    def append_child(self, path, model):
        parent = self.ensure(tuple(s for s in path.split("/") if s))
        return self.insert_child(parent, model.element, path)


# ----------------------------------------------------------------------------------------------
# Comparing elements the model does not know
# ----------------------------------------------------------------------------------------------

def _text(element):
    return (element.text or "").strip()


def _number(text):
    """An integer written in decimal or hex (libvirt writes PCI addresses as 0x02, users as 2), else None."""
    text = text.strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        return None


def canonical_number_text(text):
    """``text`` with a number in hex or decimal written as decimal, for keys built from attributes."""
    number = _number(text) if text else None
    return str(number) if number is not None else text


def same_value(actual, declared):
    """Two attribute values (or texts) that libvirt treats as one: equal, or the same number in decimal and
    hex, or the same MAC address or UUID in other case or dashes."""
    if actual == declared:
        return True
    if actual is None or declared is None:
        return False
    number = _number(declared)
    if number is not None and number == _number(actual):
        return True
    lowered = declared.strip().lower()
    if _MAC.match(lowered):
        return lowered.replace("-", ":") == actual.strip().lower().replace("-", ":")
    uuid = canonical_uuid(declared)
    return uuid is not None and uuid == canonical_uuid(actual)


# The unit of a size written without one, where it is not KiB (libvirt's virParseScaledValue defaults).
_DEFAULT_SIZE_UNITS = {"tseg": "MiB", "max_size": "bytes"}


def _same_size(actual, declared, unit_attr="unit"):
    """``<hard_limit unit='G'>1</hard_limit>`` and ``<hard_limit unit='KiB'>1048576</hard_limit>`` are one size:
    libvirt stores sizes in its own unit. None when either is not a size."""
    sizes = []
    for element in (actual, declared):
        match = _SIZE.match(element.text or "")
        if not match or match.group(2):
            return None
        default_unit = _DEFAULT_SIZE_UNITS.get(element.tag, "KiB")
        sizes.append(size_in_bytes(match.group(1), element.get(unit_attr), default_unit))
    if None in sizes:
        return None
    return sizes[0] == sizes[1]


# Attributes holding libvirt's CPU/node set syntax (``0-3,^2,8``), which it stores in its own spelling.
_CPU_SET_ATTRIBUTES = ("cpuset", "nodeset", "cpus", "vcpus", "iothreads")


def cpu_set(text):
    """The numbers of a CPU set (``1-2,5-7,^6`` is {1, 2, 5, 7}), or None when it is not one."""
    members, excluded = set(), set()
    for part in (text or "").replace(" ", "").split(","):
        target = excluded if part.startswith("^") else members
        bounds = part.lstrip("^").split("-")
        if not all(bound.isdigit() for bound in bounds) or len(bounds) > 2:
            return None
        first, last = int(bounds[0]), int(bounds[-1])
        if last - first > 65536:
            return None
        target.update(range(first, last + 1))
    return members - excluded


def same_cpu_set(actual, declared):
    declared_set = cpu_set(declared)
    return declared_set is not None and declared_set == cpu_set(actual)


def element_contains(actual, declared):
    """True when ``actual`` holds everything ``declared`` says: the same tag, every declared
    attribute with the same value, the declared text, and each declared child contained in a
    distinct child of ``actual``. libvirt adds defaults to what it stores, and rewrites some values
    into its own spelling (hex numbers, sizes in KiB, MAC case); this is how a declared element the
    model does not name is compared with it."""
    if actual.tag != declared.tag:
        return False
    same_size = None
    if "unit" in declared.attrib or "unit" in actual.attrib:
        same_size = _same_size(actual, declared)
    for name, value in declared.attrib.items():
        if name == "unit" and same_size is not None:
            continue
        if not same_value(actual.get(name), value) and not (
                name in _CPU_SET_ATTRIBUTES and same_cpu_set(actual.get(name), value)) and not (
                name == "loadparm" and (actual.get(name) or "").upper() == value.upper()):  # s390: stored upper-case
            return False
    if same_size is False:
        return False
    if same_size is None and _text(declared) and not same_value(_text(actual), _text(declared)):
        return False
    used = set()
    for declared_child in declared:
        if not isinstance(declared_child.tag, str):
            continue  # comments and processing instructions carry no configuration
        for index, actual_child in enumerate(actual):
            if index not in used and isinstance(actual_child.tag, str) and element_contains(actual_child, declared_child):
                used.add(index)
                break
        else:
            return False
    return True


def elements_equivalent(first, second):
    """The same tags, attributes, text and children in order; whitespace-only text aside."""
    if first.tag != second.tag or dict(first.attrib) != dict(second.attrib):
        return False
    if _text(first) != _text(second):
        return False
    if (first.tail or "").strip() != (second.tail or "").strip():
        return False
    if len(first) != len(second):
        return False
    return all(elements_equivalent(a, b) for a, b in zip(first, second))


def describe_element(element):
    """A short readable form of an element for ``changes`` (``<cpu mode='host-model'>``)."""
    attributes = "".join(" %s='%s'" % item for item in element.attrib.items())
    return "<%s%s>" % (element.tag, attributes)


def overlay(base_values, declared_values):
    """A base document, then the options: the values read from a user's ``xml`` (``base_values``) with the
    task's own over them. A declared None leaves the base's value; keys keep the base's order, and a key only
    the options have comes after."""
    values = dict(base_values)
    for key, value in declared_values.items():
        if value is not None or key not in values:
            values[key] = value
    return values


def merge_unmodelled(model, base, tracker):
    """Lay what the document ``base`` says beyond ``model``'s fields onto ``model`` (an existing object's
    definition; ``base`` a user's document of the same kind).

    The elements on a field's path are walked into, never replaced, so the fields stay the model's. Any
    other element of ``base`` counts as present when an element of ``model`` with its tag contains it
    (libvirt adds defaults to what it stores); else it replaces the first element of that tag, or is added
    in libvirt's order. Each change is recorded in ``tracker`` under the element's path (``source.auth``).
    """
    text_fields, attribute_fields, containers = set(), {}, set()
    for field in type(model).fields().values():
        path = "/".join(field.steps)
        containers.update("/".join(field.steps[:depth]) for depth in range(1, len(field.steps)))
        if field.attr:
            attribute_fields.setdefault(path, set()).add(field.attr)
        elif field.steps:
            text_fields.add(path)

    def label(path):
        return path.replace("/", ".")

    def walk(target, declared, path):
        for name, value in declared.attrib.items():
            if name in attribute_fields.get(path, ()) or same_value(target.get(name), value):
                continue
            tracker.add("%s@%s" % (label(path) + "." if path else "", name), target.get(name), value)
            target.set(name, value)
        for child in declared:
            if not isinstance(child.tag, str):
                continue
            child_path = "%s/%s" % (path, child.tag) if path else child.tag
            if child_path in text_fields:
                continue
            if child_path in containers or child_path in attribute_fields:
                existing = target.find(child.tag)
                created = existing is None
                if created:
                    existing = etree.Element(child.tag)
                walk(existing, child, child_path)
                if created and (len(existing) or existing.attrib):
                    model.insert_child(target, existing, path)
                continue
            _merge_child(target, child, tracker, label(child_path),
                         lambda parent, element, path=path: model.insert_child(parent, element, path), keep_tail=False)

    walk(model.element, base.element, "")


def merge_unmodelled_children(target, declared, tracker, label, owned=(), insert=None, repeated=(),
                              replace_all=False):
    """Lay the children of ``declared`` (an element of a user's document) that the model does not own onto
    ``target`` (the same element of the definition), as ``merge_unmodelled`` does below a field's path.

    ``owned`` holds the tags the model types (left alone); ``label(child)`` names the change in ``tracker``;
    ``insert(parent, element)`` adds an element (default: at the end; a model's ``insert_child`` keeps
    libvirt's order). A child with a tag in ``repeated`` is added beside the others of its tag, never in their
    place; with ``replace_all`` a child replaces every one of its tag and is reported as added.
    """
    for child in declared:
        if isinstance(child.tag, str) and child.tag not in owned:
            _merge_child(target, child, tracker, label(child), insert, add_only=child.tag in repeated,
                         replace_all=replace_all)


def _merge_child(target, child, tracker, name, insert=None, add_only=False, replace_all=False, keep_tail=True):
    """The one rule for an element the model does not type: libvirt adds defaults to what it stores, so the
    declared ``child`` is present when an element of ``target`` with its tag contains it; else it takes the
    place of the first one of its tag (or of all of them), or is added."""
    same_tag = [element for element in target if element.tag == child.tag]
    if any(element_contains(element, child) for element in same_tag):
        return
    replacement = copy.deepcopy(child)
    if not keep_tail:
        replacement.tail = None
    if same_tag and not add_only and not replace_all:
        target.replace(same_tag[0], replacement)
        tracker.add(name, describe_element(same_tag[0]), describe_element(child))
        return
    if replace_all:
        for element in same_tag:
            target.remove(element)
    if insert is None:
        target.append(replacement)
    else:
        insert(target, replacement)
    tracker.add(name, None, describe_element(child))
