# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report's outputs from report fixtures: what drifted (files, settings, subjects),
the controls a compliant host checked, JUnit's cases, times and reasons, and the HTML page."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._controls import control
from ansible_collections.bulwark.hardening.plugins.module_utils._drift_report import (
    build,
    collection_version,
    evidence,
    fail,
    html_report,
    junit,
    markdown,
    new_host,
    parts_by_control,
    path_of,
    record,
    render,
    setting_of,
    settings_of,
    skip,
    summarise_diff,
)

SSHD = "/etc/ssh/sshd_config"
SSHD_DIFF = {
    "before": "Port 22\nPasswordAuthentication yes\n",
    "after": "Port 22\nPasswordAuthentication no\n",
    "before_header": SSHD,
    "after_header": SSHD,
}
HOSTILE = "Header set X-Evil \"<script>document.title='pwned'</script>\""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PasswordAuthentication no", ("PasswordAuthentication", "no")),
        ("expose_php = Off", ("expose_php", "Off")),
        ('APT::Periodic::Unattended-Upgrade "1";', ("APT::Periodic::Unattended-Upgrade", '"1"')),
        ("maxretry=3", ("maxretry", "3")),
        ("ServerTokens   Prod", ("ServerTokens", "Prod")),
        ("# PasswordAuthentication yes", None),
        ("[sshd]", None),
        ("<Directory /var/www>", None),
        ("   ", None),
        ("nodev", ("nodev", "")),
    ],
)
def test_setting_of_a_configuration_line(line, expected):
    assert setting_of(line) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (SSHD, SSHD),
        ("/etc/ssh/moduli (moduli per size)", "/etc/ssh/moduli"),
        ("undeclared listeners", ""),
        ("dynamically generated", ""),
        (None, ""),
    ],
)
def test_path_of_a_diff_header(header, expected):
    assert path_of(header) == expected


def test_settings_pair_a_key_changed_in_place_and_name_a_line_added_or_removed():
    item = {
        "before": "ServerTokens Full\nHeader always set X-Frame-Options DENY\nHeader always set X-A 1\n",
        "after": "ServerTokens Prod\nTraceEnable Off\nHeader always set X-C 3\n",
    }
    assert settings_of(item, "/etc/apache2/conf-available/zz.conf") == [
        {"file": "/etc/apache2/conf-available/zz.conf", "setting": "ServerTokens", "expected": "Prod", "found": "Full"},
        {"file": "/etc/apache2/conf-available/zz.conf", "setting": "TraceEnable", "expected": "Off", "found": None},
        {
            "file": "/etc/apache2/conf-available/zz.conf",
            "setting": "Header",
            "expected": "always set X-C 3",
            "found": None,
        },
        # Header is on several lines: each named, never paired with a wrong value
        {
            "file": "/etc/apache2/conf-available/zz.conf",
            "setting": "Header",
            "expected": None,
            "found": "always set X-Frame-Options DENY",
        },
        {
            "file": "/etc/apache2/conf-available/zz.conf",
            "setting": "Header",
            "expected": None,
            "found": "always set X-A 1",
        },
    ]


def test_a_value_repeated_elsewhere_in_the_file_is_seen_changing_under_its_section():
    jails = "[sshd]\nmaxretry = %s\n[apache-auth]\nmaxretry = 3\n"
    item = {"before": jails % "10", "after": jails % "3"}
    assert settings_of(item, "/etc/fail2ban/jail.d/bulwark.local") == [
        {"file": "/etc/fail2ban/jail.d/bulwark.local", "setting": "[sshd] maxretry", "expected": "3", "found": "10"}
    ]


def test_a_file_diff_names_its_file_and_settings():
    found = evidence({"changed": True, "diff": SSHD_DIFF})
    assert found["files"] == [SSHD]
    assert found["settings"] == [{"file": SSHD, "setting": "PasswordAuthentication", "expected": "no", "found": "yes"}]
    # a template's result names dest too: once, as the file
    assert evidence({"changed": True, "dest": SSHD, "diff": SSHD_DIFF})["subjects"] == []


def test_a_new_file_names_its_path_not_only_its_lines():
    diff = {"before": "", "after": "[sshd]\nmaxretry = 3\n", "before_header": "/etc/fail2ban/jail.d/b.local"}
    found = evidence({"changed": True, "diff": diff})
    assert found["files"] == ["/etc/fail2ban/jail.d/b.local (new file)"]
    assert found["settings"] == [
        {"file": "/etc/fail2ban/jail.d/b.local", "setting": "[sshd] maxretry", "expected": "3", "found": None}
    ]


