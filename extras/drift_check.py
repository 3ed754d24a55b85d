# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduled drift check of bulwark.hardening, for cron or a systemd timer.

Run it with the Python of the Ansible that checks the hosts, by absolute paths, so that it needs
nothing from a login shell (cron's bare PATH, a systemd unit, ``env -i``):

    /srv/ansible/.venv/bin/python /srv/ansible/drift_check.py --project /srv/ansible \\
        --mail-to ops@example.org -- -i inventory.yml

It runs ``ansible-playbook bulwark.hardening.drift --check --diff`` (the ``ansible-playbook`` beside
that Python, or ``--ansible-playbook``) in the project directory (its ``ansible.cfg``, inventory and
collections), with the drift_report callback writing drift.json, drift.xml and drift.md into the
reports directory, and the console output into drift.log there. Those files are removed before the
run starts, so a run that dies early leaves no report rather than yesterday's.

Exit status 0 of ansible-playbook means every host complies: no mail (unless ``--always``). Any other
status mails the report through ``sendmail -t -oi``; the subject names the drifted, failed and
unreachable hosts (with the drifted controls when one host drifted), the body holds the Markdown
report, and the last lines of the console log when the run failed or left no report. The script
exits with ansible-playbook's status (so a systemd unit fails and cron's own mail, if any, is about
this script), or 1 when the mail could not be sent.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import fcntl
import json
import os
import pwd
import shlex
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

# Where the tools the run calls are looked for (ssh, sendmail, docker), whatever PATH the caller had.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CALLBACK = "bulwark.hardening.drift_report"
# The files of a run in the reports directory, and the callback option each one is written by.
REPORTS = {
    "drift.json": "BULWARK_DRIFT_REPORT",
    "drift.xml": "BULWARK_DRIFT_JUNIT",
    "drift.md": "BULWARK_DRIFT_MARKDOWN",
    "drift.html": "BULWARK_DRIFT_HTML",
}
LOG = "drift.log"
# Host names, and a single drifted host's controls, in a subject before "and N more".
SUBJECT_HOSTS = 5
SUBJECT_CONTROLS = 3
LOG_TAIL = 40
EX_TEMPFAIL = 75  # another run holds the lock


def names(items: list[str], most: int = SUBJECT_HOSTS) -> str:
    """'web1, web2 and 3 more' - a subject stays readable for a fleet, or a host that drifted a lot."""
    shown = ", ".join(items[:most])
    return shown if len(items) <= most else "%s and %d more" % (shown, len(items) - most)


def by_status(report: dict) -> dict[str, list[str]]:
    """Host names per status (compliant, drift, failed, unreachable, ...), sorted."""
    groups: dict[str, list[str]] = {}
    for name in sorted(report.get("hosts", {})):
        groups.setdefault(report["hosts"][name].get("status", "unknown"), []).append(name)
    return groups


def subject(report: dict | None, rc: int, prefix: str) -> str:
    """The mail's subject: the hosts that need someone, never the controller's name."""
    if report is None:
        return "%s drift check failed before it wrote a report (exit %d)" % (prefix, rc)
    groups = by_status(report)
    if not groups:
        return "%s no host was checked (exit %d)" % (prefix, rc)
    parts = []
    drifted = groups.pop("drift", [])
    if len(drifted) == 1:
        host = report["hosts"][drifted[0]]
        controls = [key for key, entry in host.get("controls", {}).items() if entry.get("status") == "drift"]
        parts.append(
            "%s drifted (%s)" % (drifted[0], names(controls, SUBJECT_CONTROLS))
            if controls
            else "%s drifted" % drifted[0]
        )
    elif drifted:
        parts.append("%s drifted" % names(drifted))
    compliant = groups.pop("compliant", [])
    parts.extend("%s %s" % (names(hosts), status) for status, hosts in sorted(groups.items()))
    if parts:
        return "%s %s" % (prefix, "; ".join(parts))
    count = "%s compliant" % compliant[0] if len(compliant) == 1 else "all %d hosts compliant" % len(compliant)
    if rc:
        return "%s drift check failed (exit %d), though %s" % (prefix, rc, count)
    return "%s %s" % (prefix, count)


def body(report_md: str | None, log_tail: list[str], *, command: list[str], rc: int, reports: Path, where: str) -> str:
    """The mail's text: how the run was made, the Markdown report, and the log's end when needed."""
    out = [
        "Exit status %d of: %s" % (rc, shlex.join(command)),
        "Run %s." % where,
        "Reports: %s (and drift.json, drift.xml); console output: %s" % (reports / "drift.md", reports / LOG),
        "",
    ]
    out.append(report_md.rstrip("\n") if report_md is not None else "(No report was written: see the log below.)")
    if log_tail:
        out += ["", "Last lines of %s:" % (reports / LOG), ""] + ["    " + line for line in log_tail]
    return "\n".join(out) + "\n"


def needs_log(report: dict | None, rc: int) -> bool:
    """Whether the log's end belongs in the mail of a failed run: the report does not say why it failed
    (there is none, no host in it, or no host drifted), or a host failed or was unreachable."""
    if not rc:
        return False
    groups = by_status(report or {})
    return not groups.get("drift") or any(status not in ("compliant", "drift") for status in groups)


def message(subject_line: str, text: str, recipients: list[str], sender: str | None) -> EmailMessage:
    mail = EmailMessage()
    mail["To"] = ", ".join(recipients)
    if sender:
        mail["From"] = sender
    mail["Subject"] = subject_line
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text, cte="8bit")
    return mail


