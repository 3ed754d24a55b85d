# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift verdict on ARA's record of the run, against a stand-in for ARA's API client.

The real thing (ARA's callback and offline client beside ours) is tested by tests/extras/test_ara.py.
"""

from __future__ import annotations

import sys
import types

import pytest

from ansible_collections.bulwark.hardening.plugins.callback.drift_report import CallbackModule
from ansible_collections.bulwark.hardening.plugins.module_utils import _ara

PLAY = "34cff6f4-9f8e-6137-3461-000000000005"


class FakeAra:
    """ARA's API as its client answers: the plays, playbooks and records of a run, by URL."""

    def __init__(self, labels=("check:True",)):
        self.plays = [{"id": 3, "uuid": PLAY, "playbook": 7}]
        self.playbooks = {7: {"id": 7, "labels": [{"id": i, "name": n} for i, n in enumerate(labels)]}}
        self.records: dict[int, dict] = {}
        self.calls: list[tuple] = []

    def get(self, url, **params):
        self.calls.append(("get", url, params))
        if url == "/api/v1/plays":
            results = [play for play in self.plays if play["uuid"] == params["uuid"]]
            return {"count": len(results), "results": results}
        if url.startswith("/api/v1/playbooks/"):
            return self.playbooks.get(int(url.rsplit("/", 1)[1]), {"detail": "Not found."})
        if url == "/api/v1/records":
            results = [
                r for r in self.records.values() if r["playbook"] == params["playbook"] and r["key"] == params["key"]
            ]
            return {"count": len(results), "results": results}
        raise AssertionError(url)

    def patch(self, url, **fields):
        self.calls.append(("patch", url, fields))
        ident = int(url.rsplit("/", 1)[1])
        if url.startswith("/api/v1/playbooks/"):
            self.playbooks[ident]["labels"] = [{"id": i, "name": n} for i, n in enumerate(fields["labels"])]
            return self.playbooks[ident]
        self.records[ident].update(fields)
        return self.records[ident]

    def post(self, url, **fields):
        self.calls.append(("post", url, fields))
        assert url == "/api/v1/records"
        ident = len(self.records) + 1
        self.records[ident] = {"id": ident, **fields}
        return self.records[ident]


def _host(status, drifted=()):
    controls = {key: {"status": "drift"} for key in drifted}
    controls["SSH-SERVICE"] = {"status": "compliant"}
    return {"status": status, "controls": controls}


REPORT = {
    "check_mode": True,
    "hosts": {
        "web2": _host("drift", ["SSH-CONFIG", "UFW-RULESET"]),
        "web1": _host("compliant"),
        "db1": _host("unreachable"),
    },
}


@pytest.mark.parametrize(
    ("hosts", "outcome", "labels"),
    [
        ({"web1": _host("compliant")}, "compliant", ["drift:compliant"]),
        ({"web1": _host("compliant"), "web2": _host("drift", ["SSH-CONFIG"])}, "drifted", ["drift:drifted"]),
        (REPORT["hosts"], "failed", ["drift:drifted", "drift:failed"]),
        ({"web1": _host("failed")}, "failed", ["drift:failed"]),
        ({}, "no-hosts", ["drift:no-hosts"]),
    ],
)
def test_verdict_and_labels(hosts, outcome, labels):
    summary = _ara.verdict({"hosts": hosts})
    assert summary["verdict"] == outcome
    assert _ara.labels(summary) == labels


def test_the_verdict_names_the_hosts_and_each_drifted_hosts_controls():
    assert _ara.verdict(REPORT) == {
        "verdict": "failed",
        "hosts": 3,
        "compliant": ["web1"],
        "drifted": {"web2": ["SSH-CONFIG", "UFW-RULESET"]},
        "failed": {"db1": "unreachable"},
    }


def test_attach_labels_the_runs_playbook_keeping_aras_labels_and_records_the_verdict():
    ara = FakeAra(labels=("check:True", "drift:compliant"))  # a stale label of ours is replaced
    assert _ara.attach(ara, PLAY, REPORT) == (7, ["drift:drifted", "drift:failed"])
    assert [label["name"] for label in ara.playbooks[7]["labels"]] == ["check:True", "drift:drifted", "drift:failed"]
    assert list(ara.records.values()) == [
        {"id": 1, "playbook": 7, "key": "drift", "type": "dict", "value": _ara.verdict(REPORT)}
    ]


def test_attach_again_updates_the_record():
    ara = FakeAra()
    _ara.attach(ara, PLAY, {"check_mode": True, "hosts": {"web1": _host("compliant")}})
    _ara.attach(ara, PLAY, REPORT)
    assert len(ara.records) == 1
    assert ara.records[1]["value"]["verdict"] == "failed"


def test_attach_finds_the_playbook_by_the_plays_uuid_and_says_so_when_ara_has_none():
    ara = FakeAra()
    with pytest.raises(_ara.AraError, match="no play with UUID 00000000"):
        _ara.attach(ara, "00000000-0000-0000-0000-000000000000", REPORT)
    assert not ara.records


def test_attach_reports_an_error_answer():
    ara = FakeAra()
    ara.post = lambda url, **fields: {"value": ["This field is required."]}
    with pytest.raises(_ara.AraError, match="record 'drift' on playbook 7: ARA answered"):
        _ara.attach(ara, PLAY, REPORT)


@pytest.fixture
def ara_loaded(monkeypatch):
    """ARA's client module as its callback leaves it: a reference to the client of this run."""
    ara = FakeAra()
    utils = types.ModuleType("ara.clients.utils")
    utils.active_client = lambda: ara
    monkeypatch.setitem(sys.modules, "ara.clients.utils", utils)
    return ara


def test_without_ara_there_is_no_client(monkeypatch):
    monkeypatch.delitem(sys.modules, "ara.clients.utils", raising=False)
    assert _ara.active_client() is None


def test_ara_loaded_without_a_client_is_no_client(monkeypatch):
    utils = types.ModuleType("ara.clients.utils")

    def active_client():
        return active_client._instance()  # as ARA's: a weak reference, None until a client is made

    active_client._instance = None
    utils.active_client = active_client
    monkeypatch.setitem(sys.modules, "ara.clients.utils", utils)
    assert _ara.active_client() is None


class _Play:
    _uuid = PLAY


def _callback(check_mode=True):
    callback = CallbackModule()
    callback.get_option = {"quiet": False}.get  # no files; the options as the loader would set them
    callback._check_mode = check_mode
    callback.v2_playbook_on_play_start(_Play())
    return callback


def test_the_callback_attaches_a_check_runs_verdict(ara_loaded, capsys):
    _callback().v2_playbook_on_stats(None)
    assert ara_loaded.records[1]["value"]["verdict"] == "no-hosts"
    assert "ARA: playbook 7 labelled drift:no-hosts" in capsys.readouterr().out


def test_the_callback_attaches_nothing_to_an_apply_run(ara_loaded):
    _callback(check_mode=False).v2_playbook_on_stats(None)
    assert not ara_loaded.calls


def test_the_callback_warns_when_ara_fails_and_its_report_stands(ara_loaded, capsys):
    ara_loaded.plays = []
    _callback().v2_playbook_on_stats(None)
    out = capsys.readouterr()
    assert "BULWARK DRIFT REPORT" in out.out
    # ansible-core before 2.19 wraps a warning at the terminal's width.
    assert "drift verdict was not attached to ARA's record of this run: ARA has no play" in " ".join(out.err.split())


def test_the_callback_without_ara_makes_no_call_and_prints_no_ara_line(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "ara.clients.utils", raising=False)
    _callback().v2_playbook_on_stats(None)
    out = capsys.readouterr()
    assert "ARA" not in out.out + out.err
