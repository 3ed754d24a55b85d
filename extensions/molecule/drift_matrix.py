"""The drift matrix: every control's drift injected, and the drift run's precision and recall.

Each role lists its injections in ``extensions/molecule/injections/<role>.py`` (``INJECTIONS``, a
list of ``Injection`` and ``NotInjectable``). For every control of the catalogue and every way an
admin or an intruder makes a host differ from what the collection declared, there is one
injection, or a ``NotInjectable`` saying why there cannot be one:

- ``file``: our own file edited in place (the obvious drift);
- ``override``: the setting changed where the software reads it with higher priority than our
  file (a later drop-in, a conf-enabled file, a conf.d ini, an apt.conf.d file, a jail.d file...);
- ``daemon``: the running process differs from its files (reloaded with another configuration,
  changed at run time, stopped), the files themselves untouched or put back.

``run_matrix`` injects them in batches (in one batch, no two injections expect the same control,
so every finding is traced to its injection, and one that stops or reloads a daemon is the only one
of its service group), runs the drift check after each batch, compares the
controls it names with the ones expected, and repairs the host with the converge playbook. The
result (per injection: found, missed, extra) is written to ``.tmp/drift-matrix/<scenario>.json``
and ``.md``; the tests assert precision and recall of 100 %.

Importable from any scenario's tests, like ``playbook_run``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path

from playbook_run import run_playbook

HERE = Path(__file__).resolve().parent
VIAS = ("file", "override", "daemon")


def until(command: str, seconds: int = 180) -> str:
    """Shell that runs ``command`` each second until it succeeds, and exits 1 after ``seconds``: a
    daemon restarted or reloaded by an injection answers late on a loaded test machine (CI's is 99 %
    busy), and a drift run started before it answers judges another state than the one injected."""
    loop = f"end=$(($(date +%s) + {seconds})); until {command}; do [ $(date +%s) -lt $end ] || exit 1; sleep 1; done"
    return "sh -c " + shlex.quote(loop)


@dataclass(frozen=True)
class Injection:
    """One drift, made by hand on the target (as root), and the controls the drift run must name."""

    control: str  # the control this injection proves (one of ``expect``)
    via: str  # one of VIAS
    what: str  # what an admin reads in the matrix: "a later sshd_config.d file sets PasswordAuthentication yes"
    inject: str  # shell, run as root on the target; must exit 0
    expect: tuple[str, ...] = ()  # every control the drift run must name (default: ``control`` alone)
    undo: str = ""  # shell run before the repair, for what the role refuses to undo (it names the file)
    # Where it runs: the first scenario listed; from site, the next one when site's batches are full.
    scenarios: tuple[str, ...] = ("site",)
    alone: bool = False  # no other injection of its service group in its batch (it stops or reloads the daemon)

    def expected(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.expect) | {self.control}))


@dataclass(frozen=True)
class NotInjectable:
    """A control and a way of drifting that cannot apply, and why (shown in the matrix)."""

    control: str
    via: str
    why: str


def catalogue() -> dict:
    """The collection's control catalogue (plugins/module_utils/_controls.py), by ID."""
    path = HERE.parent.parent / "plugins" / "module_utils" / "_controls.py"
    spec = importlib.util.spec_from_file_location("bulwark_controls", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CONTROLS


def load(role: str) -> list:
    """The ``INJECTIONS`` of one role's file."""
    path = HERE / "injections" / f"{role}.py"
    spec = importlib.util.spec_from_file_location(f"bulwark_injections_{role}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.INJECTIONS)


def load_all() -> list:
    """Every role's injections and exclusions."""
    return [item for path in sorted((HERE / "injections").glob("*.py")) for item in load(path.stem)]


# The services whose controls share a daemon: an injection that stops or reloads one (``alone``)
# shares its batch with no other injection of the same group. Apache runs PHP (mod_php).
GROUPS = {
    "COMMON": "common",
    "SSH": "ssh",
    "UFW": "ufw",
    "FAIL2BAN": "fail2ban",
    "UPDATES": "updates",
    "PACKAGES": "packages",
    "LISTENER": "packages",
    "APACHE": "web",
    "PHP": "web",
    "IMMUTABLE": "immutable",
    "OS": "os",
}
# The site scenario (the whole baseline, drift.yml itself) makes this many batches; an injection
# that does not fit there runs in the next scenario it lists (its role's, which repairs faster).
# BULWARK_MATRIX_SITE_BATCHES=0 sends every injection that lists a second scenario there (to prove
# a role's injections in its own scenario).
SITE_BATCHES = int(os.environ.get("BULWARK_MATRIX_SITE_BATCHES", "4"))


def groups(injection: Injection) -> set[str]:
    """The service groups of the controls an injection expects."""
    return {GROUPS[control.split("-")[0]] for control in injection.expected()}


def expected_where(injection: Injection, ran: set[str], roles: dict[str, str]) -> tuple[str, ...]:
    """What the drift run must name for ``injection`` where the roles ``ran`` ran: a side effect on a
    control of a role that did not run there (os_baseline's audit of a world-writable file, in the
    fail2ban scenario) cannot be named. The injection's own control is always expected."""
    return tuple(c for c in injection.expected() if c == injection.control or roles.get(c) in ran)


def fits(injection: Injection, batch: list[Injection]) -> bool:
    """No control expected twice in a batch; an ``alone`` injection shares its group with none; one
    ``daemon`` injection per group (it is made last: a reload by another would undo it)."""
    if not set(injection.expected()).isdisjoint(c for other in batch for c in other.expected()):
        return False
    for other in batch:
        shared = groups(injection) & groups(other)
        if shared and (injection.alone or other.alone or injection.via == other.via == "daemon"):
            return False
    return True


def in_order(batch: list[Injection]) -> list[Injection]:
    """A batch in the order its injections are made: the running daemons' last, so that no reload
    another injection makes (of a file it changed) brings the daemon back to its files."""
    return sorted(batch, key=lambda item: item.via == "daemon")


def batches(injections: list[Injection], limit: int | None = None) -> tuple[list[list[Injection]], list[Injection]]:
    """Greedy batches, at most ``limit`` of them, and what did not fit: ``alone`` ones placed first,
    then the drifts a file check misses (override, daemon) before our own files edited; injections
    that could run elsewhere after those that cannot (so these always find their place)."""
    result: list[list[Injection]] = []
    rest: list[Injection] = []
    for injection in sorted(injections, key=lambda item: (len(item.scenarios) > 1, not item.alone, item.via == "file")):
        batch = next((batch for batch in result if fits(injection, batch)), None)
        if batch is not None:
            batch.append(injection)
        elif limit is None or len(result) < limit:
            result.append([injection])
        else:
            rest.append(injection)
    return result, rest


def allocate(items: list, site_batches: int | None = None) -> dict[str, list[Injection]]:
    """Each scenario's injections. Site first makes the batches its site-only injections need (at
    least SITE_BATCHES), then fills them with the injections that could also run elsewhere; what
    still does not fit goes to the next scenario it lists. Others run where they are listed first."""
    injections = injections_of(items)
    result: dict[str, list[Injection]] = {}
    only_site = [item for item in injections if item.scenarios == ("site",)]
    flexible = [item for item in injections if item.scenarios[0] == "site" and len(item.scenarios) > 1]
    site_batches = SITE_BATCHES if site_batches is None else site_batches
    placed, _none = batches(only_site)
    if site_batches > 0:
        placed, rest = batches(only_site + flexible, max(len(placed), site_batches))
    else:
        rest = flexible
    result["site"] = [item for batch in placed for item in batch]
    for item in rest:
        result.setdefault(item.scenarios[1], []).append(item)
    for item in injections:
        if item.scenarios[0] != "site":
            result.setdefault(item.scenarios[0], []).append(item)
    return result


def injections_of(items: list) -> list[Injection]:
    """The injections among injections and exclusions."""
    return [item for item in items if isinstance(item, Injection)]


def for_scenario(scenario: str, items: list | None = None) -> list[Injection]:
    """The injections that run in ``scenario`` (see ``allocate``)."""
    return allocate(items if items is not None else load_all()).get(scenario, [])


def drifted(report_path: Path, target: str) -> tuple[list[str], dict]:
    """The controls the drift report names as drifted on ``target``, and the target's section."""
    report = json.loads(report_path.read_text())
    section = report["hosts"].get(target, {})
    found = sorted(key for key, entry in section.get("controls", {}).items() if entry.get("status") == "drift")
    return found, section


@dataclass
class Outcome:
    """What the drift run said about one batch."""

    batch: int
    injections: list[dict] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # named, expected by no injection of the batch
    returncode: int = 0
    repair_returncode: int = 0


def run_matrix(
    host,
    target: str,
    injections: list[Injection],
    *,
    scenario_dir: Path,
    out: Path,
    drift_playbook: str = "drift.yml",
    repair_playbook: str = "converge.yml",
    env: dict | None = None,
) -> list[Outcome]:
    """Inject each batch, run the drift check, compare, undo what the roles refuse, repair."""
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    base_env = {"BULWARK_DRIFT_QUIET": "false", **(env or {})}
    roles = {key: entry["role"] for key, entry in catalogue().items()}
    for number, batch in enumerate([in_order(batch) for batch in batches(injections)[0]], start=1):
        for injection in batch:
            made = host.run(injection.inject)
            if made.rc != 0:
                # The host is left half-drifted: repair it, so that the scenario's later tests judge the
                # collection and not this batch's leftovers (e.g. /run/sshd removed), then say why.
                for done in batch[: batch.index(injection)]:
                    if done.undo:
                        host.run(done.undo)
                run_playbook(scenario_dir / repair_playbook, "--diff", env=base_env, timeout=900)
            assert made.rc == 0, (injection.what, injection.inject, made.stdout, made.stderr)
        report = out / f"matrix-{number}.json"
        check = run_playbook(
            scenario_dir / drift_playbook,
            "--check",
            "--diff",
            env={**base_env, "BULWARK_DRIFT_REPORT": str(report)},
            timeout=900,
        )
        (out / f"matrix-{number}.log").write_text(check.stdout + check.stderr)
        assert report.exists(), check.stdout[-3000:] + check.stderr[-2000:]
        found, section = drifted(report, target)
        outcome = Outcome(batch=number, returncode=check.returncode)
        expected_here: set[str] = set()
        for injection in batch:
            expected = expected_where(injection, set(section.get("tasks", {})), roles)
            expected_here |= set(expected)
            outcome.injections.append(
                {
                    **asdict(injection),
                    "found": sorted(set(expected) & set(found)),
                    "missed": sorted(set(expected) - set(found)),
                }
            )
        outcome.extra = sorted(set(found) - expected_here)
        for injection in batch:
            if injection.undo:
                undone = host.run(injection.undo)
                assert undone.rc == 0, (injection.what, injection.undo, undone.stderr)
        repair = run_playbook(scenario_dir / repair_playbook, "--diff", env=base_env, timeout=900)
        (out / f"repair-{number}.log").write_text(repair.stdout + repair.stderr)
        outcome.repair_returncode = repair.returncode
        outcomes.append(outcome)
        if repair.returncode != 0:
            break
    return outcomes


def score(outcomes: list[Outcome]) -> dict:
    """Precision and recall over (injection, control) findings; extras count against precision."""
    true_positive = sum(len(item["found"]) for outcome in outcomes for item in outcome.injections)
    false_negative = sum(len(item["missed"]) for outcome in outcomes for item in outcome.injections)
    false_positive = sum(len(outcome.extra) for outcome in outcomes)
    found_total = true_positive + false_positive
    expected_total = true_positive + false_negative
    return {
        "true_positive": true_positive,
        "false_positive": false_positive,
        "false_negative": false_negative,
        "precision": true_positive / found_total if found_total else 1.0,
        "recall": true_positive / expected_total if expected_total else 1.0,
    }


def write(scenario: str, outcomes: list[Outcome], items: list, clean_runs: list[int]) -> dict:
    """Write the matrix (JSON and Markdown) to .tmp/drift-matrix/<scenario>.*; return the score."""
    result = score(outcomes)
    root = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", HERE.parent.parent)) / ".tmp" / "drift-matrix"
    root.mkdir(parents=True, exist_ok=True)
    payload = {
        "scenario": scenario,
        "score": result,
        "clean_runs": clean_runs,
        "batches": [asdict(outcome) for outcome in outcomes],
        "not_injectable": [asdict(item) for item in items if isinstance(item, NotInjectable)],
    }
    (root / f"{scenario}.json").write_text(json.dumps(payload, indent=2))
    lines = [
        f"# Drift matrix: {scenario}",
        "",
        f"precision {result['precision']:.0%}, recall {result['recall']:.0%} "
        f"({result['true_positive']} found, {result['false_negative']} missed, {result['false_positive']} extra); "
        f"clean runs: {', '.join(f'exit {code}' for code in clean_runs) or 'none'}",
        "",
        "| control | via | drift | named | missed | batch |",
        "|---|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        for item in outcome.injections:
            lines.append(
                f"| {item['control']} | {item['via']} | {item['what']} | {', '.join(item['found'])} |"
                f" {', '.join(item['missed'])} | {outcome.batch} |"
            )
        if outcome.extra:
            lines.append(f"| (none) | | named without an injection | {', '.join(outcome.extra)} | | {outcome.batch} |")
    (root / f"{scenario}.md").write_text("\n".join(lines) + "\n")
    return result


def describe(outcomes: list[Outcome]) -> str:
    """The misses and extras, for an assertion message."""
    lines = []
    for outcome in outcomes:
        for item in outcome.injections:
            if item["missed"]:
                lines.append(f"batch {outcome.batch}: {item['what']}: missed {item['missed']}")
        if outcome.extra:
            lines.append(f"batch {outcome.batch}: named without an injection: {outcome.extra}")
        if outcome.repair_returncode:
            lines.append(f"batch {outcome.batch}: the repair run exited {outcome.repair_returncode}")
    return "\n".join(lines)


def coverage(items: list, catalogue: dict) -> list[str]:
    """Each (control, via) of the catalogue with neither an injection nor a reason, and unknown IDs."""
    problems = []
    known = {(item.control, item.via) for item in items}
    for item in items:
        if item.via not in VIAS:
            problems.append(f"{item.control}: unknown via {item.via!r}")
        for control in (item.control, *getattr(item, "expect", ())):
            if control not in catalogue:
                problems.append(f"{control}: not in the control catalogue")
    for control in catalogue:
        for via in VIAS:
            if (control, via) not in known:
                problems.append(f"{control}: no injection and no reason for via={via}")
    return problems


def unjudged(items: list, molecule: Path = HERE) -> list[str]:
    """Injections sent to a scenario whose tests do not run its matrix, with either allocation
    (the default, and BULWARK_MATRIX_SITE_BATCHES=0): an injection nobody judges proves nothing."""
    problems = []
    for site_batches in (SITE_BATCHES, 0):
        for scenario, injections in allocate(items, site_batches).items():
            test = molecule / scenario / "tests" / "test_matrix.py"
            if not test.exists() or f'"{scenario}"' not in test.read_text():
                problems.append(
                    f"{len(injections)} injection(s) run in scenario {scenario} (site batches {site_batches}),"
                    f" whose tests/test_matrix.py does not run its matrix"
                )
    return sorted(set(problems))


class ScenarioMatrix:
    """One scenario's matrix test: the injections allocated to it, clean drift runs before and after,
    the score written to .tmp/drift-matrix/<scenario>.*, and the assertions every scenario makes.

    A scenario's tests/test_matrix.py declares one (``MATRIX = ScenarioMatrix(...)``), passes
    ``MATRIX.testinfra_hosts`` to testinfra, runs ``MATRIX.run(host)`` in a module fixture and calls
    the ``assert_*`` methods. A scenario that receives no injection (every one fits in site's
    batches) skips its tests with that reason: a test with nothing to judge must not pass.
    """

    def __init__(
        self,
        scenario: str,
        target: str,
        *,
        playbook: str = "converge.yml",
        apply_first: bool = False,
        min_injections: int = 1,
    ) -> None:
        self.scenario = scenario
        self.target = target
        self.playbook = playbook
        self.apply_first = apply_first
        self.min_injections = min_injections
        self.items = load_all()
        self.injections = for_scenario(scenario, self.items)
        self.scenario_dir = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", "."))
        self.out = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ".")) / "matrix"
        inventory = os.environ.get("MOLECULE_INVENTORY_FILE", "")
        self.testinfra_hosts = [f"ansible://{target}?ansible_inventory={inventory}"]
        self.outcomes: list[Outcome] = []
        self.clean: list[tuple[int, list[str]]] = []
        self.score: dict = {}

    def clean_run(self, name: str) -> tuple[int, list[str]]:
        """A drift run of the untouched host: its exit status (the verdict's) and what it names."""
        self.out.mkdir(parents=True, exist_ok=True)
        report = self.out / f"{name}.json"
        env = {"BULWARK_DRIFT_REPORT": str(report), "BULWARK_DRIFT_EXIT_STATUS": "true"}
        result = run_playbook(self.scenario_dir / self.playbook, "--check", "--diff", env=env, timeout=900)
        (self.out / f"{name}.log").write_text(result.stdout + result.stderr)
        assert report.exists(), result.stdout[-3000:] + result.stderr[-2000:]
        return result.returncode, drifted(report, self.target)[0]

    def run(self, host) -> ScenarioMatrix:
        """Apply (if asked), a clean run, the matrix, a clean run after its last repair; write the score."""
        if not self.injections:
            import pytest  # noqa: PLC0415 (only the scenarios' tests get here; lint imports this module too)

            pytest.skip(
                f"no injection runs in {self.scenario}: site's batches hold them all "
                f"(BULWARK_MATRIX_SITE_BATCHES=0 sends a role's injections to its scenario)"
            )
        if self.apply_first:
            applied = run_playbook(self.scenario_dir / self.playbook, timeout=900)
            assert applied.returncode == 0, applied.stdout[-3000:]
        self.clean.append(self.clean_run("clean-before"))
        self.outcomes = run_matrix(
            host,
            self.target,
            self.injections,
            scenario_dir=self.scenario_dir,
            out=self.out,
            drift_playbook=self.playbook,
            repair_playbook=self.playbook,
        )
        self.clean.append(self.clean_run("clean-after"))
        self.score = write(self.scenario, self.outcomes, self.items, [code for code, _found in self.clean])
        return self

    def assert_has_injections(self) -> None:
        assert len(self.injections) >= self.min_injections, (self.scenario, [i.what for i in self.injections])

    def assert_clean_runs_name_nothing(self) -> None:
        assert self.clean == [(0, [])] * len(self.clean), self.clean

    def assert_every_drift_named_and_nothing_else(self) -> None:
        detail = describe(self.outcomes)
        assert (self.score["precision"], self.score["recall"]) == (1.0, 1.0), detail
        assert all(outcome.repair_returncode == 0 for outcome in self.outcomes), detail
        made = sum(len(outcome.injections) for outcome in self.outcomes)
        assert made == len(self.injections), detail


__all__ = [
    "VIAS",
    "Injection",
    "NotInjectable",
    "ScenarioMatrix",
    "allocate",
    "batches",
    "catalogue",
    "coverage",
    "describe",
    "for_scenario",
    "load_all",
    "run_matrix",
    "unjudged",
    "write",
]
