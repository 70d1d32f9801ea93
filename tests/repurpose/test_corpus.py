"""Posts a creator would publish, checked over a corpus of real documents written by others
(READMEs and documentation in Markdown, reStructuredText, HTML and plain text, in English and
Chinese), our own Japanese, Chinese and emoji-heavy articles, and the three test articles
(``tests/corpus.py``).

For every document and every platform, the offline engine's post has no markup token, no
line of code, no word cut short, no fragment or sentence that is not the document's, no
identifier altered; the title is the document's own; every platform limit holds; and every
number, name, quote and link is found in the source. A few documents also have golden
outputs (``tests/fixtures/golden/``), read by people, so a change in quality shows as a diff:
``OMNIPOSTR_UPDATE_GOLDEN=1`` writes them anew.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omnipostr import sources
from omnipostr.repurpose import faithfulness
from omnipostr.repurpose import platforms as pf
from omnipostr.repurpose.engines.base import Options, Source
from omnipostr.repurpose.engines.offline import build_variant
from omnipostr.repurpose.engines.prompting import render
from tests.corpus import documents
from tests.repurpose.post_checks import (
    altered_identifiers,
    code_lines,
    markup_in,
    parts,
    stray_sentences,
)

DOCS = documents()
LINK = "https://blog.example.com/the-post"
OPTIONS = {
    "defaults": Options(),
    "link and lots of emoji": Options(link=LINK, emoji="lots", call_to_action="Tell us what you would try first."),
}
GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
GOLDEN_DOCS = ["own-four-day-week", "own-ja-remote-work", "own-zh-reading-habit", "own-emoji-launch-notes",
               "python-help-exceptions"]


def test_the_corpus_is_real_and_varied():
    assert len(DOCS) >= 16
    by_origin = [d for d in DOCS if '"own"' not in d.origin]
    assert len(by_origin) >= 12  # written by others
    formats = {d.format for d in by_origin}
    assert formats == {"markdown", "rst", "html", "plain"}
    assert {d.language for d in DOCS} >= {"en", "ja", "zh"}
    assert all(len(d.text) > 600 for d in DOCS), [d.id for d in DOCS if len(d.text) <= 600]


@pytest.mark.parametrize("doc", DOCS, ids=[d.id for d in DOCS])
def test_the_title_and_format_are_the_documents_own(doc):
    parsed = sources.parse(doc.text)
    assert parsed.format == doc.format
    assert parsed.language == doc.language
    if doc.title is None:  # the document has no title: one is made from its first sentence
        assert not parsed.title_from_source and parsed.title and len(parsed.title) <= 91
    else:
        assert parsed.title_from_source and parsed.title == doc.title
    for b in parsed.prose:
        assert not markup_in(b.text, b.code), (b.kind, b.text[:200], markup_in(b.text, b.code))


@pytest.mark.promise("AI-2")
@pytest.mark.parametrize("option_set", list(OPTIONS))
@pytest.mark.parametrize("doc", DOCS, ids=[d.id for d in DOCS])
def test_every_post_of_every_document_is_clean_whole_and_faithful(doc, option_set):
    options = OPTIONS[option_set]
    source = Source(title="", text=doc.text)
    parsed = source.document
    facts = faithfulness.analyze_source(doc.text)
    problems = []
    for platform in pf.PLATFORMS:
        variant = build_variant(source, platform, options)
        where = f"{doc.id} / {platform}"
        if found := pf.validate(platform, variant, options.platform_settings):
            problems.append(f"{where}: breaks a rule: {[p.message for p in found]}")
        for part in parts(variant):
            if found := markup_in(part):
                problems.append(f"{where}: markup {found} in {part[:160]!r}")
        if found := code_lines(variant, parsed):
            problems.append(f"{where}: code {found[:2]}")
        if found := stray_sentences(variant, parsed, options):
            problems.append(f"{where}: not a sentence of the document: {found[:3]}")
        if found := altered_identifiers(variant, doc.text):
            problems.append(f"{where}: identifiers not as written: {found[:3]}")
        flags = faithfulness.check(facts, variant.text, allowed_links=[LINK], allowed_terms=[options.call_to_action])
        if flags:
            problems.append(f"{where}: not in the source: {[f.value for f in flags]}")
        title_fields = [variant.fields.get(k, "") for k in ("title", "subject")]
        for value in title_fields:
            if value and not (value == parsed.title or (value.endswith("…") and parsed.title.startswith(value[:-1]))):
                problems.append(f"{where}: title {value!r} is not the document's ({parsed.title!r})")
    assert problems == []


def _golden_text(doc) -> str:
    source = Source(title="", text=doc.text)
    out = [f"# {doc.id}", "", f"Title: {source.document.title}", ""]
    for platform in pf.PLATFORMS:
        out += [f"## {platform}", "", render(build_variant(source, platform, Options(link=LINK))), ""]
    return "\n".join(out).rstrip() + "\n"


@pytest.mark.parametrize("doc_id", GOLDEN_DOCS)
def test_golden_outputs_change_only_on_purpose(doc_id):
    doc = next(d for d in DOCS if d.id == doc_id)
    path = GOLDEN / f"{doc_id}.md"
    got = _golden_text(doc)
    if os.environ.get("OMNIPOSTR_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"no golden output yet: run with OMNIPOSTR_UPDATE_GOLDEN=1 and read {path}"
    assert got == path.read_text(encoding="utf-8")
