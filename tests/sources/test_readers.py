"""Each reader, with the kind of input that used to leak markup or change meaning."""

from __future__ import annotations

from omnipostr import sources
from omnipostr.repurpose.engines.base import Options, Source
from omnipostr.repurpose.engines.extractive import analyze
from omnipostr.repurpose.engines.offline import build_variant

RST = """\
=====================
Private names in classes
=====================

:Author: A. Writer
:Date: 2024-05-01

Python mangles names that start with two underscores, as :pep:`8` explains [2]_.
See `the tutorial <https://docs.python.org/3/tutorial/classes.html>`_ for more.

.. note::

   An attribute named ``__a`` cannot be accessed by ``Foo.__a`` from outside the class.

Here is an example::

    class Foo:
        def __init__(self):
            self.__a = 1

.. code-block:: python

    print(Foo()._Foo__a)

.. [2] The style guide.
"""


def _prose(doc: sources.Document) -> str:
    return "\n".join(b.text for b in doc.prose)


def test_restructuredtext_roles_directives_literals_fields_and_references_are_not_prose():
    doc = sources.parse(RST)
    assert doc.format == "rst" and doc.title == "Private names in classes"
    prose = _prose(doc)
    for leaked in (":pep:", ".. note::", "::", "[2]_", "`_", ":Author:", "code-block", "def __init__", "print("):
        assert leaked not in prose, leaked
    assert "Python mangles names that start with two underscores, as PEP 8 explains." in prose
    assert "See the tutorial for more." in prose
    # identifiers survive as written, never with their underscores removed
    assert "An attribute named __a cannot be accessed by Foo.__a from outside the class." in prose
    assert [b.kind for b in doc.blocks].count("code") == 2


def test_directive_words_never_become_hashtags():
    keywords = {k.lower() for k in analyze(sources.parse(RST)).keywords}
    assert not keywords & {"note", "codeblock", "code", "pep", "author", "date"}


def test_a_wrapped_list_item_stays_one_item():
    md = "# Notes\n\n- The ratio could be inferred to represent\n  the share of returning readers.\n- Short one.\n"
    txt = "Notes on the data:\n\n* The ratio could be inferred to represent\n  the share of returning readers.\n* Short one.\n"
    for text in (md, txt):
        items = [b.text for b in sources.parse(text).blocks if b.kind == "item"]
        assert items[0] == "The ratio could be inferred to represent the share of returning readers.", text


def test_pasted_code_is_kept_apart_from_the_prose_and_out_of_posts():
    text = (
        "Keyword arguments make calls easier to read, and the team adopted them everywhere last year.\n\n"
        "def function(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b\n\n"
        "Reviews got shorter because nobody had to look up what the third argument meant anymore."
    )
    doc = sources.parse(text)
    assert [b.kind for b in doc.blocks] == ["paragraph", "code", "paragraph"]
    for platform in ("x", "linkedin", "newsletter", "tiktok"):
        post = build_variant(Source("", text), platform, Options()).text
        assert "def function" not in post and "return a + b" not in post, platform


def test_html_pasted_into_plain_text_keeps_its_words_and_drops_its_scripts():
    doc = sources.parse("<script>alert(1)</script> Hello <b>world</b>, this is <em>bold</em>.")
    assert _prose(doc) == "Hello world, this is bold."


def test_markdown_reference_links_and_inline_code_read_as_words():
    text = "# Title here\n\nRead [the guide][1] and call `parse()` on the text. It returns a [document](https://x.example).\n\n[1]: https://example.com/guide\n"
    prose = _prose(sources.parse(text))
    assert "Read the guide and call parse() on the text." in prose
    assert "[1]" not in prose and "https://" not in prose


def test_a_markdown_table_of_contents_is_not_part_of_the_text():
    text = (
        "# Guide\n\n- [Getting started](#getting-started)\n  - [Load settings without touching the environment](#load)\n\n"
        "## Getting started\n\n- See [the install notes](#install) before you start, they take a minute.\n"
    )
    items = [b.text for b in sources.parse(text).blocks if b.kind == "item"]
    assert items == ["See the install notes before you start, they take a minute."]


def test_a_line_break_in_html_source_is_a_space_and_only_br_breaks_a_line():
    page = (
        "<html><head><title>Workspaces</title></head><body><article><h1>Workspaces</h1>"
        "<p>This shows how the nature of <code>node_modules</code> resolution allows for\n"
        "<strong>workspaces</strong> to enable a portable workflow for every package you keep.</p>"
        "<p>First line of an address<br>Second line of it, written as it is on the envelope.</p>"
        "<p>" + "Workspaces keep every package of a project in one place and link them together. " * 4 + "</p>"
        "</article></body></html>"
    )
    doc = sources.parse(page)
    sentences = [s.text for s in doc.sentences]
    assert ("This shows how the nature of node_modules resolution allows for workspaces to enable a portable "
            "workflow for every package you keep.") in sentences
    assert "First line of an address" in sentences


def test_the_caption_under_a_markdown_table_is_not_prose():
    text = (
        "# Speed\n\nOur parser is quick on every file we tried, small or large.\n\n"
        "| tool | median |\n|---|---|\n| ours | 0.2 ms |\n\n"
        "_updated as of November 2026 on a 13th gen laptop._\n\n"
        "*We measured it twice* and the numbers held.\n"
    )
    prose = _prose(sources.parse(text))
    assert "updated as of" not in prose
    assert "We measured it twice and the numbers held." in prose  # emphasis in a sentence stays