def test_markdown_marks_a_new_file_outside_its_path():
    diff = {"before": "", "after": "maxretry = 3\n", "before_header": "/etc/fail2ban/jail.d/b.local"}
    host = new_host()
    record(host, control("FAIL2BAN-JAILS"), "fail2ban", "Write", changed=True, diff=summarise_diff(diff),
           detail=evidence({"changed": True, "diff": diff}))  # fmt: skip
    text = markdown(build({"web1": host}, True))
    assert "- file `/etc/fail2ban/jail.d/b.local` (new file)\n  - `maxretry`: expected `3`, found (absent)" in text


def test_a_file_modules_state_diff_names_its_path():
    diff = {"before": {"path": "/var/www/x", "state": "absent"}, "after": {"path": "/var/www/x", "state": "directory"}}
    assert evidence({"changed": True, "diff": diff})["files"] == ["/var/www/x"]


def test_a_loop_names_the_files_of_its_changed_items_only():
    items = [
        {"changed": True, "diff": [dict(SSHD_DIFF)]},
        {"changed": False, "diff": [{"before": "a", "after": "b", "before_header": "/etc/other"}]},
    ]
    assert evidence({"changed": True, "results": items})["files"] == [SSHD]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"undeclared_summary": ["tcp 0.0.0.0:8081 python3 (pid 42), unit x.service, user nobody"]},
            ["listener tcp 0.0.0.0:8081 python3 (pid 42), unit x.service, user nobody"],
        ),
        ({"purge": ["telnet"], "installed": ["telnet"]}, ["package telnet: purge"]),
        (
            {"stdout_lines": ["Reading package lists...", "The following NEW packages will be installed:",
                              "  inetutils-telnet telnet", "Inst inetutils-telnet (2:2.4-2 Debian:12 [amd64])",
                              "Inst telnet (0.17 Debian:12 [all])", "Conf telnet (0.17 Debian:12 [all])"]},
            ["package inetutils-telnet: install", "package telnet: install"],
        ),
        ({"stdout": "Remv ufw [0.36.2-1]\nPurg nftables [1.0.6-2]\n"},
         ["package ufw: remove", "package nftables: purge"]),
        ({"name": "ssh.service", "state": "started", "status": {"ActiveState": "inactive"}}, ["unit ssh.service"]),
        ({"paths": {"locked": ["/var/www/html/index.php"], "unlocked": []}}, ["locked: /var/www/html/index.php"]),
        (
            {"overrides": [{"file": "/etc/fail2ban/jail.d/zz.local", "line": 2, "jail": "sshd", "option": "enabled",
                            "value": "false"}]},
            ["/etc/fail2ban/jail.d/zz.local:2 sets [sshd] enabled = false"],
        ),
        ({"stale": ["/etc/ssh/sshd_config changed after the daemon last (re)loaded"]},
         ["/etc/ssh/sshd_config changed after the daemon last (re)loaded"]),
        ({"path": "/run/sshd"}, ["path /run/sshd"]),
        ({"msg": "nothing to name"}, []),
    ],
)  # fmt: skip
def test_a_drift_without_a_file_diff_names_its_package_unit_listener_or_path(result, expected):
    assert evidence({"changed": True, **result})["subjects"] == expected


def _host(*results, name_status=None):
    """A host record from (control ID, task, changed, diff, result, seconds)."""
    host = new_host()
    for ident, task, changed, diff, result, seconds in results:
        entry = control(ident) or {"id": ident, "title": task, "measure": "", "cis": ""}
        role = "ssh_hardening" if ident.startswith("SSH") else "ufw" if ident.startswith("UFW") else "apache_hardening"
        detail = evidence({"changed": changed, **result}) if changed else None
        record(host, entry, role, task, changed=changed, diff=diff, seconds=seconds, detail=detail)
    return host


