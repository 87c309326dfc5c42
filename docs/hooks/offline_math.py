"""Build hook: render the pages' LaTeX as MathML at build time.

``pymdownx.arithmatex`` (``generic: true``) leaves ``\\(...\\)`` and ``\\[...\\]`` in
``<span class="arithmatex">`` / ``<div class="arithmatex">``; this hook converts them with
``latex2mathml``, which browsers display natively. No script is loaded from a CDN, so the
site reads offline. The notebook pages' scripts that load from a CDN (MathJax, Mermaid,
added by the notebook renderer) are dropped for the same reason: the tutorials' prose
uses no math and they draw no diagrams.
"""

from __future__ import annotations

import html
import re

_BLOCK = re.compile(r'<div class="arithmatex">\s*\\\[(.*?)\\\]\s*</div>', re.S)
_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
# a script loaded from, or importing from, another site: the notebook renderer's MathJax tag
# and its Mermaid loader (the tutorials have no Mermaid diagrams)
_REMOTE_SCRIPT = re.compile(
    r'<script[^>]*src="https?://[^"]*"[^>]*>\s*</script>\s*'
    r"|<script\b[^>]*>(?:(?!</script>).)*?import\(\s*[\"']https?://(?:(?!</script>).)*</script>\s*",
    re.S,
)


def _mathml(tex: str, display: str) -> str:
    from latex2mathml.converter import convert

    return convert(html.unescape(tex).strip(), display=display)


def on_page_content(content: str, page, config, files) -> str:
    content = _BLOCK.sub(lambda m: _mathml(m.group(1), "block"), content)
    return _INLINE.sub(lambda m: _mathml(m.group(1), "inline"), content)


def on_post_page(output: str, page, config) -> str:
    return _REMOTE_SCRIPT.sub("", output)
