# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML drift report in a real headless browser (Debian's chromium), driven over the Chrome
DevTools Protocol: the page opens from disk, fetches nothing, shows the matrix and its counts; a
real mouse click on "drifted only" and real key presses on the host filter change what is shown;
a line a host wrote (a <script> in a diff) is text, never run. The page and a screenshot are kept
under .tmp/ (artifacts).

Run by scripts/browser-test.sh (`make browser`, and `make test`), from the collection tree.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._controls import control
from ansible_collections.bulwark.hardening.plugins.module_utils._drift_report import (
    build,
    evidence,
    fail,
    html_report,
    new_host,
    record,
    skip,
    summarise_diff,
)

ARTIFACTS = Path(os.environ.get("BULWARK_BROWSER_ARTIFACTS", ".tmp"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE = "Header set X-Evil \"<script>window.pwned = 1; document.title = 'pwned'</script>\""


class DevTools:
    """A Chrome DevTools Protocol client over --remote-debugging-pipe: commands to the browser's
    fd 3, answers and events from its fd 4, each a JSON text ended by a NUL byte."""

    def __init__(self, profile: str):
        to_browser, self._commands = os.pipe()
        self._answers, from_browser = os.pipe()

        def fds():  # in the child: the ends the protocol expects, at fds 3 and 4
            read, write = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",  # root in a container
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--remote-debugging-pipe",
                "--user-data-dir=%s" % profile,
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=fds,  # noqa: PLW1509 - no threads in this test process
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._answers, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe (exit %s)" % self.process.poll())
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, timeout: float = 30, **params) -> dict:
        self._id += 1
        command = {"id": self._id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self._commands, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            message = self._read(deadline)
            self.events.append(message)
            if message.get("method") == method:
                return message

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._commands)
        os.close(self._answers)


class Page:
    """One tab of the browser, its protocol session."""

    def __init__(self, tools: DevTools, url: str):
        self.tools = tools
        target = tools.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = tools.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self.send("%s.enable" % domain)
        self.send("Emulation.setDeviceMetricsOverride", width=1280, height=1000, deviceScaleFactor=1, mobile=False)
        self.send("Page.navigate", url=url)
        tools.wait_for("Page.loadEventFired")

    def send(self, method: str, **params) -> dict:
        return self.tools.send(method, self.session, **params)

    def js(self, expression: str):
        answer = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError("%s: %s" % (expression, answer["exceptionDetails"]))
        return answer["result"].get("value")

    def click(self, selector: str) -> None:
        """A left click at the element's centre, as a mouse gives it."""
        box = self.js(
            "(() => { const r = document.querySelector(%s).getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()" % json.dumps(selector)
        )
        x, y = box
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def key(self, name: str, code: int) -> None:
        for kind in ("rawKeyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=name, code=name, windowsVirtualKeyCode=code)

    def shown(self) -> dict:
        """What the page shows now: the visible matrix rows and drifted cells, the count line."""
        return self.js(
            """(() => {
              const visible = (el) => el.offsetParent !== null;
              const rows = [...document.querySelectorAll('#matrix tbody tr')].filter(visible);
              return {
                rows: rows.map((row) => row.querySelector('th').firstChild.textContent.trim()),
                drift: [...document.querySelectorAll('#matrix td.drift')].filter(visible).length,
                hosts: [...document.querySelectorAll('#matrix thead th[data-host]')].filter(visible)
                  .map((th) => th.getAttribute('data-host')),
                sections: [...document.querySelectorAll('section[data-host]')].filter(visible).length,
                counter: document.getElementById('shown').textContent,
              };
            })()"""
        )


def _fleet() -> dict:
    """web1: SSH-CONFIG and APACHE-CONFIG drifted (a hostile line among them); web2 compliant,
    Apache not applicable; db1 failed."""
    sshd = {"before": "PasswordAuthentication yes\n", "after": "PasswordAuthentication no\n",
            "before_header": "/etc/ssh/sshd_config", "after_header": "/etc/ssh/sshd_config"}  # fmt: skip
    apache = {"before": "ServerTokens Full\n%s\n" % HOSTILE, "after": "ServerTokens Prod\n",
              "before_header": "/etc/apache2/conf-enabled/zz-local.conf"}  # fmt: skip
    web1, web2, db1 = new_host(), new_host(), new_host()
    for ident, role, diff in (("SSH-CONFIG", "ssh_hardening", sshd), ("APACHE-CONFIG", "apache_hardening", apache)):
        result = {"changed": True, "diff": diff}
        record(web1, control(ident), role, "task", changed=True, diff=summarise_diff(diff), detail=evidence(result))
    for ident, role in (("UFW-RULESET", "ufw"), ("FAIL2BAN-JAILS", "fail2ban")):
        for host in (web1, web2):
            record(host, control(ident), role, "task", changed=False, diff=[], seconds=0.5)
    record(web2, control("SSH-CONFIG"), "ssh_hardening", "task", changed=False, diff=[])
    skip(web2, control("APACHE-CONFIG"), "apache_hardening", "Apply Apache")
    record(db1, control("SSH-CONFIG"), "ssh_hardening", "task", changed=False, diff=[])
    fail(db1, "Install ufw", "No package matching 'ufw' is available")
    run = {"started": "2026-12-06T06:00:00Z", "finished": "2026-12-06T06:02:10Z", "version": "0.1.0"}
    return build({"web1": web1, "web2": web2, "db1": db1}, True, run)


@pytest.fixture(scope="module")
def page():
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (scripts/browser-test.sh installs it as root on Debian)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = ARTIFACTS / "drift-report.html"
    report.write_text(html_report(_fleet()), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="bulwark-chromium-") as profile:
        tools = DevTools(profile)
        try:
            yield Page(tools, report.resolve().as_uri())
        finally:
            tools.close()


def test_the_page_fetches_nothing_but_itself(page):
    requests = [
        e["params"]["request"]["url"] for e in page.tools.events if e.get("method") == "Network.requestWillBeSent"
    ]
    assert requests == [page.js("location.href")]


def test_the_matrix_and_counts_are_rendered(page):
    assert page.js("document.title") == "Drift report: 3 host(s), 1 drifted"
    assert page.js("document.getElementById('n-controls').textContent") == "4 control(s)"
    assert page.js("document.getElementById('version').textContent") == "0.1.0"
    shown = page.shown()
    assert shown["rows"] == ["SSH-CONFIG", "APACHE-CONFIG", "UFW-RULESET", "FAIL2BAN-JAILS"]
    assert shown["hosts"] == ["db1", "web1", "web2"]
    assert (shown["drift"], shown["counter"]) == (2, "4 control(s) shown, 2 drifted result(s)")


def test_a_hosts_line_is_text_never_run(page):
    assert page.js("typeof window.pwned") == "undefined"
    assert HOSTILE in page.js("document.body.innerText")


def test_clicking_drifted_only_shows_the_drifted_controls(page):
    page.click("#f-drifted")
    assert page.js("document.getElementById('f-drifted').checked") is True
    shown = page.shown()
    assert shown["rows"] == ["SSH-CONFIG", "APACHE-CONFIG"]
    assert shown["counter"] == "2 control(s) shown, 2 drifted result(s)"
    # web2's list of checked controls shows none of them now: none drifted there
    assert (
        page.js("[...document.querySelectorAll('section[data-host=web2] li.control')].some(e => e.offsetParent)")
        is False
    )
    screenshot = page.send("Page.captureScreenshot", format="png")["data"]
    (ARTIFACTS / "drift-report.png").write_bytes(base64.b64decode(screenshot))


def test_the_host_filter_shows_one_host(page):
    page.click("#f-drifted")  # drifted only off again
    page.js("document.getElementById('f-host').focus()")
    for host in ("db1", "web1", "web2"):  # from "all hosts", one key press each
        page.key("ArrowDown", 40)
        assert page.js("document.getElementById('f-host').value") == host
    assert page.js("document.getElementById('f-host').value") == "web2"
    shown = page.shown()
    assert shown["hosts"] == ["web2"] and shown["sections"] == 1
    assert (shown["drift"], shown["counter"]) == (0, "4 control(s) shown, 0 drifted result(s)")
    page.click("#f-drifted")
    assert page.shown()["rows"] == []


def test_the_role_filter_shows_one_roles_controls(page):
    page.click("#f-drifted")  # drifted only off again
    page.js("document.getElementById('f-host').focus()")
    for _press in range(3):  # the host filter back to "all hosts"
        page.key("ArrowUp", 38)
    assert page.js("document.getElementById('f-host').value") == ""
    page.js("document.getElementById('f-role').focus()")
    page.key("ArrowDown", 40)
    assert page.js("document.getElementById('f-role').value") == "apache_hardening"
    shown = page.shown()
    assert (shown["rows"], shown["hosts"]) == (["APACHE-CONFIG"], ["db1", "web1", "web2"])
    assert shown["counter"] == "1 control(s) shown, 1 drifted result(s)"
    details = "[...document.querySelectorAll('details.control')].filter(e => e.offsetParent).map(e => e.id).length"
    assert page.js(details) == 1
