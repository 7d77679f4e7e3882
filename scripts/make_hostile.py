#!/usr/bin/env python3
"""Generate a folder of hostile and malformed inputs for `relief ingest`.

    python scripts/make_hostile.py DIR [--fast] [--seed N]

Writes at least 200 inputs into DIR (never into the repository: generate at test time)
and a `hostile-manifest.json` beside them (its name starts with a dot-free word but it is
a .json, which ingest ignores) describing each input:

    {"file": "nested/deep-100000.html", "kind": "nested", "expect": "any" | "page" | REASON,
     "lines": N}   # for JSONL: the number of records (non-blank lines)

`expect` is what a correct ingest must do with the input: "page" (indexed), a skip reason
such as "binary", "empty", "too-large", "bad-gzip", "bad-json", "bad-record" (reported with
that reason), or "any" (either indexed or reported, with some reason).

`--fast` leaves out the slowest inputs (the 50 MB files shrink to just over the limit
given by --limit, the 1 MB attributes stay) so the suite version runs in seconds.

All text is original; the only third-party bytes are random.
"""

from __future__ import annotations

import argparse
import codecs
import gzip
import json
import os
import random
import sys
import zlib
from pathlib import Path
from typing import Any

MANIFEST = "hostile-manifest.json"
MB = 1024 * 1024

WORDS = (
    "back pain relief stretch walking heat cold massage posture spine disc nerve sciatica "
    "muscle rest sleep lifting exercise core strength physiotherapy ibuprofen doctor week "
    "gentle daily movement stiffness lumbar ache recovery acupuncture yoga swimming chair "
    "desk mattress pillow injury strain sprain inflammation pressure relief slowly often"
).split()

XSS = [
    "<script>alert('xss-script')</script>",
    "<img src=x onerror=alert('xss-img')>",
    "<svg/onload=alert('xss-svg')>",
    "\"><script>alert('xss-attr')</script>",
    "javascript:alert('xss-js')",
    "<iframe src=\"javascript:alert('xss-iframe')\"></iframe>",
    "<a href=\"javascript:alert('xss-link')\">click</a>",
    "</title><script>alert('xss-title')</script>",
    "<body onload=alert('xss-body')>",
    "{{7*7}}${7*7}<%= 7*7 %>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('xss-math')>",
    "&lt;script&gt;alert('xss-entity')&lt;/script&gt;",
]


def sentence(rng: random.Random, n: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int = 5) -> str:
    return " ".join(sentence(rng, rng.randint(8, 18)) for _ in range(sentences))


def page(title: str, body: str, head_extra: str = "", charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<!DOCTYPE html>\n<html><head>{meta}<title>{title}</title>{head_extra}</head>\n"
        f"<body><main><h1>{title}</h1>\n{body}\n</main></body></html>\n"
    )


