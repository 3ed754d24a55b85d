# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.csp filter (documented in csp.yml)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# CSP Level 3 and the directives browsers still act on.
SOURCE_LIST = frozenset(
    {
        "default-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "font-src",
        "connect-src",
        "media-src",
        "object-src",
        "child-src",
        "frame-src",
        "worker-src",
        "manifest-src",
        "fenced-frame-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
    }
)
TOKEN_LIST = frozenset({"sandbox", "report-uri", "report-to", "require-trusted-types-for", "trusted-types", "webrtc"})
FLAGS = frozenset({"upgrade-insecure-requests", "block-all-mixed-content"})
DIRECTIVES = SOURCE_LIST | TOKEN_LIST | FLAGS
KEYWORDS = frozenset(
    {
        "self",
        "none",
        "unsafe-inline",
        "unsafe-eval",
        "unsafe-hashes",
        "strict-dynamic",
        "report-sample",
        "wasm-unsafe-eval",
        "unsafe-allow-redirects",
        "inline-speculation-rules",
        "script",
        "allow-duplicates",
    }
)
# A nonce or a hash source, quoted or not.
_NONCE_OR_HASH = re.compile(r"^(nonce-[A-Za-z0-9+/_=-]+|sha(256|384|512)-[A-Za-z0-9+/_=-]+)$")
# What a source or token may never hold: it would end the directive, the policy or the
# quoted Apache argument.
_FORBIDDEN = re.compile(r"[\s;,\"\\\x00-\x1f\x7f]")


def _source(directive: str, value) -> str:
    """Return one source expression, keywords quoted; raise naming the directive and value."""
    if not isinstance(value, str) or not value:
        raise AnsibleFilterError(f"csp: {directive} holds {value!r}; every source must be a non-empty string")
    if _FORBIDDEN.search(value):
        raise AnsibleFilterError(
            f"csp: {directive} source {value!r} contains whitespace, ';', ',', a quote or a backslash; "
            "give one source per list item"
        )
    bare = value[1:-1] if len(value) > 1 and value[0] == value[-1] == "'" else value
    if bare in KEYWORDS or _NONCE_OR_HASH.match(bare):
        return f"'{bare}'"
    if "'" in value:
        raise AnsibleFilterError(
            f"csp: {directive} source {value!r} is quoted but is not a CSP keyword "
            f"({', '.join(sorted(KEYWORDS))}), nonce-... or sha256/384/512-..."
        )
    return value


def csp(directives, name: str = "csp") -> str:
    """Return a Content-Security-Policy value built from a mapping of directive to sources.

    A source-list directive maps to a list of sources (keywords may be written bare: ``self``
    becomes ``'self'``); ``upgrade-insecure-requests`` and ``block-all-mixed-content`` map to a
    boolean; ``None`` or ``false`` leaves a directive out.
    """
    if not isinstance(directives, dict):
        raise AnsibleFilterError(f"{name} must be a mapping of CSP directive to sources, not {directives!r}")
    parts = []
    for directive, value in directives.items():
        if directive not in DIRECTIVES:
            raise AnsibleFilterError(
                f"{name}: unknown CSP directive {directive!r}; known: {', '.join(sorted(DIRECTIVES))}"
            )
        if value is None or value is False:
            continue
        if directive in FLAGS:
            if value is not True:
                raise AnsibleFilterError(f"{name}.{directive} takes true or false, not {value!r}")
            parts.append(directive)
            continue
        if not isinstance(value, list):
            raise AnsibleFilterError(f"{name}.{directive} must be a list of sources, not {value!r}")
        if directive in SOURCE_LIST and not value:
            raise AnsibleFilterError(f"{name}.{directive} is an empty list; write ['none'] to allow nothing")
        sources = [_source(f"{name}.{directive}", item) for item in value]
        parts.append(" ".join([directive, *sources]))
    if not parts:
        raise AnsibleFilterError(f"{name} yields an empty policy: {directives!r}")
    return "; ".join(parts)


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"csp": csp}