def _fleet(hostile: bool = False) -> dict:
    """web1 drifted (sshd setting, a listener-like subject), web2 compliant without Apache, db1 failed,
    web3 unreachable."""
    sshd = ("SSH-CONFIG", "Install sshd_config", True, summarise_diff(SSHD_DIFF), {"diff": SSHD_DIFF}, 0.25)
    apache_diff = {"before": "ServerTokens Full\n", "after": "ServerTokens Prod\n", "before_header": "/etc/a.conf"}
    if hostile:
        apache_diff["before"] += HOSTILE + "\n"
    apache = ("APACHE-CONFIG", "Apply Apache", True, summarise_diff(apache_diff), {"diff": apache_diff}, 1.5)
    ufw = ("UFW-RULESET", "Apply the ufw rules", False, [], {}, 0.5)
    web2 = _host(("SSH-CONFIG", "Install sshd_config", False, [], {}, 0.125), ufw)
    skip(web2, control("APACHE-CONFIG"), "apache_hardening", "Apply Apache")
    db1 = _host(("SSH-CONFIG", "Install sshd_config", False, [], {}, 0.1))
    fail(db1, "Install ufw", "No package matching 'ufw' is available")
    web3 = new_host()
    fail(web3, "Gathering Facts", "Failed to connect to the host via ssh: Connection refused", unreachable=True)
    hosts = {"web1": _host(sshd, ufw, apache), "web2": web2, "db1": db1, "web3": web3}
    run = {"started": "2026-12-06T06:00:00Z", "finished": "2026-12-06T06:02:10Z", "version": "0.1.0"}
    return build(hosts, True, run)


def test_record_keeps_what_drifted_per_control_and_its_time():
    entry = _fleet()["hosts"]["web1"]["controls"]["SSH-CONFIG"]
    assert entry["files"] == [SSHD]
    assert entry["settings"] == [{"file": SSHD, "setting": "PasswordAuthentication", "expected": "no", "found": "yes"}]
    assert entry["time"] == 0.25
    # the existing keys stay
    assert (entry["found"], entry["expected"], entry["tasks"]) == (
        ["PasswordAuthentication yes"],
        ["PasswordAuthentication no"],
        ["Install sshd_config"],
    )


def test_console_names_the_setting_the_checked_controls_and_the_reasons():
    text = render(_fleet())
    assert '        file /etc/ssh/sshd_config\n          PasswordAuthentication: expected "no", found "yes"' in text
    assert "  web2: in compliance (2 controls checked)\n    checked: SSH-CONFIG, UFW-RULESET" in text
    assert "db1: FAILED (1 failed, 0 unreachable): Install ufw: No package matching 'ufw' is available" in text
    assert "web3: UNREACHABLE (0 failed, 1 unreachable): Gathering Facts: Failed to connect" in text


def test_markdown_lists_the_settings_and_every_control_checked():
    text = markdown(_fleet())
    assert "- file `/etc/ssh/sshd_config`\n  - `PasswordAuthentication`: expected `no`, found `yes`" in text
    web2 = text.split("## web2: compliant")[1].split("## ")[0]
    assert "Controls checked (2):" in web2
    assert "- `SSH-CONFIG` Hardened sshd_config (ssh_hardening): compliant" in web2
    assert "- `UFW-RULESET` Firewall rules (ufw): compliant" in web2
    assert "Reason: Gathering Facts: Failed to connect to the host via ssh: Connection refused" in text
    assert "Run 2026-12-06T06:00:00Z to 2026-12-06T06:02:10Z, bulwark.hardening 0.1.0." in text
    # Table rows are the fleet's drifted controls only (the site scenario reads them so)
    rows = [line.split("`")[1] for line in text.splitlines() if line.startswith("| `")]
    assert rows == ["APACHE-CONFIG", "SSH-CONFIG"]


def _suites(report):
    return {suite.get("name"): suite for suite in ElementTree.fromstring(junit(report))}


def test_junit_has_the_same_cases_on_every_host():
    suites = _suites(_fleet())
    names = {host: [case.get("name") for case in suite if case.get("name") != "run"] for host, suite in suites.items()}
    assert names["web1"] == ["SSH-CONFIG Hardened sshd_config", "UFW-RULESET Firewall rules",
                             "APACHE-CONFIG Hardened Apache configuration"]  # fmt: skip
    assert names["web2"] == names["db1"] == names["web3"] == names["web1"]


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("web2", "not applicable on web2: its task 'Apply Apache' was skipped (role apache_hardening)"),
        ("db1", "not checked: db1 failed (Install ufw: No package matching 'ufw' is available)"),
        ("web3", "not checked: web3 unreachable (Gathering Facts: Failed to connect to the host via ssh: Connection "
                 "refused)"),
    ],
)  # fmt: skip
def test_junit_skips_a_control_that_did_not_run_with_the_reason(host, message):
    suite = _suites(_fleet())[host]
    apache = next(case for case in suite if case.get("name").startswith("APACHE-CONFIG"))
    assert apache.find("skipped").get("message") == message
    assert apache.find("failure") is None


