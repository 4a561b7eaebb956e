"""HTML twins of the markdown tables: tables, headings and text, self-contained."""

from __future__ import annotations

import re

import pytest

from necomimi.utils.html_tables import markdown_to_html, write_html_table

TABLE = """# Table 1: 2-way and 4-way zero-shot top-1 accuracy

Accuracy in %, mean ± 95 % t interval over subjects.

## original, protocol intra, selection val

| Model | Setting | S01 | Mean ± 95 % CI |
|---|---|---|---|
| nerv | 2-way | 61.2 | 61.2 ± n/a |
| atms | 2-way | 55.0 | 55.0 ± n/a |

Note: `fid` <b>not</b> computed.
"""


def _cells(page: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", page)


def test_the_markdown_table_becomes_an_html_table_with_every_row_and_cell():
    page = markdown_to_html(TABLE)
    assert page.count("<table>") == 1
    assert _cells(page, "th") == ["Model", "Setting", "S01", "Mean ± 95 % CI"]
    assert _cells(page, "td") == [
        "nerv", "2-way", "61.2", "61.2 ± n/a", "atms", "2-way", "55.0", "55.0 ± n/a",
    ]  # fmt: skip
    assert "<h2>original, protocol intra, selection val</h2>" in page
    assert "<code>fid</code>" in page


def test_the_page_is_self_contained_utf8_html_titled_by_the_first_heading():
    page = markdown_to_html(TABLE)
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert "<title>Table 1: 2-way and 4-way zero-shot top-1 accuracy</title>" in page
    assert "<style>" in page
    assert not re.search(r"""(src|href)=|@import|url\(""", page)  # nothing external


def test_raw_html_in_the_markdown_is_escaped_and_the_title_can_be_given():
    page = markdown_to_html(TABLE, title="A <b> title")
    assert "<b>not</b>" not in page and "&lt;b&gt;not&lt;/b&gt;" in page
    assert "<title>A &lt;b&gt; title</title>" in page
    assert "<title>Table</title>" in markdown_to_html("no heading, no table\n")


def test_write_html_table_writes_the_twin_of_the_file(tmp_path):
    source = tmp_path / "retrieval_table1.md"
    source.write_text(TABLE, encoding="utf-8")
    target = tmp_path / "html" / "retrieval_table1.html"
    write_html_table(source, target)
    assert target.read_text(encoding="utf-8") == markdown_to_html(TABLE)
    assert [p.name for p in target.parent.iterdir()] == ["retrieval_table1.html"]


def test_a_missing_markdown_file_is_an_error_and_writes_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_html_table(tmp_path / "missing.md", tmp_path / "missing.html")
    assert not (tmp_path / "missing.html").exists()
