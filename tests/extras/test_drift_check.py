# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""extras/drift_check.py, the scheduling recipe's script: its subject and body, then the script itself
run as cron and systemd would, with an empty environment (env -i), on the fixture project, with a
stand-in for sendmail that writes what it would send into a file."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import socket
import subprocess
import tarfile
import textwrap
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from conftest import FIXTURE, REPO

SCRIPT = REPO / "extras" / "drift_check.py"
_spec = importlib.util.spec_from_file_location("drift_check", SCRIPT)
drift_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(drift_check)

P = "[bulwark drift]"


def _host(status, *drifted):
    return {"status": status, "controls": {key: {"status": "drift"} for key in drifted}}


@pytest.mark.parametrize(
    ("report", "rc", "expected"),
    [
        (None, 1, P + " drift check failed before it wrote a report (exit 1)"),
        ({"hosts": {}}, 2, P + " no host was checked (exit 2)"),
        ({"hosts": {"web1": _host("compliant"), "web2": _host("compliant")}}, 0, P + " all 2 hosts compliant"),
        ({"hosts": {"web1": _host("compliant")}}, 0, P + " web1 compliant"),
        ({"hosts": {"web1": _host("compliant")}}, 4, P + " drift check failed (exit 4), though web1 compliant"),
        (
            {"hosts": {"web1": _host("compliant"), "web2": _host("drift", "SSH-CONFIG", "UFW-RULESET")}},
            2,
            P + " web2 drifted (SSH-CONFIG, UFW-RULESET)",
        ),
        (
            {"hosts": {"web1": _host("drift", "SSH-CONFIG", "UFW-RULESET", "FAIL2BAN-JAILS", "APACHE-CONFIG")}},
            2,
            P + " web1 drifted (SSH-CONFIG, UFW-RULESET, FAIL2BAN-JAILS and 1 more)",
        ),
        (
            {"hosts": {"web2": _host("drift", "SSH-CONFIG"), "web1": _host("drift", "UFW-RULESET")}},
            2,
            P + " web1, web2 drifted",
        ),
        (
            {"hosts": {"web1": _host("drift", "SSH-CONFIG"), "db1": _host("unreachable"), "db2": _host("failed")}},
            4,
            P + " web1 drifted (SSH-CONFIG); db2 failed; db1 unreachable",
        ),
        (
            {"hosts": {"web%02d" % i: _host("drift", "SSH-CONFIG") for i in range(1, 41)}},
            2,
            P + " web01, web02, web03, web04, web05 and 35 more drifted",
        ),
    ],
)
def test_the_subject_names_the_hosts(report, rc, expected):
    assert drift_check.subject(report, rc, P) == expected


@pytest.mark.parametrize(
    ("report", "rc", "expected"),
    [
        ({"hosts": {"web1": _host("compliant")}}, 0, False),
        ({"hosts": {"web1": _host("drift", "SSH-CONFIG")}}, 2, False),  # the report says it all
        (None, 1, True),
        ({"hosts": {}}, 2, True),
        ({"hosts": {"web1": _host("compliant")}}, 4, True),  # failed, and the report does not say why
        ({"hosts": {"web1": _host("drift", "SSH-CONFIG"), "db1": _host("unreachable")}}, 4, True),
    ],
)
def test_the_logs_end_is_mailed_when_the_report_does_not_explain_the_status(report, rc, expected):
    assert drift_check.needs_log(report, rc) is expected


def test_the_environment_is_complete_whatever_the_caller_gave(tmp_path):
    env = drift_check.environment({}, Path("/srv/venv/bin/ansible-playbook"), tmp_path)
    assert env["PATH"].split(":")[:2] == ["/srv/venv/bin", "/usr/local/sbin"]
    assert env["HOME"] and env["LANG"] == "C.UTF-8"
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == "bulwark.hardening.drift_report"
    assert env["BULWARK_DRIFT_MARKDOWN"] == str(tmp_path / "drift.md")
    assert env["BULWARK_DRIFT_HTML"] == str(tmp_path / "drift.html")
    # The caller's callbacks (ARA's, profile_tasks) and locale are kept; ours is added once.
    given = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "LC_ALL": "de_DE.UTF-8", "HOME": "/root"}
    env = drift_check.environment(given, Path("/usr/bin/ansible-playbook"), tmp_path)
    assert env["ANSIBLE_CALLBACKS_ENABLED"] == "ansible.posix.profile_tasks,bulwark.hardening.drift_report"
    assert "LANG" not in env
    assert (
        drift_check.environment(env, Path("/usr/bin/ansible-playbook"), tmp_path)["ANSIBLE_CALLBACKS_ENABLED"]
        == (env["ANSIBLE_CALLBACKS_ENABLED"])
    )


