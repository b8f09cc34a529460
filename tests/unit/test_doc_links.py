"""The README's and docs/'s links lead somewhere: each relative link names a file, each #anchor a heading."""

from __future__ import annotations

from pathlib import Path

from breakwater import doclinks


def test_every_link_of_the_readme_and_docs_resolves() -> None:
    assert doclinks.broken() == []


def test_every_page_under_docs_is_linked_from_another_page() -> None:
    assert doclinks.unlinked() == []


def test_a_missing_file_and_a_missing_anchor_are_found(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(doclinks, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# A page\n\n## Its section: one\n\n## Its section: one\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/there.md#its-section-one) [second](docs/there.md#its-section-one-1) [web](https://example.com)\n"
        "[gone](docs/missing.md) [no anchor](docs/there.md#nowhere) [self](#a-page)\n"
        "`[in code](docs/missing.md)`\n"
        "```\n[in a block](docs/missing.md)\n```\n"
        "[up](../outside.md) ![picture](docs/there.md)\n"
    )

    problems = doclinks.broken([page])

    assert problems == [
        "README.md:2: docs/missing.md: no such file: docs/missing.md",
        "README.md:2: docs/there.md#nowhere: no heading or id 'nowhere' in docs/there.md",
        "README.md:2: #a-page: no heading or id 'a-page' in README.md",
        "README.md:7: ../outside.md: outside the repository",
    ]


def test_anchors_follow_githubs_rules(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Breakwater\n## The local stack, the AWS CLI and SAM\n## `make test` and CI\n"
        "## The local stack, the AWS CLI and SAM\n"
        '<a id="custom"></a>\n```\n# not a heading\n```\n'
    )

    assert doclinks.anchors(page) == {
        "breakwater",
        "the-local-stack-the-aws-cli-and-sam",
        "make-test-and-ci",
        "the-local-stack-the-aws-cli-and-sam-1",
        "custom",
    }