def environment(base: dict[str, str], ansible_playbook: Path, reports: Path) -> dict[str, str]:
    """The run's environment: the caller's, made complete for cron, systemd and ``env -i``."""
    env = dict(base)
    # The Ansible's own bin directory first (its ansible-connection, ansible-galaxy), then the system's.
    env["PATH"] = "%s:%s" % (ansible_playbook.parent, SYSTEM_PATH)
    if not env.get("HOME"):
        env["HOME"] = pwd.getpwuid(os.getuid()).pw_dir
    if not any(env.get(name) for name in ("LC_ALL", "LC_CTYPE", "LANG")):
        env["LANG"] = "C.UTF-8"  # ansible-core refuses a locale that is not UTF-8
    callbacks = [name for name in env.get("ANSIBLE_CALLBACKS_ENABLED", "").split(",") if name.strip()]
    env["ANSIBLE_CALLBACKS_ENABLED"] = ",".join([*callbacks, CALLBACK] if CALLBACK not in callbacks else callbacks)
    env["ANSIBLE_NOCOLOR"] = "1"
    env.pop("ANSIBLE_FORCE_COLOR", None)
    for name, option in REPORTS.items():
        env[option] = str(reports / name)
    return env


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="drift_check.py",
        description="Run bulwark.hardening's drift check and mail the report when a host is not compliant.",
        epilog="Arguments after -- go to ansible-playbook (e.g. -- -i inventory.yml -e bulwark_hosts=web).",
    )
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="directory to run in (ansible.cfg, inventory)")
    parser.add_argument("--reports", type=Path, help="directory of the report files (default: PROJECT/drift-reports)")
    parser.add_argument("--mail-to", action="append", default=[], metavar="ADDRESS", help="recipient (repeatable)")
    parser.add_argument("--mail-from", metavar="ADDRESS", help="sender (default: the MTA's, from the user)")
    parser.add_argument("--always", action="store_true", help="mail the report when every host complies too")
    parser.add_argument("--subject-prefix", default="[bulwark drift]")
    parser.add_argument(
        "--ansible-playbook", type=Path, help="ansible-playbook to run (default: the one beside this Python)"
    )
    parser.add_argument("--playbook", default="bulwark.hardening.drift", help="the drift playbook")
    parser.add_argument("--sendmail", type=Path, default=Path("/usr/sbin/sendmail"))
    at = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:at])
    args.ansible_playbook = args.ansible_playbook or Path(sys.executable).parent / "ansible-playbook"
    args.project = args.project.absolute()
    args.reports = (args.reports or args.project / "drift-reports").absolute()
    for option, path in (("--ansible-playbook", args.ansible_playbook), ("--sendmail", args.sendmail)):
        if option == "--sendmail" and not args.mail_to:
            continue
        if not path.is_absolute() or not os.access(path, os.X_OK) or path.is_dir():
            parser.error("%s %s is not an executable file given by its absolute path" % (option, path))
    if not args.project.is_dir():
        parser.error("--project %s is not a directory" % args.project)
    return args, argv[at + 1 :]


def main(argv: list[str] | None = None) -> int:
    args, extra = parse(sys.argv[1:] if argv is None else argv)
    reports = args.reports
    reports.mkdir(parents=True, exist_ok=True)
    lock = open(reports / ".lock", "w", encoding="utf-8")  # held until the process ends
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        print("drift_check.py: another drift check is running (it holds %s)" % (reports / ".lock"), file=sys.stderr)
        return EX_TEMPFAIL
    for name in [*REPORTS, LOG]:
        (reports / name).unlink(missing_ok=True)

    command = [str(args.ansible_playbook), args.playbook, "--check", "--diff", *extra]
    env = environment(dict(os.environ), args.ansible_playbook, reports)
    started = datetime.datetime.now(datetime.timezone.utc)
    with open(reports / LOG, "w", encoding="utf-8") as log:
        rc = subprocess.run(
            command,
            cwd=args.project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    if rc == 0 and not args.always:
        return 0

    try:
        report = json.loads((reports / "drift.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    try:
        report_md = (reports / "drift.md").read_text(encoding="utf-8")
    except OSError:
        report_md = None
    tail = []
    if needs_log(report, rc):
        tail = (reports / LOG).read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL:]
    where = "in %s on %s at %s" % (args.project, socket.getfqdn(), started.strftime("%Y-%m-%d %H:%M UTC"))
    line = subject(report, rc, args.subject_prefix)
    text = body(report_md, tail, command=command, rc=rc, reports=reports, where=where)
    if not args.mail_to:
        print("%s\n\n%s" % (line, text), end="")
        return rc
    mail = message(line, text, args.mail_to, args.mail_from)
    sent = subprocess.run(
        [str(args.sendmail), "-t", "-oi"],
        input=mail.as_bytes(),
        env={"PATH": SYSTEM_PATH, "HOME": env["HOME"], "LANG": "C.UTF-8"},
        capture_output=True,
        check=False,
    )
    if sent.returncode:
        print(
            "drift_check.py: %s exited %d: %s" % (args.sendmail, sent.returncode, sent.stderr.decode(errors="replace")),
            file=sys.stderr,
        )
        print("%s\n\n%s" % (line, text), end="")
        return rc or 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