# --- The script, run as cron runs it, with even less: an empty environment. ---

STALE = "STALE REPORT OF AN EARLIER RUN"


@pytest.fixture
def recipe(project):
    """The fixture project, a sendmail stand-in, and stale reports of an earlier run."""
    ansible_playbook = shutil.which("ansible-playbook")
    assert ansible_playbook, "ansible-playbook must be on PATH (make venv)"
    project.python = str(Path(ansible_playbook).with_name("python"))
    project.mail = project.root / "mail.txt"
    project.sendmail = project.root / "sendmail"
    project.sendmail.write_text(
        "#!/bin/sh\n# A stand-in for sendmail: its arguments, then the message it was given.\n"
        '{ echo "argv: $*"; cat; } >"%s"\n' % project.mail
    )
    project.sendmail.chmod(0o755)
    project.reports = project.root / "reports"
    project.reports.mkdir()
    for name in ("drift.json", "drift.md", "drift.xml", "drift.html", "drift.log"):
        (project.reports / name).write_text(STALE)
    return project


def _run(recipe, *options, playbook=FIXTURE):
    command = [
        "/usr/bin/env",
        "-i",
        recipe.python,
        str(SCRIPT),
        "--project",
        str(recipe.dir),
        "--reports",
        str(recipe.reports),
        "--sendmail",
        str(recipe.sendmail),
        "--mail-to",
        "ops@example.org",
        "--playbook",
        str(playbook),
        *options,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)


def _mail(recipe):
    argv, raw = recipe.mail.read_bytes().split(b"\n", 1)
    assert argv == b"argv: -t -oi"
    return BytesParser(policy=policy.default).parsebytes(raw)


def _fresh(recipe):
    for name in ("drift.json", "drift.md", "drift.xml", "drift.html", "drift.log"):
        assert STALE not in (recipe.reports / name).read_text(), name


def test_compliant_hosts_send_no_mail_and_fresh_reports(recipe):
    run = _run(recipe)
    assert run.returncode == 0, run.stderr + (recipe.reports / "drift.log").read_text()
    assert (run.stdout, run.stderr) == ("", "")  # cron mails any output: there is none
    assert not recipe.mail.exists()
    _fresh(recipe)


def test_compliant_hosts_with_always_mail_the_report(recipe):
    run = _run(recipe, "--always")
    assert run.returncode == 0, run.stderr + (recipe.reports / "drift.log").read_text()
    mail = _mail(recipe)
    assert mail["To"] == "ops@example.org"
    assert mail["Subject"] == "[bulwark drift] all 2 hosts compliant"
    text = mail.get_content()
    assert "Exit status 0 of: %s" % recipe.python.replace("python", "ansible-playbook") in text
    assert (recipe.reports / "drift.md").read_text() in text
    assert STALE not in text


def test_a_drifted_host_is_mailed_by_name_with_the_fresh_report(recipe):
    recipe.set("web2", "setting = weakened\n")
    run = _run(recipe, "--", "-e", "unused=1")
    assert run.returncode != 0
    assert (run.stdout, run.stderr) == ("", "")
    mail = _mail(recipe)
    assert mail["Subject"] == "[bulwark drift] web2 drifted (FIXTURE-FILE)"
    assert socket.gethostname() not in mail["Subject"]
    text = mail.get_content()
    report = (recipe.reports / "drift.md").read_text()
    assert "web2" in report
    assert report in text
    assert "-e unused=1" in text  # the command, as run
    assert STALE not in text
    _fresh(recipe)


def test_a_run_that_writes_no_report_mails_the_log_never_the_stale_report(recipe):
    run = _run(recipe, playbook=recipe.root / "missing.yml")
    assert run.returncode != 0
    mail = _mail(recipe)
    assert mail["Subject"] == "[bulwark drift] drift check failed before it wrote a report (exit %d)" % run.returncode
    text = mail.get_content()
    assert "missing.yml" in text  # ansible-playbook's error, from the log's last lines
    assert STALE not in text
    assert not (recipe.reports / "drift.md").exists()
    assert not (recipe.reports / "drift.json").exists()


