"""YAML 1.2 (core schema) loader that records the line and column of every node.

PyYAML resolves scalars by YAML 1.1 (``NO`` is false, ``18:30`` is 1110) and its composer
recurses once per nesting level, so a hostile file can overflow the stack. We take only
libyaml's *event stream* and build plain Python data ourselves with an explicit stack,
checking nesting depth and alias expansion as each event arrives, so that bad input always
ends as a :class:`YamlSyntaxError` with a position instead of a crash.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from kpo_rules.errors import YamlSyntaxError
from kpo_rules.gc_pause import gc_paused
from kpo_rules.load.reading import MAX_FILE_BYTES, too_large
from kpo_rules.load.yaml_scalars import (
    _TYPED_FIRST,
    Pos,
    _check_collection_tag,
    _resolve_plain,
    _resolve_tagged,
)
from kpo_rules.model import Document, SourceMap

__all__ = [
    "ALIAS_NODES_PER_NODE",
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_DOCUMENTS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "parse_yaml",
]

#: Real engagements nest fewer than 10 levels; the limit only has to stop hostile input.
MAX_DEPTH = 100
#: Nodes that aliases may add to one document on top of :data:`ALIAS_NODES_PER_NODE` per
#: node written out in full. A flat cap would refuse a big roster that reuses one anchored
#: location per person; a ratio still bounds the output to a constant multiple of the input.
MAX_ALIAS_NODES = 10_000
ALIAS_NODES_PER_NODE = 1
#: Every node costs ~200 bytes with its pointer and position, so a 64 MiB file of ``[a,a,...``
#: could take 6 GB and minutes; 2 million nodes (~0.5 GB, a few seconds) is twice a roster
#: of 20,000 staff.
MAX_NODES = 2_000_000
#: Each document carries its own source map; ``---`` repeated would otherwise cost ~1 KB per
#: 4 bytes of input. An engagement file holds a handful.
MAX_DOCUMENTS = 10_000


# libyaml is the fast path; the pure-Python parser emits the same events, only slower.
_LIBYAML: bool = bool(yaml.__with_libyaml__)

# What libyaml's reader refuses (not YAML 1.2 c-printable), found first for a better message,
# and the three characters it takes for line breaks, which line_breaks judges. Written as
# the characters to find, not as the complement of those allowed: that class takes ~20 ms
# to compile on every start.
_QUESTIONABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_LIBYAML_DEPTH_CAP = "exceeded maximum nesting depth"
_COLLECTION_KEY = "a mapping key must be a single value, not a mapping or a list"
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_YAML11_BREAKS = "\x85\u2028\u2029"  # line breaks to libyaml, text to YAML 1.2
_MERGE_KEY = (
    "merge key '<<': merge keys are YAML 1.1, and kpo-rules reads YAML 1.2; write the fields "
    "out (an alias may still stand for a whole value: 'key: *anchor')"
)


class _Anchor(NamedTuple):
    """An anchored node: where it is, what it holds, and its source text if a scalar."""

    pointer: str | None  # None for an anchored mapping key (keys have no pointer of their own)
    data: Any
    text: str | None
    pos: Pos


def parse_yaml(content: bytes | str, file: str) -> list[Document]:
    """All documents of one file, each with a SourceMap.

    Raises :class:`YamlSyntaxError` (message, line, column) for anything that is not safe,
    well-formed UTF-8 YAML within the limits of this module.
    """
    text, breaks = _decode(content)
    if breaks:  # rare: a second pass over the events, in a module loaded only for it
        from kpo_rules.load.line_breaks import refuse_yaml11_breaks  # noqa: PLC0415

        refuse_yaml11_breaks(text, _events)
    with gc_paused():  # a big roster allocates a million containers
        try:
            return _compose_stream(_events(text), file)
        except yaml.MarkedYAMLError as exc:
            if exc.problem_mark is not None and _LIBYAML_DEPTH_CAP in (exc.problem or ""):
                _raise_at_depth_limit(text[: exc.problem_mark.index], file)
            raise _explain(exc, text) from exc
        except yaml.YAMLError as exc:  # e.g. a ReaderError, which has no mark
            raise YamlSyntaxError(f"not valid YAML: {exc}") from exc


def _events(text: str) -> Callable[[], Any]:
    loader = yaml.CSafeLoader(text) if _LIBYAML else yaml.SafeLoader(text)
    return loader.get_event


def _raise_at_depth_limit(prefix: str, file: str) -> None:
    """Find where :data:`MAX_DEPTH` was crossed when libyaml's own cap (1000) tripped first.

    libyaml scans up to 1024 characters ahead while a '[' might still turn out to start a
    key, so in ``[[[[...`` its cap trips before we see the events that cross ours. The text
    before libyaml's stopping point is parsed again: there the look-ahead ends early and our
    check fires at its true position.
    """
    try:
        _compose_stream(_events(prefix), file)
    except YamlSyntaxError as exc:
        if exc.message.startswith("nesting deeper"):
            raise
    except yaml.YAMLError:
        pass  # the caller reports libyaml's own position


# --------------------------------------------------------------------------- bytes to text


def _decode(content: bytes | str) -> tuple[str, bool]:
    """Text without BOM; refuse what libyaml would refuse, but say where and why.

    Also says whether the text holds a character libyaml reads as a line break where YAML
    1.2 does not (see :mod:`kpo_rules.load.line_breaks`).
    """
    if len(content) > MAX_FILE_BYTES:
        raise too_large(f"{len(content):,} bytes")
    text = _utf8(content) if isinstance(content, bytes) else content
    if text.startswith("\ufeff"):
        text = text[1:]
    breaks = False
    bad = _QUESTIONABLE.search(text)
    while bad is not None:
        if text[bad.start()] not in _YAML11_BREAKS:
            raise _control_character(text, bad.start())
        breaks = True
        bad = _QUESTIONABLE.search(text, bad.end())
    return text, breaks


def _utf8(content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise YamlSyntaxError(
                "not UTF-8: the file starts with a UTF-16 byte order mark; save the file as UTF-8"
            ) from exc
        before = content[: exc.start].decode("utf-8").removeprefix("\ufeff")
        line, column = _line_col(before, len(before))
        hint = "; the file looks binary" if b"\x00" in content[:8192] else ""
        raise YamlSyntaxError(
            f"not UTF-8: invalid byte 0x{content[exc.start]:02X} at line {line}, column {column}; "
            f"save the file as UTF-8{hint}",
            line,
            column,
        ) from exc


def _control_character(text: str, offset: int) -> YamlSyntaxError:
    line, column = _line_col(text, offset)
    code = f"U+{ord(text[offset]):04X}"
    where = f"at line {line}, column {column}"
    if text[offset] == "\x00":
        message = f"the file looks binary: it contains control character {code} {where}"
    else:
        message = (
            f"character {code} {where} is not allowed in YAML; remove it, or write it as an "
            'escape inside a double-quoted string ("\\u....")'
        )
    return YamlSyntaxError(message, line, column)


def _line_col(text: str, offset: int) -> Pos:
    """1-based position of ``text[offset]``, counting line breaks the way libyaml does."""
    line, start = 1, 0
    for brk in _LINE_BREAK.finditer(text, 0, offset):
        line, start = line + 1, brk.end()
    return line, offset - start + 1


# --------------------------------------------------------------------------- events to data


def _compose_stream(get_event: Callable[[], Any], file: str) -> list[Document]:
    documents: list[Document] = []
    nodes = 0  # MAX_NODES holds for the whole file, not per document
    while True:
        event = get_event()
        cls = type(event)
        if cls is DocumentStartEvent:
            if len(documents) == MAX_DOCUMENTS:
                mark = event.start_mark
                message = f"more than {MAX_DOCUMENTS:,} documents in one file"
                raise YamlSyntaxError(message, mark.line + 1, mark.column + 1)
            data, values, keys = _compose_document(get_event, MAX_NODES - nodes)
            nodes += len(values)
            source = SourceMap(values=values, keys=keys)
            documents.append(Document(file=file, index=len(documents), data=data, source=source))
        elif cls is StreamEndEvent:
            return documents


def _compose_document(  # noqa: PLR0915 - the per-node loop is inlined on purpose, see below
    get_event: Callable[[], Any],
    max_nodes: int,
) -> tuple[Any, dict[str, Pos], dict[str, Pos]]:
    """Build one document from its events; one loop, no recursion, so depth costs no stack.

    The hot path is written out inline (locals, no per-node objects): this loop runs once
    per node of every file, and a helper call per node would cost a tenth of the load time.
    The root is stored as the value of a pending key ``""`` of a holder mapping, which gives
    it the pointer "" without a special case.
    """
    values: dict[str, Pos] = {}
    keys: dict[str, Pos] = {}
    anchors: dict[str, _Anchor] = {}
    stack: list[tuple[Any, str, bool, str | None]] = []
    holder: dict[str, Any] = {}
    cur: Any = holder
    cur_ptr, cur_map = "", True
    pending: str | None = ""  # pointer of the value a mapping awaits; None: a key comes next
    name = ""  # the key that value belongs to
    aliased = 0  # nodes added through aliases so far
    while True:
        event = get_event()
        cls = type(event)
        if cls is ScalarEvent or cls is AliasEvent:
            mark = event.start_mark
            pos = (mark.line + 1, mark.column + 1)
            if cur_map:
                if pending is None:
                    name = _key_text(event, anchors, pos)
                    if "~" in name or "/" in name:
                        pending = cur_ptr + "/" + name.replace("~", "~0").replace("/", "~1")
                    else:
                        pending = cur_ptr + "/" + name
                    if name in cur:
                        raise _duplicate(name, pos, keys[pending])
                    keys[pending] = pos
                    continue
                ptr, pending = pending, None
            else:
                ptr = f"{cur_ptr}/{len(cur)}"
            if cls is AliasEvent:
                budget = MAX_ALIAS_NODES + ALIAS_NODES_PER_NODE * (len(values) - aliased) - aliased
                data, added = _expand(
                    event.anchor, anchors, ptr, values, keys, budget, len(stack), pos
                )
                aliased += added
            else:
                text = event.value
                if event.tag is not None:
                    data = _resolve_tagged(event.tag, text, pos)
                elif event.style or (text and text[0] not in _TYPED_FIRST):
                    data = text  # quoted, block, or plain that cannot be null/bool/number
                else:
                    data = _resolve_plain(text, pos)
                values[ptr] = pos
                if event.anchor is not None:
                    anchors[event.anchor] = _Anchor(ptr, data, text, pos)
            if len(values) > max_nodes:
                raise _too_many_nodes(pos)
            if cur_map:
                cur[name] = data
            else:
                cur.append(data)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            mark = event.start_mark
            pos = (mark.line + 1, mark.column + 1)
            is_map = cls is MappingStartEvent
            if event.tag is not None:
                _check_collection_tag(event.tag, is_map, pos)
            new: Any = {} if is_map else []
            if cur_map:
                if pending is None:
                    raise YamlSyntaxError(_COLLECTION_KEY, *pos)
                ptr, pending = pending, None
                cur[name] = new
            else:
                ptr = f"{cur_ptr}/{len(cur)}"
                cur.append(new)
            values[ptr] = pos
            if len(values) > max_nodes:
                raise _too_many_nodes(pos)
            stack.append((cur, cur_ptr, cur_map, event.anchor))
            if len(stack) > MAX_DEPTH:
                raise YamlSyntaxError(f"nesting deeper than {MAX_DEPTH} levels", *pos)
            cur, cur_ptr, cur_map = new, ptr, is_map
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            parent, parent_ptr, parent_map, anchor = stack.pop()
            if anchor is not None:
                anchors[anchor] = _Anchor(cur_ptr, cur, None, values[cur_ptr])
            cur, cur_ptr, cur_map = parent, parent_ptr, parent_map
        elif cls is DocumentEndEvent:
            return holder.get(""), values, keys


def _key_text(event: Any, anchors: dict[str, _Anchor], pos: Pos) -> str:
    """A mapping key as written: keys stay strings (``1:`` is "1", ``yes:`` is "yes")."""
    if type(event) is AliasEvent:
        anchor = _anchor(event.anchor or "", anchors, pos)
        if anchor.text is None:
            raise YamlSyntaxError(_COLLECTION_KEY, *pos)
        return anchor.text
    text: str = event.value
    if text == "<<" and not event.style and event.tag is None:
        raise YamlSyntaxError(_MERGE_KEY, *pos)
    if event.tag is None and event.anchor is None:
        return text
    if event.tag is not None:
        data = _resolve_tagged(event.tag, text, pos)  # an unknown tag is an error on keys too
    else:
        data = text if event.style else _resolve_plain(text, pos)
    if event.anchor is not None:  # the anchored key may be reused as a value: *k is then data
        anchors[event.anchor] = _Anchor(None, data, text, pos)
    return text


def _too_many_nodes(pos: Pos) -> YamlSyntaxError:
    return YamlSyntaxError(f"more than {MAX_NODES:,} values in one file", *pos)


def _duplicate(name: str, pos: Pos, first: Pos) -> YamlSyntaxError:
    return YamlSyntaxError(f"duplicate key {name!r} (first defined on line {first[0]})", *pos)


# --------------------------------------------------------------------------- aliases


def _anchor(name: str, anchors: dict[str, _Anchor], pos: Pos) -> _Anchor:
    anchor = anchors.get(name)
    if anchor is None:
        # Anchors are registered when their node is complete, so a node that contains an
        # alias to itself (a cycle, which plain data cannot hold) lands here too.
        raise YamlSyntaxError(
            f"alias *{name} does not refer to an anchor &{name} defined before it "
            "(or refers to a node that contains it)",
            *pos,
        )
    return anchor


def _expand(
    name: str,
    anchors: dict[str, _Anchor],
    ptr: str,
    values: dict[str, Pos],
    keys: dict[str, Pos],
    budget: int,
    depth: int,
    pos: Pos,
) -> tuple[Any, int]:
    """Copy an anchored node to ``ptr`` with the anchored positions; count what it adds.

    Copies, not shared references, so that the source map has an entry for every pointer
    and no later stage can change two places at once. The budget is checked before each
    collection is copied, so a "billion laughs" file fails after ~budget steps. ``depth``
    is that of the collection the alias sits in: an alias must not nest deeper than text.
    """
    anchor = _anchor(name, anchors, pos)
    values[ptr] = anchor.pos
    if anchor.pointer is None or not isinstance(anchor.data, (dict, list)):
        if budget < 1:
            raise _alias_bomb(pos)
        return anchor.data, 1
    root: Any = {} if isinstance(anchor.data, dict) else []
    todo: list[tuple[Any, Any, str, str, int]] = [
        (anchor.data, root, anchor.pointer, ptr, depth + 1)
    ]
    count = 1
    while todo:
        src, dst, src_ptr, dst_ptr, level = todo.pop()
        count += len(src)
        if count > budget:
            raise _alias_bomb(pos)
        if level > MAX_DEPTH:
            raise YamlSyntaxError(f"nesting deeper than {MAX_DEPTH} levels (through *{name})", *pos)
        is_map = isinstance(src, dict)
        for key, value in src.items() if is_map else enumerate(src):
            seg = str(key).replace("~", "~0").replace("/", "~1")
            child_src, child_dst = src_ptr + "/" + seg, dst_ptr + "/" + seg
            values[child_dst] = values[child_src]
            if is_map:
                keys[child_dst] = keys[child_src]
            copy = value
            if isinstance(value, (dict, list)):
                copy = {} if isinstance(value, dict) else []
                todo.append((value, copy, child_src, child_dst, level + 1))
            if is_map:
                dst[key] = copy
            else:
                dst.append(copy)
    return root, count


def _alias_bomb(pos: Pos) -> YamlSyntaxError:
    return YamlSyntaxError(
        f"aliases expand to too many nodes (more than {MAX_ALIAS_NODES:,} beyond the size of "
        "the document); the file looks like an alias bomb",
        *pos,
    )


# --------------------------------------------------------------------------- libyaml errors


def _explain(exc: yaml.MarkedYAMLError, text: str) -> YamlSyntaxError:
    """libyaml's problem text, said the way a person editing the file thinks of it."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    start = exc.context_mark
    opened = f"line {start.line + 1}, column {start.column + 1}" if start is not None else "?"
    problem, context = exc.problem or "invalid YAML", exc.context or ""
    char = text[mark.index] if mark is not None and mark.index < len(text) else ""
    if _LIBYAML_DEPTH_CAP in problem:
        message = f"nesting deeper than {MAX_DEPTH} levels"
    elif "tab" in problem or ("cannot start any token" in problem and char == "\t"):
        message = _tab_message(text, mark.index if mark is not None else 0)
    elif "cannot start any token" in problem:
        message = f"{char!r} cannot start a value; put the value in quotes"
    elif "quoted scalar" in context and "end of stream" in problem:
        message = f"unclosed quoted string: the quote at {opened} is never closed"
    elif "mapping values are not allowed" in problem:
        message = "unexpected ':' here; quote a value that contains ': ', or fix the indentation"
    elif "expected key" in problem or "'-' indicator" in problem or "<block end>" in problem:
        what = context.removeprefix("while parsing a ") or "block"
        message = f"bad indentation: this line does not continue the {what} at {opened}"
    elif "','" in problem:
        bracket = "[" if "]" in problem else "{"
        message = f"unclosed '{bracket}' at {opened}: expected ',' or the closing bracket"
    elif "expected ':'" in problem:
        message = f"expected ':' after the key at {opened}"
    else:
        message = f"{problem} ({context} at {opened})" if context else problem
    return YamlSyntaxError(message, line, column)


def _tab_message(text: str, offset: int) -> str:
    """Say which tab libyaml refused: on a blank line, as indentation, or after an indicator.

    YAML 1.2 allows a tab on a blank line and after '-', ':' or '?' (separation), but
    libyaml, which reads our files, refuses them there too; the user only needs to know
    which tab to replace.
    """
    start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    end = len(text)
    for brk in ("\n", "\r"):
        found = text.find(brk, offset)
        if found != -1:
            end = min(end, found)
    before, after = text[start:offset], text[offset:end].lstrip(" \t")
    if not before.strip(" \t"):
        if not after:
            return (
                "a blank line holds a tab character; delete it (a tab at the start of a "
                "line reads as indentation, and YAML indents with spaces)"
            )
        if after.startswith("#"):
            return "tab character before a comment; indent comments with spaces"
        return "tab character: YAML indents with spaces, never tabs"
    indicator = before.rstrip(" \t")[-1]
    if indicator in "-:?":
        return f"tab character after '{indicator}'; write a space there instead"
    return "tab character: write spaces instead of tabs outside quoted strings"