class Builder:
    def __init__(self, root: Path, seed: int):
        self.root = root
        self.rng = random.Random(seed)
        self.entries: list[dict[str, Any]] = []

    def add(self, rel: str, data: bytes | str, kind: str, expect: str = "any", **extra: Any) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        path.write_bytes(data)
        self.entries.append({"file": rel, "kind": kind, "expect": expect, **extra})
        return path

    def add_sized(self, rel: str, size: int, chunk: bytes, kind: str, expect: str) -> None:
        """A large file written in chunks (never held in memory whole)."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            written = 0
            while written < size:
                piece = chunk[: size - written]
                fh.write(piece)
                written += len(piece)
        self.entries.append({"file": rel, "kind": kind, "expect": expect, "bytes": size})

    def text(self, n: int = 3) -> str:
        return "\n".join(f"<p>{paragraph(self.rng)}</p>" for _ in range(n))


def build(root: Path, *, fast: bool = False, seed: int = 1, limit: int = 20 * MB) -> list[dict[str, Any]]:
    """Write the hostile inputs under root; returns the manifest entries."""
    root.mkdir(parents=True, exist_ok=True)
    b = Builder(root, seed)
    rng = b.rng

    # 1. deep nesting: tags, mixed tags, nested tables and lists, nested comments
    for depth in (100, 1000, 5000, 20000, 100000):
        b.add(f"nested/div-{depth}.html", page("Deep divs", "<div>" * depth + paragraph(rng) + "</div>" * depth), "nested")
        b.add(f"nested/div-unclosed-{depth}.html", page("Deep open divs", "<div>" * depth + paragraph(rng)), "nested")
    for depth in (500, 5000, 50000):
        tags = ["div", "span", "section", "article", "b", "i", "em", "blockquote", "ul", "li", "table", "tr", "td", "p"]
        opened = [rng.choice(tags) for _ in range(depth)]
        body = "".join(f"<{t}>" for t in opened) + paragraph(rng) + "".join(f"</{t}>" for t in reversed(opened))
        b.add(f"nested/mixed-{depth}.html", page("Mixed nesting", body), "nested")
        b.add(f"nested/table-{depth}.html", page("Nested tables", "<table><tr><td>" * depth + paragraph(rng) + "</td></tr></table>" * depth), "nested")
        b.add(f"nested/list-{depth}.html", page("Nested lists", "<ul><li>" * depth + paragraph(rng)), "nested")
        b.add(f"nested/inline-{depth}.html", page("Nested inline", "<b><i>" * depth + paragraph(rng)), "nested")
    b.add("nested/comments.html", page("Comments", "<!--" * 10000 + paragraph(rng) + "-->" * 10000), "nested")
    b.add("nested/brackets.html", "<" * 200000 + paragraph(rng) + ">" * 200000, "nested")

    # 2. unclosed and broken markup
    broken = {
        "unclosed-everything": "<html><head><title>Unclosed<body><p>" + paragraph(rng) + "<p><b><i><div><table><tr><td>" + paragraph(rng),
        "no-html-at-all": paragraph(rng, 8),
        "only-head": "<html><head><title>Only a head</title><meta charset=utf-8></head></html>",
        "unclosed-comment": page("Comment", paragraph(rng)) + "<!-- never closed " + paragraph(rng),
        "unclosed-script": "<html><body><p>" + paragraph(rng) + "</p><script>var a = '" + "x" * 100000,
        "unclosed-style": "<html><body><style>p { color: red " + paragraph(rng),
        "unclosed-title": "<html><head><title>" + paragraph(rng, 20),
        "unclosed-attr": '<html><body><p class="never closed>' + paragraph(rng, 10),
        "cdata": page("CDATA", "<![CDATA[" + paragraph(rng) + "]]>" + "<p>" + paragraph(rng) + "</p>"),
        "unclosed-cdata": page("CDATA open", "<p>" + paragraph(rng) + "</p><![CDATA[" + paragraph(rng)),
        "processing-instructions": "<?xml version='1.0'?><?php echo 1; ?>" + page("PI", b.text()),
        "doctype-junk": "<!DOCTYPE " + "x" * 100000 + ">" + page("Doctype", b.text()),
        "end-tags-only": "</p></div></body></html>" * 1000 + paragraph(rng),
        "tag-soup": "".join(rng.choice(["<p>", "</p>", "<div>", "</div>", "<b>", "</i>", "<br>", "<hr/>", "<td>", "</tr>"]) + sentence(rng) for _ in range(3000)),
        "self-closing-everything": page("Self closing", "".join(f"<div/><p/>{sentence(rng)}<span/>" for _ in range(500))),
        "weird-tag-names": page("Weird tags", "".join(f"<x-{i}-{'a' * 50} foo=bar>{sentence(rng)}" for i in range(500))),
        "many-attributes": page("Many attributes", "<p " + " ".join(f"a{i}=\"{i}\"" for i in range(50000)) + ">" + paragraph(rng) + "</p>"),
        "duplicate-bodies": "<html>" + "<body><p>" + paragraph(rng) + "</p></body>" * 200 + "</html>",
        "frameset": "<html><frameset><frame src='a.html'><noframes><p>" + paragraph(rng) + "</p></noframes></frameset></html>",
        "svg-math": page("SVG", "<svg><foreignObject><p>" + paragraph(rng) + "</p></foreignObject></svg><math><mi>x</mi></math>" + b.text()),
        "template-noscript": page("Templates", "<template><p>" + paragraph(rng) + "</p></template><noscript><p>" + paragraph(rng) + "</p></noscript>" + b.text()),
        "hidden-everything": page("Hidden", "<div hidden><p>" + paragraph(rng) + "</p></div><div style='display:none'>" + b.text() + "</div>"),
        "ld-json-broken": page("LD", b.text(), head_extra='<script type="application/ld+json">{"@type": "Article", "author": ' + "[" * 50000 + "</script>"),
        "ld-json-deep": page("LD deep", b.text(), head_extra='<script type="application/ld+json">' + '{"a":' * 50000 + "1" + "}" * 50000 + "</script>"),
        "entities": page("Entities &amp; more", "<p>" + "&amp;&lt;&gt;&#0;&#x110000;&#xD800;&#65;&bogus;&" * 2000 + "</p>" + b.text()),
        "long-word": page("Long word", "<p>" + "a" * 2 * MB + "</p>" + b.text()),
        "long-line-text": page("Long line", "<p>" + " ".join(rng.choice(WORDS) for _ in range(200000)) + "</p>"),
        "many-paragraphs": page("Many paragraphs", "".join(f"<p>{sentence(rng)}</p>" for _ in range(20000))),
        "many-headings": page("Many headings", "".join(f"<h{1 + i % 6}>{sentence(rng, 4)}</h{1 + i % 6}>" for i in range(10000))),
        "many-links": page("Links", "".join(f"<a href='/{i}'>{sentence(rng, 3)}</a>" for i in range(20000))),
        "giant-table": page("Table", "<table>" + "".join("<tr>" + "".join(f"<td>{rng.choice(WORDS)}</td>" for _ in range(30)) + "</tr>" for _ in range(3000)) + "</table>"),
        "canonical-hostile": page("Canonical", b.text(), head_extra='<link rel="canonical" href="javascript:alert(1)"><link rel=canonical href="https://evil.example/../../etc/passwd">'),
        "canonical-huge": page("Canonical huge", b.text(), head_extra='<link rel="canonical" href="https://x.example/' + "a" * 100000 + '">'),
        "base-href": page("Base", b.text(), head_extra='<base href="javascript:alert(1)//">'),
        "meta-refresh": page("Refresh", b.text(), head_extra='<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'),
        "zalgo-rtl": page("Z\u0335\u0321a\u0336l\u0337g\u0338o\u202e evil \u202d", "<p>" + "".join(c + "\u0300\u0301\u0302\u0303\u0304" for c in paragraph(rng)) + "</p><p>\u202e" + paragraph(rng) + "\u200b\u200d\ufeff</p>" + b.text()),
        "emoji-astral": page("Emoji \U0001F600 back", "<p>" + " ".join("\U0001F4A9\U0001F9B4" + w for w in paragraph(rng).split()) + "</p>" + b.text()),
        "nul-in-text": page("NUL", "<p>" + paragraph(rng) + "\x00" + paragraph(rng) + "</p>"),
        "control-chars": page("Control", "<p>" + "".join(c + chr(rng.randint(1, 31)) for c in paragraph(rng, 3)) + "</p>" + b.text()),
        "lone-surrogate-escapes": page("Surrogates", "<p>&#xD800; &#xDFFF; " + paragraph(rng) + "</p>"),
    }
    for name, html in broken.items():
        b.add(f"broken/{name}.html", html, "broken")

    # 3. 1 MB attributes (and friends)
    big = "A" * MB
    b.add("attrs/class-1mb.html", page("Big class", f'<div class="{big}">' + b.text() + "</div>"), "big-attr")
    b.add("attrs/style-1mb.html", page("Big style", f'<p style="{big}">' + paragraph(rng) + "</p>" + b.text()), "big-attr")
    b.add("attrs/href-1mb.html", page("Big href", f'<a href="https://x.example/{big}">{sentence(rng)}</a>' + b.text()), "big-attr")
    b.add("attrs/title-1mb.html", page("Big title attr", f'<p title="{big}">' + paragraph(rng) + "</p>"), "big-attr")
    b.add("attrs/meta-1mb.html", page("Big meta", b.text(), head_extra=f'<meta name="description" content="{big}"><meta name="author" content="{big}">'), "big-attr")
    b.add("attrs/unquoted-1mb.html", page("Unquoted", f"<div data-x={big}>" + b.text() + "</div>"), "big-attr")
    b.add("attrs/unclosed-1mb.html", page("Unclosed attr", f'<div data-x="{big}' + b.text()), "big-attr")
    b.add("attrs/title-tag-1mb.html", page("T" * MB, b.text()), "big-attr")
    b.add("attrs/spaces-1mb.html", page("Spaces", f'<div class="{" " * MB}">' + b.text() + "</div>"), "big-attr")
    b.add("attrs/many-1mb-attrs.html", page("Many big", "".join(f'<span data-{i}="{"B" * (MB // 8)}">{sentence(rng)}</span>' for i in range(8))), "big-attr")

    # 4. binary junk under page names
    for i in range(25):
        size = rng.choice([1, 7, 100, 4096, 65536, 1 * MB])
        data = bytes(rng.getrandbits(8) for _ in range(min(size, 4096))) * max(1, size // 4096)
        ext = rng.choice([".html", ".htm", ".txt", ".jsonl"])
        b.add(f"binary/junk-{i:02d}{ext}", data, "binary", "any")
    b.add("binary/png-as-html.html", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100, "binary", "binary")
    b.add("binary/elf-as-txt.txt", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 5000, "binary", "binary")
    b.add("binary/pdf-as-html.html", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(rng.getrandbits(8) for _ in range(20000)), "binary", "any")
    b.add("binary/zip-as-htm.htm", b"PK\x03\x04" + b"\x00" * 26 + bytes(rng.getrandbits(8) for _ in range(5000)), "binary", "binary")
    b.add("binary/nul-first-byte.html", b"\x00" + page("NUL first", b.text()).encode(), "binary", "any")
    b.add("binary/utf32.html", page("UTF-32", b.text()).encode("utf-32"), "encoding", "any")

    # 5. gzip: a bomb, truncated, corrupt, not-gzip, nested, fine
    bomb_size = (64 if fast else 1024) * MB
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\x00" * MB
    bomb = bytearray()
    for _ in range(bomb_size // MB):
        bomb += comp.compress(chunk)
    bomb += comp.flush()
    b.add("gzip/bomb-zeros.html.gz", bytes(bomb), "gzip-bomb", "any", inflated=bomb_size)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    text_chunk = ("<p>" + paragraph(rng) + "</p>\n").encode() * 2000
    bomb2 = bytearray(comp.compress(b"<html><body>"))
    inflated = 0
    while inflated < (40 * MB if fast else 200 * MB):
        bomb2 += comp.compress(text_chunk)
        inflated += len(text_chunk)
    bomb2 += comp.flush()
    b.add("gzip/bomb-text.html.gz", bytes(bomb2), "gzip-bomb", "too-large", inflated=inflated)
    good = gzip.compress(page("Gzipped page", b.text()).encode())
    b.add("gzip/good.html.gz", good, "gzip", "page")
    b.add("gzip/truncated.html.gz", good[: len(good) // 2], "gzip", "bad-gzip")
    b.add("gzip/corrupt.html.gz", good[:10] + bytes(rng.getrandbits(8) for _ in range(len(good) - 10)), "gzip", "any")
    b.add("gzip/not-gzip.html.gz", page("Plain", b.text()), "gzip", "bad-gzip")
    b.add("gzip/empty.txt.gz", b"", "gzip", "empty")
    b.add("gzip/empty-inside.txt.gz", gzip.compress(b""), "gzip", "empty")
    b.add("gzip/double.html.gz", gzip.compress(gzip.compress(page("Double", b.text()).encode())), "gzip", "any")
    b.add("gzip/trailing-junk.html.gz", good + b"JUNKJUNK" * 100, "gzip", "any")
    b.add("gzip/jsonl.jsonl.gz", gzip.compress((json.dumps({"id": "gz-record", "text": paragraph(rng)}) + "\n{broken\n").encode()),
          "gzip", "any", lines=2)

    # 6. encodings: mixed, lying, BOMs, legacy
    body = "Caf\u00e9 na\u00efve \u2014 \u201cback pain\u201d relief: stretch, walk, r\u00e9sum\u00e9. " + paragraph(rng)
    encs = ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252", "shift_jis", "euc-jp", "koi8-r", "gb18030", "big5", "iso-8859-7", "cp1251", "utf-7"]
    for enc in encs:
        try:
            raw = page(f"Encoding {enc}", f"<p>{body}</p>" + b.text(), charset=enc).encode(enc, errors="replace")
        except (LookupError, UnicodeError):
            continue
        b.add(f"enc/true-{enc}.html", raw, "encoding", "any")
        # lying: declares one charset, bytes are another
        liar = rng.choice([e for e in encs if e != enc])
        raw = page(f"Lying {enc} as {liar}", f"<p>{body}</p>" + b.text(), charset=liar).encode(enc, errors="replace")
        b.add(f"enc/lie-{enc}-says-{liar}.html", raw, "encoding", "any")
    b.add("enc/bom-utf8-says-latin1.html", codecs.BOM_UTF8 + page("BOM", f"<p>{body}</p>", charset="iso-8859-1").encode(), "encoding", "any")
    b.add("enc/bom-utf16-says-utf8.html", codecs.BOM_UTF16_LE + page("BOM16", f"<p>{body}</p>", charset="utf-8").encode("utf-16-le"), "encoding", "any")
    b.add("enc/bom-only.html", codecs.BOM_UTF8, "encoding", "empty")
    b.add("enc/bom-utf16-only.txt", codecs.BOM_UTF16_LE, "encoding", "any")
    mixed = (page("Mixed", f"<p>{body}</p>").encode("utf-8") + f"<p>{body}</p>".encode("cp1252", "replace")
             + f"<p>{body}</p>".encode("utf-16-le") + f"<p>{body}</p>".encode("shift_jis", "replace"))
    b.add("enc/mixed-four.html", mixed, "encoding", "any")
    b.add("enc/mixed-utf8-latin1.txt", ("Line one " + body + "\n").encode() + ("Line two " + body + "\n").encode("latin-1", "replace"), "encoding", "any")
    b.add("enc/invalid-utf8.html", page("Invalid", "<p>" + paragraph(rng) + "</p>").encode() + b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xff\xfe" * 100, "encoding", "any")
    b.add("enc/overlong-utf8.html", b"<html><body><p>" + b"\xc0\xaf\xe0\x80\xaf" * 1000 + paragraph(rng).encode() + b"</p></body></html>", "encoding", "any")
    b.add("enc/surrogates-utf8.txt", paragraph(rng).encode() + b"\xed\xa0\x80\xed\xbf\xbf" + paragraph(rng).encode(), "encoding", "any")
    b.add("enc/meta-many-charsets.html", ('<meta charset="utf-16"><meta charset="shift_jis"><meta http-equiv="Content-Type" content="text/html; charset=bogus-999">' + page("Many", f"<p>{body}</p>", charset="x-unknown")).encode(), "encoding", "any")
    b.add("enc/meta-charset-late.html", (" " * 100000 + page("Late", f"<p>{body}</p>", charset="cp1252")).encode("cp1252", "replace"), "encoding", "any")

    # 7. big files: 50 MB (refused by size) and just-over-limit ones
    big_size = (limit + MB) if fast else 50 * MB
    b.add_sized("big/50mb.html", big_size, ("<p>" + paragraph(rng) + "</p>\n").encode() * 1000, "huge", "too-large")
    b.add_sized("big/50mb.txt", big_size, (paragraph(rng) + "\n").encode() * 1000, "huge", "too-large")
    b.add_sized("big/50mb-nul.html", big_size, b"\x00" * MB, "huge", "too-large")
    # the JSONL limit is per record: this file is one record over the limit (reported at :1)
    b.add_sized("big/50mb.jsonl", big_size, ('{"text": "' + paragraph(rng) + " ").encode() * 1000, "huge", "any")
    b.add_sized("big/just-over.html", limit + 1, b"<p>" + b"x" * 4093 + b"</p>", "huge", "too-large")

    # 8. empty and nearly empty files
    for i, data in enumerate([b"", b" ", b"\n\n\n", b"\t \r\n" * 1000, b"\xef\xbb\xbf   \n"]):
        b.add(f"empty/blank-{i}.html", data, "empty", "empty")
        b.add(f"empty/blank-{i}.txt", data, "empty", "empty")
    for i, html in enumerate([
        "<html></html>", "<html><body></body></html>", "<p></p>" * 100, "<!-- only a comment -->",
        "<script>only()</script><style>p{}</style>", "<nav><a href=/>Home</a></nav><footer>(c)</footer>",
        "<html><head><title>Title only</title></head><body></body></html>", "&nbsp;" * 1000,
    ]):
        b.add(f"empty/no-text-{i}.html", html, "empty", "any")
    b.add("empty/empty.jsonl", b"", "empty", "empty")
    b.add("empty/blank-lines.jsonl", b"\n\n   \n\t\n", "empty", "any", lines=0)

    # 9. JSONL with broken lines
    good_rec = lambda i: json.dumps({"id": f"jl-{i}", "url": f"https://jsonl.example/{i}", "title": f"Record {i}", "text": paragraph(rng)})  # noqa: E731
    lines = [
        good_rec(1),
        "{broken json",
        good_rec(2),
        "[1, 2, 3]",
        '"just a string"',
        "null",
        "42",
        json.dumps({"id": "no-body"}),
        json.dumps({"id": "empty-text", "text": "   "}),
        json.dumps({"id": "wrong-type", "text": 42, "html": ["x"]}),
        json.dumps({"id": {"nested": "id"}, "text": paragraph(rng)}),
        json.dumps({"id": "../../../etc/passwd", "text": paragraph(rng)}),
        json.dumps({"id": "<script>alert('xss-id')</script>", "title": XSS[0], "url": "javascript:alert('xss-url')", "text": paragraph(rng)}),
        json.dumps({"id": "a" * 10000, "text": paragraph(rng)}),
        json.dumps({"id": "jl-1", "text": "duplicate id " + paragraph(rng)}),
        json.dumps({"id": "surrogate", "text": "\ud800 lone " + paragraph(rng)}),
        '{"id": "trunc", "text": "cut off in the mid',
        '{"id": "bad-escape", "text": "\\x41 \\u12"}',
        json.dumps({"id": "deep", "text": paragraph(rng), "extra": {"a": 1}}),
        "[" * 100000 + "]" * 100000,
        '{"a":' * 100000 + "1" + "}" * 100000,
        json.dumps({"id": "huge-text-field", "html": "<p>" + paragraph(rng) + "</p>" * 10000}),
        "\x00\x01\x02 binary line",
        json.dumps({"id": "title-not-str", "title": ["x"], "text": paragraph(rng)}),
        json.dumps({"id": "url-not-str", "url": {"x": 1}, "text": paragraph(rng)}),
        json.dumps({"id": "", "text": paragraph(rng)}),
        json.dumps({"id": None, "text": paragraph(rng)}),
        json.dumps({"id": "nul\x00id", "text": paragraph(rng)}),
        json.dumps({"id": "newline\nid", "text": paragraph(rng)}),
        good_rec(3),
    ]
    raw = "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n\xff\xfe invalid utf-8 line\n" + good_rec(4).encode() + b"\n"
    b.add("jsonl/broken-lines.jsonl", raw, "jsonl", "any", lines=len(lines) + 2)
    b.add("jsonl/crlf.jsonl", "\r\n".join(good_rec(10 + i) for i in range(5)).encode() + b"\r\n", "jsonl", "any", lines=5)
    b.add("jsonl/no-newline-at-end.jsonl", good_rec(20), "jsonl", "any", lines=1)
    b.add("jsonl/one-huge-line.jsonl", json.dumps({"id": "huge-line", "text": paragraph(rng) + " " + "y" * (2 * MB)}), "jsonl", "any", lines=1)
    b.add("jsonl/utf16.jsonl", (good_rec(30) + "\n").encode("utf-16"), "jsonl", "any", lines=1)
    b.add("jsonl/bom.jsonl", codecs.BOM_UTF8 + (good_rec(31) + "\n").encode(), "jsonl", "any", lines=1)
    b.add("jsonl/all-broken.jsonl", "\n".join("{" + "x" * i for i in range(1, 51)), "jsonl", "any", lines=50)
    b.add("jsonl/only-brackets.jsonl", "\n".join(["{}", "[]", "{", "}", "]"]), "jsonl", "any", lines=5)
    many = "\n".join(json.dumps({"id": f"many-{i}", "text": sentence(rng, 3)}) if i % 3 else "{bad" for i in range(300))
    b.add("jsonl/many-short.jsonl", many, "jsonl", "any", lines=300)

    # 10. pages carrying XSS payloads in text, title, headings, urls (should index, render inert)
    for i, payload in enumerate(XSS):
        esc = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        b.add(f"xss/escaped-{i:02d}.html", page(f"Back pain {esc}", f"<h2>Heading {esc}</h2><p>{paragraph(rng)} {esc} {paragraph(rng)}</p>" + b.text(),
              head_extra=f'<link rel="canonical" href="https://xss.example/{i}?q=%22%3E%3Cscript%3E">'), "xss", "any")
        b.add(f"xss/raw-{i:02d}.html", page(f"Back pain raw {i}", f"<p>{paragraph(rng)} {payload} {paragraph(rng)}</p>" + b.text()), "xss", "any")
        b.add(f"xss/text-{i:02d}.txt", f"Back pain {payload}\n\n{paragraph(rng)} {payload} {paragraph(rng)}\n\n{paragraph(rng)}\n", "xss", "any")

    # 11. plain text oddities
    b.add("text/one-line-100k-words.txt", " ".join(rng.choice(WORDS) for _ in range(100000)), "text", "any")
    b.add("text/no-spaces.txt", "x" * (3 * MB), "text", "any")
    b.add("text/only-punct.txt", "!?.,;:-" * 10000, "text", "any")
    b.add("text/many-blank-lines.txt", ("\n" * 1000).join(paragraph(rng) for _ in range(50)), "text", "any")
    b.add("text/html-in-txt.txt", page("Markup in a text file", b.text()), "text", "any")
    b.add("text/cr-only.txt", "\r".join(paragraph(rng) for _ in range(20)), "text", "any")
    b.add("text/formfeeds.txt", "\f\v".join(paragraph(rng) for _ in range(20)), "text", "any")

    # 12. odd names and file-system objects
    b.add("names/spaces and ünïcödé 名前.html", page("Odd name", b.text()), "name", "any")
    b.add("names/UPPER.HTML", page("Upper suffix", b.text()), "name", "any")
    b.add("names/double.html.txt", page("Double suffix", b.text()), "name", "any")
    b.add("names/" + "n" * 200 + ".html", page("Long name", b.text()), "name", "any")
    b.add("names/semi;colon&amp'quote\".html", page("Punctuated", b.text()), "name", "any")
    b.add("names/<script>alert(1)<script>.html", page("Script name", b.text()), "name", "any")
    b.add("names/.hidden.html", page("Hidden", b.text()), "ignored", "ignored")
    b.add("names/image.png", b"\x89PNG\r\n\x1a\n", "ignored", "ignored")
    b.add("names/dup/page.html", page("Dup A", b.text()), "name", "any")
    b.add("names/dup/page.htm", page("Dup B", b.text()), "name", "any")  # same page id as page.html
    b.add("names/dup/page.txt", paragraph(rng, 10), "name", "any")  # and again
    loop = root / "names" / "loop"
    try:
        if not loop.is_symlink():
            os.symlink("..", loop)  # a directory cycle
        os.symlink("/nonexistent/target.html", root / "names" / "dangling.html")
        os.mkfifo(root / "names" / "fifo.html")
    except (OSError, NotImplementedError, AttributeError):
        pass
    b.entries.append({"file": "names/loop", "kind": "fs", "expect": "ignored"})

    # 13. a bulk of small valid pages, so the index is never empty and counts are meaningful
    for i in range(40):
        b.add(f"valid/page-{i:03d}.html", page(f"Back pain note {i}: {sentence(rng, 4)}", b.text(4)), "valid", "page")

    (root / MANIFEST).write_text(json.dumps(b.entries, indent=1, ensure_ascii=False), encoding="utf-8")
    return b.entries


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="folder to write the inputs into (created; should be empty)")
    ap.add_argument("--fast", action="store_true", help="smaller big files and bombs, for the test suite")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, default=20 * MB, help="the ingest's max page bytes (default 20 MB)")
    ap.add_argument("--run", action="store_true",
                    help="then run `relief ingest DIR --index DIR-index --json` and print its time, peak RSS and skip reasons")
    args = ap.parse_args(argv)
    entries = build(Path(args.dir), fast=args.fast, seed=args.seed, limit=args.limit)
    total = sum(1 for _ in Path(args.dir).rglob("*") if _.is_file())
    print(f"{len(entries)} hostile inputs ({total} files) written to {args.dir}", file=sys.stderr)
    if args.run:
        return run_ingest(Path(args.dir))
    return 0


def run_ingest(folder: Path) -> int:
    """Ingest the folder in a child process; print wall time, peak RSS and the report's counts."""
    import collections
    import subprocess
    import time

    root = Path(__file__).resolve().parents[1]
    index = folder.with_name(folder.name + "-index")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "ingest", str(folder), "--index", str(index), "--json"],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    import resource

    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    figures = {"exit": proc.returncode, "seconds": round(seconds, 1), "peak_rss_mib": round(rss / MB), "stderr_lines": len(err.splitlines())}
    if proc.returncode == 0:
        report = json.loads(out)
        figures.update(pages_read=report["pages_read"], added=report["added"], passages=report["passages"],
                       skipped=len(report["skipped"]), reasons=dict(collections.Counter(s["reason"] for s in report["skipped"])))
    else:
        figures["error"] = err.decode("utf-8", "replace").strip().splitlines()[-1:]
    print(json.dumps(figures, indent=1))
    ok = proc.returncode == 0 and seconds < 120 and rss < 1024 * MB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