def test_no_ansible_playbook_beside_the_python_is_refused_by_name(recipe, tmp_path):
    run = subprocess.run(
        ["/usr/bin/env", "-i", "/usr/bin/python3", str(SCRIPT), "--ansible-playbook", "ansible-playbook"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "--ansible-playbook ansible-playbook is not an executable file given by its absolute path" in run.stderr


# --- The README's recipes, as written: the cron line and the systemd units, with the paths of
# this test in place of /srv/ansible, a sendmail stand-in and the fixture playbook added. ---

README = REPO / "docs" / "README.md"
RECIPE = re.compile(r"<!-- recipe: (?P<name>\S+) -->\s*```\w*\n(?P<body>.*?)```", re.S)
VENV_PYTHON = "/srv/ansible/.venv/bin/python"
INSTALLED = "/srv/ansible/collections/ansible_collections/bulwark/hardening/extras/drift_check.py"


def _recipes() -> dict[str, str]:
    found = {m["name"]: textwrap.dedent(m["body"]) for m in RECIPE.finditer(README.read_text())}
    assert set(found) == {"cron", "systemd"}
    return found


def _as_here(command: str, recipe) -> str:
    """The README's command with this test's paths, mail stand-in and fixture playbook."""
    assert command.startswith(VENV_PYTHON + " " + INSTALLED + " ")
    assert " -- " in command
    command = command.replace(VENV_PYTHON, recipe.python).replace(INSTALLED, str(SCRIPT))
    command = command.replace("/srv/ansible", str(recipe.dir))
    return command.replace(
        " -- ", " --reports %s --sendmail %s --playbook %s -- " % (recipe.reports, recipe.sendmail, FIXTURE), 1
    )


def test_the_readmes_cron_line_works_from_crons_bare_environment(recipe):
    lines = [line for line in _recipes()["cron"].splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1
    minute, hour, day, month, weekday, user, command = lines[0].split(None, 6)
    assert (minute, hour, day, month, weekday, user) == ("15", "6", "*", "*", "*", "ansible")
    recipe.set("web2", "setting = weakened\n")
    # What cron gives a job: /bin/sh -c, and SHELL, PATH, HOME and LOGNAME only.
    cron = ["/usr/bin/env", "-i", "SHELL=/bin/sh", "PATH=/usr/bin:/bin", "HOME=%s" % recipe.root, "LOGNAME=ansible"]
    run = subprocess.run(
        [*cron, "/bin/sh", "-c", _as_here(command, recipe)], capture_output=True, text=True, check=False
    )
    assert run.returncode != 0
    assert (run.stdout, run.stderr) == ("", "")
    mail = _mail(recipe)
    assert mail["To"] == "ops@example.org"
    assert mail["Subject"] == "[bulwark drift] web2 drifted (FIXTURE-FILE)"
    assert (recipe.reports / "drift.md").read_text() in mail.get_content()


def _units(text: str) -> dict[str, str]:
    units = {}
    for part in re.split(r"^# /etc/systemd/system/", text, flags=re.M)[1:]:
        name, body = part.split("\n", 1)
        units[name] = body
    assert set(units) == {"bulwark-drift.service", "bulwark-drift.timer"}
    return units


def test_the_readmes_systemd_units_verify_and_their_command_works(recipe):
    units = _units(_recipes()["systemd"])
    service = units["bulwark-drift.service"]
    (command,) = [line.split("=", 1)[1] for line in service.splitlines() if line.startswith("ExecStart=")]
    here = _as_here(command, recipe)
    unit_dir = recipe.root / "units"
    unit_dir.mkdir()
    (unit_dir / "bulwark-drift.service").write_text(service.replace(command, here))
    (unit_dir / "bulwark-drift.timer").write_text(units["bulwark-drift.timer"])
    analyze = shutil.which("systemd-analyze")
    if analyze:  # Debian's systemd package: the units parse, the calendar too, the command exists
        verify = subprocess.run(
            [analyze, "verify", *sorted(str(path) for path in unit_dir.iterdir())],
            capture_output=True,
            text=True,
            check=False,
        )
        assert verify.returncode == 0, verify.stderr
    # What systemd gives a service of User=: no shell, its own PATH, and the user's HOME.
    systemd = ["/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "HOME=%s" % recipe.root]
    run = subprocess.run([*systemd, *shlex.split(here)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr + (recipe.reports / "drift.log").read_text()
    assert not recipe.mail.exists()


def test_the_script_is_in_the_built_collection(tmp_path):
    """galaxy.yml's build_ignore keeps extras/ in the tarball that users install."""
    build = subprocess.run(
        ["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    (tarball,) = tmp_path.glob("bulwark-hardening-*.tar.gz")
    with tarfile.open(tarball) as archive:
        assert "extras/drift_check.py" in archive.getnames()