def test_junit_skipped_when_the_role_did_not_run_there():
    hosts = {"a": _host(("UFW-RULESET", "Apply the ufw rules", False, [], {}, 0.5)),
             "b": _host(("SSH-CONFIG", "Install sshd_config", False, [], {}, 0.5))}  # fmt: skip
    case = next(case for case in _suites(build(hosts, True))["b"] if case.get("name").startswith("UFW"))
    assert case.find("skipped").get("message") == "not checked on b: role ufw did not run there"


def test_junit_counts_times_and_timestamps():
    suites = _suites(_fleet())
    web1 = suites["web1"]
    assert (web1.get("tests"), web1.get("failures"), web1.get("skipped"), web1.get("errors")) == ("3", "2", "0", "0")
    assert web1.get("timestamp") == "2026-12-06T06:00:00"  # JUnit's schema: no zone; the run is in UTC
    assert web1.get("time") == "2.250"
    assert [case.get("time") for case in web1] == ["0.250", "0.500", "1.500"]
    assert suites["web2"].get("skipped") == "1"


def test_junit_failure_names_file_and_setting():
    failure = next(iter(_suites(_fleet())["web1"])).find("failure")
    assert 'PasswordAuthentication: expected "no", found "yes"' in failure.text
    assert "file /etc/ssh/sshd_config" in failure.text


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("db1", "host failed: Install ufw: No package matching 'ufw' is available"),
        ("web3", "host unreachable: Gathering Facts: Failed to connect to the host via ssh: Connection refused"),
    ],
)
def test_junit_says_why_a_host_failed(host, message):
    suite = _suites(_fleet())[host]
    assert suite.get("errors") == "1"
    assert suite[-1].get("name") == "run"
    assert suite[-1].find("error").get("message") == message


def test_fail_keeps_the_first_reason_and_counts_each():
    host = new_host()
    fail(host, "Install ufw", "first\n  message")
    fail(host, "Later", "second")
    assert (host["failed"], host["reason"]) == (2, "Install ufw: first message")


def test_a_control_that_runs_after_a_skipped_task_of_it_is_checked():
    host = new_host()
    skip(host, control("SSH-CONFIG"), "ssh_hardening", "Write the drop-in")
    assert host["skipped"] == {"SSH-CONFIG": "its task 'Write the drop-in' was skipped (role ssh_hardening)"}
    record(host, control("SSH-CONFIG"), "ssh_hardening", "Install sshd_config", changed=False, diff=[])
    skip(host, control("SSH-CONFIG"), "ssh_hardening", "Another")
    assert host["skipped"] == {}


def test_collection_version(tmp_path):
    assert collection_version(str(tmp_path)) == "unknown"
    (tmp_path / "galaxy.yml").write_text("namespace: bulwark\nversion: 1.2.3\n")
    assert collection_version(str(tmp_path)) == "1.2.3"
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "2.0.0"}}))
    assert collection_version(str(tmp_path)) == "2.0.0"


