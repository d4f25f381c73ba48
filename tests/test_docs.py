"""Documentation that stays true: the configuration reference matches the models, and every
relative link of the READMEs and docs/ points to an existing file and heading."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt

from scripts.configuration_reference import PAGE, render


def test_the_configuration_reference_is_generated_from_the_current_models() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md is out of date: run python -m scripts.configuration_reference"
    )


def test_every_field_of_the_environment_file_is_documented() -> None:
    from platform_config.schema import EnvironmentConfig

    page = render()
    for name in EnvironmentConfig.model_fields:
        if name not in ("models", "feature_groups", "name"):
            assert f"| `{name}` |" in page, name


# --- Links ---------------------------------------------------------------------------------

REPO = PAGE.parent.parent
#: The pages whose relative links must hold: the READMEs and every page of docs/.
LINKED_PAGES = sorted(
    [REPO / "README.md", REPO / "examples" / "README.md", *(REPO / "docs").glob("*.md")]
)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as '-'."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def page_links_and_anchors(page: Path) -> tuple[list[str], set[str]]:
    """Every link target of ``page`` (inline, reference and image links, outside code) and
    the anchors of its headings, as CommonMark (markdown-it-py) parses it."""
    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(page.read_text(encoding="utf-8"))
    links: list[str] = []
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            text = "".join(child.content for child in tokens[index + 1].children or [])
            anchor = github_anchor(text)
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            anchors.add(anchor if count == 0 else f"{anchor}-{count}")
        for child in token.children or []:
            if child.type == "link_open":
                links.append(str(child.attrGet("href")))
            elif child.type == "image":
                links.append(str(child.attrGet("src")))
    return links, anchors


def broken_links(page: Path) -> list[str]:
    """The relative links of ``page`` whose file (or heading anchor) does not exist."""
    links, own_anchors = page_links_and_anchors(page)
    broken = []
    for link in links:
        if re.match(r"^[a-z][a-z0-9+.-]*:", link):  # https:, mailto: ...: not checked here
            continue
        path, _, anchor = unquote(link).partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link} (no file {_shown(target)})")
        elif anchor and target.suffix == ".md":
            anchors = own_anchors if target == page else page_links_and_anchors(target)[1]
            if anchor not in anchors:
                broken.append(f"{link} (no heading #{anchor} in {_shown(target)})")
    return broken


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_points_to_an_existing_file_and_heading(page: Path) -> None:
    assert broken_links(page) == []


def test_a_broken_link_or_anchor_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## The `make synth` step\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n"
        "[fine](other.md#the-make-synth-step) [self](#title) [web](https://example.com)\n"
        "[gone](missing.md) [no heading](other.md#nowhere) [no anchor](#nothing)\n\n"
        "`[in code](missing-too.md)`\n"
    )
    assert [problem.split(" ")[0] for problem in broken_links(page)] == [
        "missing.md",
        "other.md#nowhere",
        "#nothing",
    ]


def test_docs_index_lists_every_page_of_docs() -> None:
    links, _ = page_links_and_anchors(REPO / "docs" / "index.md")
    listed = {link.partition("#")[0] for link in links}
    pages = {page.name for page in (REPO / "docs").glob("*.md")} - {"index.md"}
    assert pages <= listed, f"docs/index.md does not list {sorted(pages - listed)}"
