# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift verdict on ARA's record of the run, when ARA (ARA Records Ansible) records it too.

The drift_report callback calls these on the controller at the end of a check run. ARA is never
imported here: when ARA's own callback is enabled, it has imported its API client module and made
the client (offline, with its embedded SQLite, or HTTP) that this run records through; without it,
there is nothing to attach to and the drift report is what it is without ARA.

The verdict is attached the way ARA's own ``ara_record`` and ``ara_label`` actions do it: the
playbook is found from the UUID of a play of this run, then it gets
  - a label per outcome, ``drift:compliant``, ``drift:drifted``, ``drift:failed`` (a host failed or
    was unreachable) or ``drift:no-hosts``, to filter runs by in ARA's UI and ``ara playbook list``;
  - a record (key ``drift``, type ``dict``) holding the verdict: the hosts per outcome and, per
    drifted host, the IDs of its drifted controls.
Data and a few API calls only: nothing here runs on a managed host.
"""

from __future__ import annotations

import sys

RECORD_KEY = "drift"
LABEL_PREFIX = "drift:"
# ARA refuses a label of 255 characters or more.
_LABEL_MAX = 254
FAILED = ("failed", "unreachable")


class AraError(Exception):
    """ARA's API did not answer as expected; the message says what was asked."""


def active_client():
    """The API client ARA's callback records this run through, or None when ARA does not record it.

    ARA's client module keeps a weak reference to the last client made in this process
    (``ara.clients.utils.active_client``, what its actions use); it is in ``sys.modules`` only
    when ARA's callback was loaded.
    """
    utils = sys.modules.get("ara.clients.utils")
    if utils is None:
        return None
    try:
        return utils.active_client()
    except TypeError:  # ARA loaded, no client made yet: its reference is None
        return None


def verdict(report: dict) -> dict:
    """The run's verdict for ARA, from the drift report: the outcome and the hosts behind it."""
    hosts = report["hosts"]
    drifted = {
        name: [key for key, entry in hosts[name]["controls"].items() if entry["status"] == "drift"]
        for name in sorted(hosts)
        if hosts[name]["status"] == "drift"
    }
    failed = {name: hosts[name]["status"] for name in sorted(hosts) if hosts[name]["status"] in FAILED}
    compliant = sorted(name for name, host in hosts.items() if host["status"] == "compliant")
    if failed:
        outcome = "failed"
    elif drifted:
        outcome = "drifted"
    elif compliant:
        outcome = "compliant"
    else:
        outcome = "no-hosts"
    return {"verdict": outcome, "hosts": len(hosts), "compliant": compliant, "drifted": drifted, "failed": failed}


def labels(summary: dict) -> list[str]:
    """One label per outcome present: a run with a drifted and a failed host has both."""
    outcomes = [name for name in ("drifted", "failed") if summary[name]]
    if not outcomes:
        outcomes = [summary["verdict"]]
    return [(LABEL_PREFIX + name)[:_LABEL_MAX] for name in outcomes]


def _playbook_of(client, play_uuid: str) -> int:
    answer = client.get("/api/v1/plays", uuid=play_uuid[:36])
    results = answer.get("results") if isinstance(answer, dict) else None
    if not results:
        raise AraError("ARA has no play with UUID %s (GET /api/v1/plays answered %r)" % (play_uuid, answer))
    # A UUID is unique to a run; should two playbooks share one, the newer is this run.
    return max(int(play["playbook"]) for play in results)


def _checked(answer, what: str) -> dict:
    if not isinstance(answer, dict) or "id" not in answer:
        raise AraError("%s: ARA answered %r" % (what, answer))
    return answer


def attach(client, play_uuid: str, report: dict) -> tuple[int, list[str]]:
    """Label ARA's playbook of this run with the verdict and record it; return its ID and labels.

    ARA's labels of the playbook (its default and argument labels, ``ara_playbook_labels``) are kept.
    """
    playbook = _playbook_of(client, play_uuid)
    summary = verdict(report)
    current = _checked(client.get("/api/v1/playbooks/%d" % playbook), "GET playbook %d" % playbook)
    names = [label["name"] for label in current.get("labels", [])]
    names = [name for name in names if not name.startswith(LABEL_PREFIX)]
    added = labels(summary)
    _checked(client.patch("/api/v1/playbooks/%d" % playbook, labels=names + added), "label playbook %d" % playbook)
    existing = client.get("/api/v1/records", playbook=playbook, key=RECORD_KEY)
    if isinstance(existing, dict) and existing.get("count"):
        ident = existing["results"][0]["id"]
        answer = client.patch("/api/v1/records/%d" % ident, value=summary, type="dict")
    else:
        answer = client.post("/api/v1/records", playbook=playbook, key=RECORD_KEY, value=summary, type="dict")
    _checked(answer, "record %r on playbook %d" % (RECORD_KEY, playbook))
    return playbook, added
