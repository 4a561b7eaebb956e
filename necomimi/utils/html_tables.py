"""HTML twins of the study's markdown tables, for the Snakemake report.

``snakemake --report`` shows HTML results inline but offers markdown only as a
download, so every table under ``results/tables/`` gets a self-contained HTML page
beside it: the same text rendered with markdown-it-py (CommonMark plus tables), a
title and a little CSS, no external resources.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from markdown_it import MarkdownIt

from necomimi.utils.atomic import atomic_path

#: Enough style for a readable table inside the report's frame; nothing external.
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em;
       color: #1e293b; background: #ffffff; line-height: 1.4; }
h1 { font-size: 1.4em; }
h2 { font-size: 1.15em; margin-top: 1.6em; }
h3 { font-size: 1em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #cbd5e1; padding: 0.25em 0.6em; text-align: right; }
th { background: #f1f5f9; }
th:first-child, td:first-child { text-align: left; }
tbody tr:nth-child(even) { background: #f8fafc; }
code { background: #f1f5f9; padding: 0 0.2em; }
""".strip()


def markdown_to_html(markdown: str, title: str | None = None) -> str:
    """Render markdown as a self-contained HTML page.

    Parameters
    ----------
    markdown : str
        CommonMark with GitHub-style pipe tables (as the study's tables are written).
        Raw HTML in it is escaped, not passed through.
    title : str, optional
        The page's ``<title>``; by default the text of the first ``# `` heading, else
        ``"Table"``.

    Returns
    -------
    str
        An HTML5 document (UTF-8) with the rendered body and an inline style sheet.
    """
    if title is None:
        heading = re.search(r"^#\s+(.+?)\s*#*\s*$", markdown, flags=re.MULTILINE)
        title = heading.group(1) if heading else "Table"
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{STYLE}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def write_html_table(
    markdown_file: str | Path, html_file: str | Path, title: str | None = None
) -> None:
    """Write the HTML twin of a markdown table file.

    Parameters
    ----------
    markdown_file : path
        The markdown (UTF-8), e.g. ``results/tables/cat_table3.md``.
    html_file : path
        The page to write, atomically (see :func:`markdown_to_html`).
    title : str, optional
        Passed to :func:`markdown_to_html`.

    Raises
    ------
    FileNotFoundError
        Where ``markdown_file`` does not exist.
    """
    markdown = Path(markdown_file).read_text(encoding="utf-8")
    page = markdown_to_html(markdown, title)
    with atomic_path(html_file) as tmp:
        tmp.write_text(page, encoding="utf-8")
