"""reStructuredText into a ``Document``, with docutils.

docutils reads the standard markup; Sphinx's roles and directives, which docutils does not
know, are registered here so they read sensibly instead of leaking into the text as errors:
code-like roles (``:class:`Foo```, ``:func:``, ``:meth:``...) become inline code with their
text exactly as written, cross-references (``:ref:``, ``:doc:``, ``:term:``) become inline code
too (their target is a label, not words), ``code-block`` and friends become code, and
directives that only build the documentation (``toctree``, ``index``, ``automodule``...) are
dropped. Footnote and citation references (``[2]_``) and the notes themselves are left out;
links keep their words. Parsing is safe for text from anyone: file inclusion and raw
passthrough are off.
"""

from __future__ import annotations

import functools
import io
import re

from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives, roles

from omnipostr.sources.model import Block, Document, inline

_SETTINGS = {
    "report_level": 5,
    "halt_level": 5,
    "warning_stream": io.StringIO(),
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "_disable_config": True,
    "input_encoding": "unicode",
    "doctitle_xform": True,
    "sectsubtitle_xform": False,
    "pep_references": True,
    "rfc_references": True,
    "syntax_highlight": "none",
    "smart_quotes": False,
}

_CODE_ROLES = (
    "class func meth attr mod obj data const exc type samp file command program option envvar keyword "
    "kbd var macro member regexp makevar mailheader dfn ref doc term numref download any token "
    "confval setting issue gh pr source"
).split()
_TEXT_ROLES = "abbr menuselection guilabel".split()
_DROP_DIRECTIVES = (
    "toctree index highlight literalinclude include automodule autoclass autofunction automethod "
    "autoattribute autodata autoexception autosummary autoprogram currentmodule default-role "
    "default-domain sectionauthor moduleauthor codeauthor testsetup testcleanup tabularcolumns "
    "raw image figure seealso"
).split()
_CODE_DIRECTIVES = "code-block sourcecode code doctest testcode testoutput productionlist prompt".split()
_ROLE_USE = re.compile(r":((?:[a-z]+:)?[a-z][a-z0-9_-]*):`")
_DIRECTIVE_USE = re.compile(r"^\s*\.\.\s+((?:[a-z]+:)?[a-z][a-z0-9_-]*)::", re.M)
_TARGETED = re.compile(r"^(?P<label>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def _code_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    text = nodes.unescape(text)
    m = _TARGETED.match(text)
    shown = m.group("label") if m and m.group("label") else text
    shown = shown.lstrip("~!")
    return [nodes.literal(rawtext, shown)], []


def _text_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    text = nodes.unescape(text)
    m = _TARGETED.match(text)
    return [nodes.Text(m.group("label") if m and m.group("label") else text)], []


class _Dropped(Directive):
    """Any arguments and content, none of it text."""

    has_content = True
    optional_arguments = 10
    final_argument_whitespace = True
    option_spec = None

    def run(self):
        return []


class _Code(_Dropped):
    def run(self):
        block = nodes.literal_block("\n".join(self.content), "\n".join(self.content))
        block["language"] = self.arguments[0] if self.arguments else ""
        return [block]


class _Content(Directive):
    """A directive docutils does not know: its content is read as ordinary text. Its first
    line is an argument (a version, a name) and left out; what follows it is text (Sphinx's
    ``versionadded:: 3.2`` puts its explanation on the next line)."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = None

    def run(self):
        from docutils.statemachine import StringList

        lines = StringList()
        if self.arguments:
            for extra in self.arguments[0].split("\n")[1:]:
                lines.append(extra.strip(), "<directive>")
            if lines and self.content:
                lines.append("", "<directive>")
        for i, line in enumerate(self.content):
            lines.append(line, "<directive>", i)
        box = nodes.container()
        self.state.nested_parse(lines, self.content_offset, box)
        return [box]


@functools.cache
def _probe_document():
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    settings = get_default_settings(Parser)
    settings.report_level = 5
    settings.halt_level = 5
    settings.warning_stream = io.StringIO()
    return new_document("<probe>", settings)


def _known_role(name: str) -> bool:
    from docutils.parsers.rst.languages import en

    fn, _ = roles.role(name, en, 0, _probe_document().reporter)
    return fn is not None


def _known_directive(name: str) -> bool:
    from docutils.parsers.rst.languages import en

    cls, _ = directives.directive(name, en, _probe_document())
    return cls is not None


@functools.cache
def _register_sphinx() -> None:
    for name in _CODE_ROLES:
        roles.register_local_role(name, _code_role)
    for name in _TEXT_ROLES:
        roles.register_local_role(name, _text_role)
    for name in _DROP_DIRECTIVES:
        directives.register_directive(name, _Dropped)
    for name in _CODE_DIRECTIVES:
        directives.register_directive(name, _Code)


def _register_unknown(source: str) -> None:
    """Roles and directives this text uses that nobody registered (a Sphinx extension's,
    a domain's ``py:func``): code for roles, ordinary text for directives."""
    for name in set(_ROLE_USE.findall(source)):
        if not _known_role(name):
            base = name.split(":")[-1]
            roles.register_local_role(name, _text_role if base in _TEXT_ROLES else _code_role)
    for name in set(_DIRECTIVE_USE.findall(source)):
        if not _known_directive(name):
            base = name.split(":")[-1]
            if base in _CODE_DIRECTIVES:
                directives.register_directive(name, _Code)
            elif base in _DROP_DIRECTIVES or base.startswith("auto"):
                directives.register_directive(name, _Dropped)
            else:
                directives.register_directive(name, _Content)


# --- the tree, walked ------------------------------------------------------------------------

_SKIP = (
    nodes.system_message, nodes.comment, nodes.footnote, nodes.citation, nodes.target,
    nodes.substitution_definition, nodes.raw, nodes.image, nodes.figure, nodes.pending,
    nodes.docinfo, nodes.field_list, nodes.option_list,
)


def _inline(node) -> tuple[str, list[str], list[str]]:
    parts: list[str] = []
    links: list[str] = []
    code: list[str] = []

    def walk(n) -> None:
        if isinstance(n, nodes.Text):
            parts.append(n.astext())
        elif isinstance(n, (nodes.footnote_reference, nodes.citation_reference, nodes.problematic,
                            nodes.target, nodes.image, nodes.system_message, nodes.substitution_definition)):
            return
        elif isinstance(n, nodes.literal):
            text = n.astext()
            parts.append(text)
            code.append(text)
        else:
            if isinstance(n, nodes.reference) and n.get("refuri"):
                links.append(n["refuri"])
            for c in n.children:
                walk(c)

    for c in node.children:
        walk(c)
    text = inline("".join(parts))  # reStructuredText has no hard line breaks in a paragraph
    # a footnote reference leaves a space before the punctuation that followed it
    text = re.sub(r" +([.,;:!?)])", r"\1", text)
    return text, links, code


def _blocks(doc: nodes.document) -> list[Block]:
    blocks: list[Block] = []

    def walk(node, depth: int, list_depth: int) -> None:
        for child in node.children:
            if isinstance(child, _SKIP):
                continue
            if isinstance(child, nodes.topic) and "contents" in child.get("classes", []):
                continue
            if isinstance(child, nodes.section):
                title = child.next_node(nodes.title)
                if title is not None:
                    text, links, code = _inline(title)
                    if text:
                        blocks.append(Block("heading", inline(text), level=depth + 1, links=links, code=code))
                walk(child, depth + 1, list_depth)
            elif isinstance(child, nodes.title):
                continue  # handled with its section, or the document's title
            elif isinstance(child, nodes.subtitle):
                text = inline(child.astext())
                if text:
                    blocks.append(Block("heading", text, level=depth + 2))
            elif isinstance(child, nodes.paragraph):
                text, links, code = _inline(child)
                if text:
                    blocks.append(Block("paragraph", text, links=links, code=code))
            elif isinstance(child, (nodes.bullet_list, nodes.enumerated_list)):
                ordered = isinstance(child, nodes.enumerated_list)
                start = int(child.get("start", 1) or 1)
                for n, item in enumerate(child.children):
                    first = True
                    for part in item.children:
                        if isinstance(part, nodes.paragraph) and first:
                            text, links, code = _inline(part)
                            if text:
                                blocks.append(Block("item", text, level=list_depth, ordered=ordered,
                                                    number=start + n if ordered else 0, links=links, code=code))
                            first = False
                        elif isinstance(part, nodes.paragraph) and blocks and blocks[-1].kind == "item":
                            text, links, code = _inline(part)
                            blocks[-1].text += "\n" + text
                            blocks[-1].links += links
                            blocks[-1].code += code
                        else:
                            wrapper = nodes.container()
                            wrapper.children = [part]
                            walk(wrapper, depth, list_depth + 1)
            elif isinstance(child, nodes.definition_list):
                for item in child.children:
                    term = item.next_node(nodes.term)
                    definition = item.next_node(nodes.definition)
                    term_text = _inline(term)[0] if term is not None else ""
                    if definition is not None:
                        first = definition.next_node(nodes.paragraph)
                        text, links, code = _inline(first) if first is not None else ("", [], [])
                        term_code = [term_text] if term_text and term is not None and term.next_node(nodes.literal) else []
                        if text:
                            blocks.append(Block("item", f"{term_text}: {text}" if term_text else text,
                                                level=list_depth, links=links, code=term_code + code))
            elif isinstance(child, (nodes.literal_block, nodes.doctest_block)):
                body = child.astext().strip("\n")
                if body.strip():
                    blocks.append(Block("code", body, language=child.get("language", "") or ""))
            elif isinstance(child, nodes.block_quote):
                if child.next_node(nodes.attribution) is not None:
                    paragraphs = [p for p in child.children if isinstance(p, nodes.paragraph)]
                    text = "\n".join(_inline(p)[0] for p in paragraphs).strip()
                    if text:
                        blocks.append(Block("quote", text))
                else:
                    walk(child, depth, list_depth)
            elif isinstance(child, nodes.line_block):
                text = "\n".join(_inline(ln)[0] for ln in child.traverse(nodes.line)).strip()
                if text:
                    blocks.append(Block("paragraph", text))
            elif isinstance(child, nodes.table):
                rows = []
                for row in child.traverse(nodes.row):
                    cells = [inline(e.astext()) for e in row.children]
                    rows.append("| " + " | ".join(cells) + " |")
                    if len(rows) == 1:
                        rows.append("|" + "|".join(" --- " for _ in cells) + "|")
                if rows:
                    blocks.append(Block("table", "\n".join(rows)))
            elif isinstance(child, nodes.rubric):
                text = inline(child.astext())
                if text:
                    blocks.append(Block("heading", text, level=depth + 2))
            elif isinstance(child, nodes.Element):
                walk(child, depth, list_depth)  # admonitions, containers, compounds...

    walk(doc, 0, 0)
    return blocks


def parse(source: str, *, title_hint: str = "") -> Document:
    _register_sphinx()
    _register_unknown(source)
    doc = publish_doctree(source, settings_overrides=dict(_SETTINGS, warning_stream=io.StringIO()))
    title_node = doc.next_node(nodes.title)
    title = ""
    if title_node is not None and title_node.parent is doc:
        title = inline(_inline(title_node)[0])
    blocks = _blocks(doc)
    from_source = bool(title)
    return Document(title=title or title_hint, blocks=blocks, format="rst", title_from_source=from_source)
