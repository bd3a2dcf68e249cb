"""A small, safe XML tree with line numbers, for every XML-based score format.

expat never loads external DTDs or entities here; a DOCTYPE that declares any
entity is refused at once (billion laughs, quadratic blowup, external and
parameter entities). Only the tags a reader asks for are kept, and element
counts are bounded. Every problem raises :class:`~utagoe.errors.ScoreFormatError`
naming the file and line.
"""
from __future__ import annotations

import re
from types import MappingProxyType
from typing import Mapping
from xml.parsers import expat

from . import limits
from .common import ReadContext


# --------------------------------------------------------------------------------------
# A small safe XML tree with line numbers


class Elem:
    __slots__ = ("tag", "attrib", "children", "parts", "line")

    def __init__(self, tag: str, attrib: Mapping[str, str], line: int) -> None:
        self.tag = tag
        self.attrib = attrib
        self.children: list[Elem] = []
        self.parts: list[str] | None = None  # text chunks, for text-bearing tags
        self.line = line

    @property
    def text(self) -> str:
        return "".join(self.parts) if self.parts else ""

    def find(self, tag: str) -> "Elem | None":
        for c in self.children:
            if c.tag == tag:
                return c
        return None

    def findall(self, tag: str) -> list["Elem"]:
        return [c for c in self.children if c.tag == tag]

    def findtext(self, tag: str) -> str | None:
        c = self.find(tag)
        return None if c is None else c.text

    def get(self, key: str, default=None):
        return self.attrib.get(key, default)


_EMPTY_ATTRS: MappingProxyType[str, str] = MappingProxyType({})
_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def parse_xml(data: bytes, ctx: ReadContext, *, keep: frozenset | None = None,
              text_tags: frozenset = frozenset(), count_tag: str | None = None,
              max_count: int = 0, max_elements: int = limits.MAX_XML_ELEMENTS,
              lenient_root: str | None = None) -> Elem:
    """Parse ``data`` into an Elem tree, keeping only ``keep`` tags (all if None).

    Text is kept for ``text_tags`` (for every tag if ``keep`` is None). More than
    ``max_count`` ``count_tag`` elements, or ``max_elements`` kept elements, are
    refused. With ``ctx.lenient``, a document whose root is ``lenient_root`` and
    that breaks off keeps what came before the break (with a warning).
    """
    opts = (keep, text_tags, count_tag, max_count, max_elements, lenient_root)
    try:
        return _parse_xml_once(data, ctx, opts, encoding=None)
    except _UnknownEncoding as e:
        enc = e.encoding
    try:
        text = data.decode(enc)
    except (LookupError, UnicodeDecodeError) as exc:
        raise ctx.error(f"cannot decode the file as its declared encoding {enc!r}: {exc}",
                        1) from None
    return _parse_xml_once(text.encode("utf-8"), ctx, opts, encoding="utf-8")


class _UnknownEncoding(Exception):
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding


def _parse_xml_once(data: bytes, ctx: ReadContext, opts: tuple, encoding: str | None) -> Elem:
    keep, text_tags, count_tag, max_count, max_elements, lenient_root = opts
    parser = expat.ParserCreate(encoding)
    parser.buffer_text = True
    # never read external DTDs or parameter entities (the default, made explicit)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    stack: list[Elem | None] = []
    root: list[Elem] = []
    counts = [0, 0]  # kept elements, notes

    def refuse_entity(name, is_param=False, *rest):
        kind = "parameter entity" if is_param else "entity"
        raise ctx.error(f"the DOCTYPE declares {kind} {name!r}; documents that declare "
                        "entities are refused (they can expand without bound or read "
                        "other files)", parser.CurrentLineNumber)

    def unparsed_entity(name, *rest):
        refuse_entity(name)

    def external_ref(context, base, system_id, public_id):
        raise ctx.error(f"external entity {system_id!r} is not loaded",
                        parser.CurrentLineNumber)

    def skipped_entity(name, is_param):
        # a reference to an entity we have no declaration for
        ctx.problem(f"undefined entity &{name}; ignored", parser.CurrentLineNumber)

    def start(tag, attrs):
        if tag == count_tag:
            counts[1] += 1
            if counts[1] > max_count:
                raise ctx.error(f"more than {max_count} notes (<{tag}> elements); refusing to read "
                                "such a large score", parser.CurrentLineNumber)
        if stack:
            parent = stack[-1]
            if parent is None or (keep is not None and tag not in keep):
                stack.append(None)
                return
        counts[0] += 1
        if counts[0] > max_elements:
            raise ctx.error(f"more than {max_elements} elements; refusing to read such a "
                            "large document", parser.CurrentLineNumber)
        el = Elem(tag, attrs or _EMPTY_ATTRS, parser.CurrentLineNumber)
        if keep is None or tag in text_tags:
            el.parts = []
        top = stack[-1] if stack else None
        if top is not None:
            top.children.append(el)
        else:
            root.append(el)
        stack.append(el)

    def end(tag):
        stack.pop()

    def chars(data):
        if stack:
            el = stack[-1]
            if el is not None and el.parts is not None:
                el.parts.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = unparsed_entity
    parser.ExternalEntityRefHandler = external_ref
    parser.SkippedEntityHandler = skipped_entity

    try:
        try:
            parser.Parse(data, True)
        except LookupError as e:  # pyexpat asked Python's codecs about a bad name
            raise ctx.error(f"unknown character encoding ({e})", 1) from None
        except (ValueError, UnicodeError) as e:
            # pyexpat: "multi-byte encodings are not supported" (Shift_JIS, GBK, ...)
            m = _ENCODING_RE.match(data[:400].lstrip(b"\xef\xbb\xbf"))
            if encoding is None and m:
                raise _UnknownEncoding(m.group(1).decode("ascii")) from None
            raise ctx.error(f"cannot parse the XML: {e}", parser.CurrentLineNumber) from None
    except expat.ExpatError as e:
        code = getattr(e, "code", None)
        if code == expat.errors.codes.get(expat.errors.XML_ERROR_UNKNOWN_ENCODING) \
                and encoding is None:
            m = _ENCODING_RE.match(data[:400].lstrip(b"\xef\xbb\xbf"))
            if m:
                raise _UnknownEncoding(m.group(1).decode("ascii")) from None
        message = expat.errors.messages.get(code, str(e)) if code else str(e)
        line = getattr(e, "lineno", None)
        if ctx.lenient and root and lenient_root is not None and root[0].tag == lenient_root:
            ctx.warn(f"the XML is not well-formed ({message}); reading only what comes "
                     "before this point", line)
        else:
            hint = ""
            if stack and (line or 0) > 1 and any(
                    m in message for m in ("no element found", "unclosed token",
                                           "unclosed CDATA", "partial character")):
                hint = " (the file looks truncated)"
            raise ctx.error(f"not well-formed XML: {message}{hint}", line) from None
    if not root:
        raise ctx.error("no XML element found", 1)
    return root[0]
