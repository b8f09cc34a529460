"""The links of README.md and docs/: every relative link names a file of the repository, and every ``#anchor`` a
heading (or an ``id``) of the page it points to, as GitHub renders them. ``make test`` runs this check
(tests/unit/test_doc_links.py); ``python -m breakwater.doclinks`` prints what is broken.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from breakwater.docgen import README, ROOT, pages

FENCE = re.compile(r"^ {0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target "title") and ![alt](target); the text may hold one level of brackets (an image inside a link).
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s)>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ID = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


@dataclass(frozen=True)
class Link:
    page: Path
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}: {self.target}"


def _prose(text: str) -> Iterator[tuple[int, str]]:
    """Each line outside fenced code blocks, with its number."""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opened = FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1) == fence:
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        yield number, line


def links(page: Path) -> Iterator[Link]:
    for number, line in _prose(page.read_text()):
        line = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)  # a link in code is not a link
        for match in INLINE_LINK.finditer(line):
            yield Link(page, number, match.group(1))
        reference = REFERENCE.match(line)
        if reference:
            yield Link(page, number, reference.group(1))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors a page has: one per heading (repeats numbered -1, -2, as GitHub does) and each HTML id."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for _, line in _prose(page.read_text()):
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            seen = counts.get(base, 0)
            counts[base] = seen + 1
            found.add(base if seen == 0 else f"{base}-{seen}")
        found.update(HTML_ID.findall(line))
    return found


def problem(link: Link) -> str | None:
    """Why ``link`` is broken, or None."""
    target = link.target
    if not target or SCHEME.match(target) or target.startswith("//"):
        return None
    path, _, fragment = target.partition("#")
    if path.startswith("/"):
        return "an absolute path: GitHub resolves it against its own site, write it relative to the page"
    destination = (link.page.parent / path).resolve() if path else link.page
    if ROOT not in destination.parents and destination != ROOT:
        return "outside the repository"
    if not destination.exists():
        return f"no such file: {destination.relative_to(ROOT)}"
    if fragment and destination.suffix == ".md" and fragment not in anchors(destination):
        return f"no heading or id {fragment!r} in {destination.relative_to(ROOT)}"
    return None


def broken(candidates: list[Path] | None = None) -> list[str]:
    """Each broken link of the README and docs/, as ``page:line: target: why``."""
    return [f"{link}: {why}" for page in candidates or pages() for link in links(page) if (why := problem(link))]


def _destination(link: Link) -> Path | None:
    """The file a relative link leads to (None for a web address or an anchor on the same page)."""
    path = link.target.partition("#")[0]
    if not path or SCHEME.match(link.target) or link.target.startswith("//"):
        return None
    return (link.page.parent / path).resolve()


def unlinked(candidates: list[Path] | None = None) -> list[Path]:
    """The pages under docs/ that no other page (the README included) links to: a reader cannot find them."""
    everything = candidates or pages()
    reached = {_destination(link) for page in everything for link in links(page) if _destination(link) != page}
    return [page for page in everything if page != README and page.resolve() not in reached]


def main() -> int:
    problems = broken() + [f"{page.relative_to(ROOT)}: no page links to it" for page in unlinked()]
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
