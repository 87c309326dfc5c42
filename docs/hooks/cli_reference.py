"""Build hook: the command-line reference page, generated from the ``nncrn`` argparse parser.

``docs/cli.md`` holds the marker ``<!-- nncrn-cli-reference -->``; on every build it is
replaced by ``nncrn --help`` and ``nncrn COMMAND --help`` for each command, in the order
the parser lists them, so the page cannot drift from the code.
"""

from __future__ import annotations

import argparse
import os

MARKER = "<!-- nncrn-cli-reference -->"
WIDTH = "90"  # fixed, so the page does not depend on the terminal that ran the build


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return []


def cli_reference() -> str:
    """Markdown for every command's help text."""
    from nncrn.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parser = build_parser()
        parts = ["## `nncrn`", "", "```text", parser.format_help().rstrip(), "```", ""]
        for name, summary, sub in _subcommands(parser):
            parts += [f"## `nncrn {name}`", ""]
            if summary:
                parts += [summary[0].upper() + summary[1:] + ("" if summary.endswith(".") else "."), ""]
            parts += ["```text", sub.format_help().rstrip(), "```", ""]
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
