# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.filter.csp import csp


@pytest.mark.parametrize(
    ("directives", "expected"),
    [
        ({"default-src": ["self"]}, "default-src 'self'"),
        ({"default-src": ["'self'"]}, "default-src 'self'"),
        (
            {"default-src": ["self"], "img-src": ["self", "data:", "https://cdn.example.org"], "object-src": ["none"]},
            "default-src 'self'; img-src 'self' data: https://cdn.example.org; object-src 'none'",
        ),
        ({"script-src": ["self", "nonce-abc123", "'sha256-AbC+/="]}, None),
        ({"script-src": ["strict-dynamic", "sha384-xyz"]}, "script-src 'strict-dynamic' 'sha384-xyz'"),
        (
            {"frame-ancestors": ["none"], "upgrade-insecure-requests": True},
            "frame-ancestors 'none'; upgrade-insecure-requests",
        ),
        ({"default-src": ["self"], "upgrade-insecure-requests": False, "img-src": None}, "default-src 'self'"),
        ({"sandbox": [], "default-src": ["none"]}, "sandbox; default-src 'none'"),
        ({"report-to": ["csp-endpoint"], "default-src": ["self"]}, "report-to csp-endpoint; default-src 'self'"),
    ],
)
def test_policy_is_rendered_with_keywords_quoted(directives, expected):
    if expected is None:
        with pytest.raises(AnsibleFilterError):
            csp(directives, "v")
    else:
        assert csp(directives, "v") == expected


@pytest.mark.parametrize(
    ("directives", "message"),
    [
        ({"scrpt-src": ["self"]}, "unknown CSP directive 'scrpt-src'"),
        ({"default-src": "self"}, "v.default-src must be a list of sources, not 'self'"),
        ({"default-src": []}, r"v.default-src is an empty list; write \['none'\]"),
        ({"default-src": ["self; script-src *"]}, "contains whitespace, ';'"),
        ({"default-src": ["self", "https://a.example https://b.example"]}, "one source per list item"),
        ({"default-src": ['"self"']}, "a quote"),
        ({"default-src": ["'selfish'"]}, "is quoted but is not a CSP keyword"),
        ({"default-src": [True]}, "every source must be a non-empty string"),
        ({"default-src": ["a\nb"]}, "contains whitespace"),
        ({"upgrade-insecure-requests": "yes"}, "takes true or false"),
        ({"default-src": None}, "yields an empty policy"),
        (["default-src", "self"], "must be a mapping"),
    ],
)
def test_bad_policy_is_refused_by_name(directives, message):
    with pytest.raises(AnsibleFilterError, match=message):
        csp(directives, "v")


def test_unquoted_hash_with_broken_quote_is_refused():
    with pytest.raises(AnsibleFilterError, match="is quoted but is not a CSP keyword"):
        csp({"script-src": ["'sha256-AbC+/="]}, "v")