class _Page(HTMLParser):
    """The HTML page as a browser's parser sees it: elements, their attributes and text."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag

    def handle_endtag(self, tag):
        self._in = ""

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


def _page(report) -> _Page:
    page = _Page()
    page.feed(html_report(report))
    return page


def test_html_escapes_what_the_host_says():
    page = _page(_fleet(hostile=True))
    # one script element, ours; the hostile line is text, shown as written
    assert [pair[0] for pair in page.tags].count("script") == 1
    assert HOSTILE in "".join(page.text)
    assert "<script>document.title" not in html_report(_fleet(hostile=True))


def _sha(text: str) -> str:
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_html_fetches_nothing_and_allows_only_its_own_script_and_style():
    page = _page(_fleet())
    csp = next(attrs["content"] for tag, attrs in page.tags if attrs.get("http-equiv") == "Content-Security-Policy")
    assert csp == "default-src 'none'; style-src %s; script-src %s; img-src data:" % (
        _sha(page.styles[0]),
        _sha(page.scripts[0]),
    )
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        assert not (attrs.get("href") or "#").startswith(("http", "//")) and tag != "link", (tag, attrs)
    assert not re.search(r"https?://", html_report(_fleet()))


def test_html_matrix_has_a_row_per_control_and_a_cell_per_host():
    page = _page(_fleet())
    cells = [attrs for tag, attrs in page.tags if tag == "td" and "cell" in attrs.get("class", "")]
    assert len(cells) == 3 * 4
    states = {}
    for attrs in cells:
        states.setdefault(attrs["data-host"], []).append(attrs["class"].split()[1])
    assert states == {
        "db1": ["compliant", "none", "none"],
        "web1": ["drift", "compliant", "drift"],
        "web2": ["compliant", "compliant", "none"],
        "web3": ["none", "none", "none"],
    }
    rows = [attrs["data-role"] for tag, attrs in page.tags if tag == "tr" and "data-role" in attrs]
    assert rows == ["ssh_hardening", "ufw", "apache_hardening"]
    options = [attrs["value"] for tag, attrs in page.tags if tag == "option"]
    assert options == ["", "apache_hardening", "ssh_hardening", "ufw", "", "db1", "web1", "web2", "web3"]


def test_html_shows_each_drifted_controls_detail_and_the_run():
    page = _page(_fleet())
    text = " ".join(" ".join(page.text).split())
    assert "Run 2026-12-06T06:00:00Z to 2026-12-06T06:02:10Z , bulwark.hardening 0.1.0" in text
    assert '/etc/ssh/sshd_config PasswordAuthentication "no" "yes"' in text
    assert "CIS Debian 12: %s" % control("SSH-CONFIG")["cis"] in text
    assert "Measure: %s" % control("SSH-CONFIG")["measure"] in text
    assert "-PasswordAuthentication yes +PasswordAuthentication no" in text
    assert (
        "4 host(s)" in text and "1 in compliance" in text and "1 drifted" in text and "2 failed or unreachable" in text
    )
    details = [attrs["id"] for tag, attrs in page.tags if tag == "details"]
    links = [attrs["href"][1:] for tag, attrs in page.tags if tag == "a"]
    assert len(details) == 2 and links == details


def test_a_control_that_could_not_be_judged_here_is_not_applicable_never_compliant():
    host = new_host()
    reasons = {"kernel.randomize_va_space": "read-only /proc/sys here (a container?)"}
    record(host, control("OS-SYSCTL"), "os_baseline", "Check", changed=False, diff=[], not_applicable=reasons)
    record(host, control("SSH-CONFIG"), "ssh_hardening", "Install sshd_config", changed=False, diff=[])
    report = build({"c1": host}, True)
    entry = report["hosts"]["c1"]["controls"]["OS-SYSCTL"]
    assert entry["status"] == "not_applicable"
    assert entry["not_applicable"] == ["kernel.randomize_va_space: read-only /proc/sys here (a container?)"]
    assert "2 controls checked, 1 of them not applicable here" in render(report)
    suite = _suites(report)["c1"]
    case = next(case for case in suite if case.get("name").startswith("OS-SYSCTL"))
    assert "not applicable on c1: kernel.randomize_va_space" in case.find("skipped").get("message")
    assert suite.get("skipped") == "1"


def test_drift_outweighs_not_applicable():
    host = new_host()
    record(host, control("OS-SYSCTL"), "os_baseline", "Check", changed=True, diff=["-a", "+b"],
           not_applicable={"kernel.x": "read-only"})  # fmt: skip
    assert host["controls"]["OS-SYSCTL"]["status"] == "drift"


def test_parts_by_control_gives_each_control_its_own_files_and_diffs():
    diff = [
        {"before": "a\n", "after": "b\n", "before_header": "/etc/one", "after_header": "/etc/one"},
        {"before": "", "after": "c\n", "before_header": "/etc/three", "after_header": "/etc/three"},
    ]
    files = [
        {"dest": "/etc/one", "changed": True, "control": "B"},
        {"dest": "/etc/two", "changed": False, "control": "C"},
        {"dest": "/etc/three", "changed": True},  # no control: the first listed
        {"dest": "/etc/four", "changed": False, "control": "Z"},  # not listed: the first
    ]
    parts = parts_by_control({"changed": True, "files": files, "diff": diff}, ["A", "B", "C", "D"])
    assert {key: part["changed"] for key, part in parts.items()} == {"A": True, "B": True, "C": False, "D": False}
    assert [item["dest"] for item in parts["A"]["files"]] == ["/etc/three", "/etc/four"]
    assert parts["B"]["diff"] == diff[:1]
    assert parts["A"]["diff"] == diff[1:]
    assert parts["D"] == {"changed": False, "files": [], "diff": []}


def test_parts_by_control_of_a_result_without_files_is_all_the_first_controls():
    parts = parts_by_control({"changed": True, "msg": "x"}, ["A", "B"])
    assert parts["A"] == {"changed": True, "msg": "x"}
    assert parts["B"]["changed"] is False
