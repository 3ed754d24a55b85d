# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sshd_effective_config
short_description: Read the effective sshd configuration and check that an account can still log in
description:
  - Runs C(sshd -T) to print the configuration C(sshd) would really use (defaults, C(Include) files
    and, for a given connection, C(Match) blocks applied) and returns it as a dictionary.
  - C(sshd -T) fails on an invalid configuration, so this module doubles as a configuration check;
    the failure message carries C(sshd)'s own error.
  - For a given connection it also decides whether the account would be let in (C(DenyUsers),
    C(AllowUsers), C(DenyGroups), C(AllowGroups), C(PermitRootLogin), authentication methods and
    authorized keys), so a play can stop before it locks its own operator out.
  - It can also tell how the current SSH session logged in (from C(sshd)'s own log), whether an
    active ufw would let a new port in, whether the running daemon still runs on an older
    configuration than the files, and whether any C(Match) context weakens what a role enforces.
  - Never changes the configuration. Reports C(changed=true) only when it had to create the
    privilege separation directory C(/run/sshd) that C(sshd -T) needs.
extends_documentation_fragment:
  - bulwark.hardening.module
version_added: 0.2.0
attributes:
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  config:
    description:
      - Path of the C(sshd) configuration file to evaluate (C(sshd -f)).
    type: path
    default: /etc/ssh/sshd_config
  content:
    description:
      - A candidate configuration to evaluate instead of O(config), e.g. a rendered template that
        is not installed yet. It is written to a private temporary file, evaluated, and removed;
        relative C(Include) paths still resolve against C(/etc/ssh).
      - When set, O(config) is ignored.
    type: str
  sshd:
    description:
      - Path of the C(sshd) binary.
    type: path
    default: /usr/sbin/sshd
  connection:
    description:
      - A connection to evaluate the configuration for, passed to C(sshd -T -C) so that C(Match)
        blocks are applied.
      - Values may not contain commas or whitespace.
    type: dict
    suboptions:
      user:
        description:
          - Account name that logs in.
        type: str
        required: true
      host:
        description:
          - Host name the connection comes from.
          - Defaults to O(connection.addr).
        type: str
      addr:
        description:
          - IP address the connection comes from.
        type: str
        default: 127.0.0.1
      laddr:
        description:
          - Local address the connection arrives on.
        type: str
      lport:
        description:
          - Local port the connection arrives on.
        type: int
  check_access:
    description:
      - Whether to decide if O(connection.user) may log in over O(connection), returned as RV(access).
      - Defaults to V(true) when O(connection) is given and to V(false) otherwise; V(true) without
        O(connection) is an error.
    type: bool
  users:
    description:
      - Further accounts to check, each from the address of O(connection), returned in RV(accounts).
      - For them at least one authorized key must be accepted by C(PubkeyAcceptedAlgorithms) when
        password logins are off (which key they use is not known).
    type: list
    elements: str
    default: []
  session:
    description:
      - The SSH session Ansible is using (client address and port, as in C(SSH_CONNECTION)).
      - How the session logged in is read from sources an attacker cannot flush - sshd's own
        C(ExposeAuthInfo) record of the session (O(session.auth_info)), else the C(Accepted <method> for
        <user> from <addr> port <port>) line that the session's own sshd processes (found from this
        module's ancestors) wrote to the journal, looked up by process ID, never a bounded tail of a log.
        It is returned as RV(auth), and RV(access) adds the rules that would cut this session's way in
        off - a password login when passwords are turned off, a key type that C(PubkeyAcceptedAlgorithms)
        no longer accepts, the session's own key (by fingerprint) missing from the authorized keys files,
        an C(AuthenticationMethods) that the session's method cannot satisfy, C(MaxSessions 0), a
        C(ListenAddress) without the address the session arrived on (O(connection.laddr)).
      - When the method cannot be known, a change that turns a method off is refused, and every key in the
        account's authorized_keys must be accepted.
    type: dict
    suboptions:
      auth_info:
        description: The session's C($SSH_USER_AUTH) file (written by sshd when C(ExposeAuthInfo) is on).
        type: str
      addr:
        description: Client address of the session.
        type: str
        required: true
      port:
        description: Client port of the session.
        type: int
        required: true
  enforce:
    description:
      - Keywords and values a role enforces (e.g. C(PasswordAuthentication=no)). The configuration is
        evaluated for O(connection) and for a connection matching each C(Match) line of the file and
        of the files it includes; every context where a keyword differs is listed in RV(violations).
    type: dict
    default: {}
  firewall_port:
    description:
      - A TCP port C(sshd) is about to listen on. When it is not among the ports of the installed
        configuration and ufw is active, RV(firewall) says whether ufw's rules let it in.
    type: int
  running:
    description:
      - Whether the running daemon runs the configuration on disk (the configuration, its drop-ins
        and the host keys), judged by content and by the daemon's last (re)load as systemd saw it,
        never by a modification time - see M(bulwark.hardening.service_loaded), which records what
        the daemon loaded. RV(running) gives the reasons.
      - And by what it offers. The host's own C(ssh -vv) connects to the daemon where its files say it
        listens (a wildcard address through the loopback), as O(connection.user) (else C(root)), with
        C(none) authentication only. The authentication methods it offers and its key exchange, cipher,
        MAC and host key algorithms are compared with C(sshd -T -C) of the installed files for that
        connection; a daemon reloaded on a file that was then put back, or started with C(-o) options,
        differs there. sshd logs a closed preauthentication connection from the loopback.
    type: bool
    default: false
  unit:
    description: The systemd unit of the SSH server, whose journal is read.
    type: str
    default: ssh.service
  missing_ok:
    description:
      - When the C(sshd) binary does not exist, return RV(installed=false) instead of failing
        (check mode on a host where the package is not installed yet).
    type: bool
    default: false
notes:
  - C(sshd -T) needs the privilege separation directory C(/run/sshd) on Debian. When it is missing
    the module creates it (mode C(0755), as C(sshd.service) would) and reports C(changed=true); in
    check mode it reports C(changed=true) with RV(privsep_missing) and evaluates nothing else
    (RV(settings) is empty).
  - The access decision mirrors C(sshd)'s own checks but cannot see PAM, C(StrictModes) permission
    checks, C(AuthenticationMethods) chains or whether a client holds the private key. When
    C(AuthorizedKeysCommand) is set, keys are assumed to come from it.
seealso:
  - module: bulwark.hardening.ssh_moduli
  - plugin: bulwark.hardening.ssh_algorithms
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Validate the configuration and read it back
  bulwark.hardening.sshd_effective_config:
  register: _sshd

- name: Show the effective ciphers
  ansible.builtin.debug:
    msg: "{{ _sshd.settings.ciphers }} on {{ _sshd.version }} ({{ _sshd.version_number }})"

- name: Make sure the operator can still log in with the candidate configuration
  bulwark.hardening.sshd_effective_config:
    config: /etc/ssh/sshd_config.candidate
    connection:
      user: deploy
      addr: 192.0.2.10
  register: _sshd_candidate

- name: Refuse to go on if the operator would be locked out
  ansible.builtin.assert:
    that: _sshd_candidate.access.allowed
    fail_msg: "{{ _sshd_candidate.access.reasons | join('; ') }}"
"""

RETURN = r"""
ansible_facts:
  description: The same effective configuration as RV(settings), as a host fact.
  returned: success
  type: dict
  contains:
    sshd_effective_config:
      description: RV(settings), available to later tasks as C(ansible_facts['sshd_effective_config']).
      type: dict
      returned: success
settings:
  description:
    - The effective configuration, keyed by lower-case option name.
    - Options that can repeat (C(acceptenv), C(allowgroups), C(allowusers), C(authorizedkeysfile),
      C(denygroups), C(denyusers), C(hostcertificate), C(hostkey), C(include), C(listenaddress),
      C(permitlisten), C(permitopen), C(port), C(setenv), C(subsystem)) are lists; word lists such as
      C(authorizedkeysfile) are split on whitespace. Every other value is a string.
    - A list option is absent when C(sshd -T) printed no line for it.
  returned: success
  type: dict
  sample:
    port: ["22"]
    permitrootlogin: "no"
    passwordauthentication: "no"
    authorizedkeysfile: [".ssh/authorized_keys", ".ssh/authorized_keys2"]
    hostkey: ["/etc/ssh/ssh_host_ed25519_key"]
    ciphers: "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com"
version:
  description:
    - The first token of the OpenSSH version line printed by C(sshd -V) (or C(ssh -V) when C(sshd)
      prints none). Debian 12's C(sshd -V) prints V(OpenSSH_9.2) while its C(ssh -V) prints
      V(OpenSSH_9.2p1); both feed P(bulwark.hardening.ssh_algorithms#filter).
    - V(null) when no version could be read.
  returned: success
  type: str
  sample: OpenSSH_9.2
version_number:
  description:
    - Major and minor version parsed from RV(version); V(null) when it could not be parsed.
  returned: success
  type: str
  sample: "9.2"
access:
  description:
    - Whether O(connection.user) may log in over O(connection) with this configuration.
  returned: when O(check_access) is true
  type: dict
  contains:
    user:
      description: The account that was checked.
      type: str
      sample: deploy
    allowed:
      description: V(true) when no rule refuses the account.
      type: bool
      sample: false
    reasons:
      description:
        - Every rule that refuses the account, each naming the account and the setting; empty when
          RV(access.allowed) is true.
      type: list
      elements: str
      sample:
        - "account 'deploy' is not matched by AllowUsers (alice bob)"
privsep_missing:
  description: V(true) in check mode when C(/run/sshd) is missing (nothing else was evaluated).
  returned: when the directory is missing in check mode
  type: bool
installed:
  description: Whether the C(sshd) binary exists (V(false) only with O(missing_ok)).
  returned: always
  type: bool
accounts:
  description: RV(access) for each of O(users).
  returned: when O(users) is not empty
  type: list
  elements: dict
auth:
  description:
    - How the O(session) logged in, from C(sshd)'s log; V(null) when no line was found.
  returned: when O(session) is given
  type: dict
  sample: {method: publickey, user: deploy, addr: 192.0.2.7, port: 50022, key_type: ED25519,
           fingerprint: "SHA256:mVPwvezndPv/ARoIadVY98vAC0g+P/5633yTC4d/wXE"}
violations:
  description: For O(enforce), one sentence per context and keyword that differs.
  returned: when O(enforce) is not empty
  type: list
  elements: str
  sample: ["Match all (/etc/ssh/sshd_config.d/zz.conf): PasswordAuthentication is yes, expected no"]
firewall:
  description: Whether ufw is active and lets O(firewall_port) in.
  returned: when O(firewall_port) is given
  type: dict
  sample: {port: 2222, current_ports: ["22"], active: true, allowed: false}
running:
  description:
    - When the running daemon last (re)loaded (epoch seconds, V(null) when it does not run), whether
      it runs another configuration than the files (C(stale)), one reason per such file or difference
      in what it offers, the command-line options it was started with beyond C(-D) (C(options) - they
      override every file, and a reload keeps them), C(SSHD_OPTS) of C(/etc/default/ssh) (C(sshd_opts)),
      and what it offered (C(offered) - methods, kexalgorithms, hostkeyalgorithms,
      ciphers, macs; V(null) when it was not asked or did not answer).
  returned: when O(running) is true
  type: dict
  sample:
    loaded_at: 1767225600.5
    stale: true
    reasons:
      - >-
        the running sshd offers password that its files do not (authentication methods: publickey, password live,
        publickey from sshd -T)
    offered:
      methods: [publickey, password]
      kexalgorithms: [sntrup761x25519-sha512@openssh.com, curve25519-sha256]
      hostkeyalgorithms: [ssh-ed25519]
      ciphers: [chacha20-poly1305@openssh.com]
      macs: [hmac-sha2-512-etm@openssh.com]
    options: []
    sshd_opts: ""
command:
  description: The C(sshd -T) command that was run.
  returned: success
  type: list
  elements: str
  sample: ["/usr/sbin/sshd", "-T", "-f", "/etc/ssh/sshd_config"]
"""

# Imports follow the documentation blocks, as in every Ansible module (hence the E402 waivers).
import glob
import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._loaded import inspect
from ansible_collections.bulwark.hardening.plugins.module_utils._process import ancestor_pids, journal_by_pid
from ansible_collections.bulwark.hardening.plugins.module_utils._ssh import (
    authorized_keys_paths,
    check_access,
    enforced_differences,
    find_openssh_version,
    find_session_auth,
    listen_reasons,
    match_context,
    offer_differences,
    parse_auth_info,
    parse_authorized_keys,
    parse_match_lines,
    parse_openssh_version,
    parse_ssh_probe,
    parse_sshd_config_dump,
    probe_target,
    session_reasons,
    usable_key_reasons,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._ufw import (
    UfwRuleError,
    check_guard,
    incoming_policy,
    parse_defaults,
    parse_rules_file,
)

PRIVSEP_DIR = "/run/sshd"
# The live probe: no configuration, agent, key or password of the host's own; "none" authentication only.
PROBE_OPTIONS = (
    "-o", "BatchMode=yes",
    "-o", "PreferredAuthentications=none",
    "-o", "IdentityAgent=none",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "ConnectTimeout=10",
    "-o", "ConnectionAttempts=1",
)  # fmt: skip
UFW_FILES = ("/etc/ufw/ufw.conf", "/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw")
ETC_SSH = "/etc/ssh"


def connection_spec(connection):
    """The ``-C`` argument of ``sshd -T`` for a connection dict (None when not given)."""
    if not connection:
        return None
    addr = connection.get("addr") or "127.0.0.1"
    pairs = [
        ("user", connection["user"]),
        ("host", connection.get("host") or addr),
        ("addr", addr),
    ]
    if connection.get("laddr"):
        pairs.append(("laddr", connection["laddr"]))
    if connection.get("lport") is not None:
        pairs.append(("lport", str(connection["lport"])))
    for key, value in pairs:
        if not value or "," in value or any(char.isspace() for char in value):
            raise ValueError(f"connection {key} {value!r} must be non-empty without commas or whitespace")
    return ",".join(f"{key}={value}" for key, value in pairs)


def lookup_account(name):
    """Account facts for check_access(), read with pwd/grp on the target."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"name": name, "exists": False}
    gids = [entry.pw_gid]
    try:
        gids.extend(gid for gid in os.getgrouplist(name, entry.pw_gid) if gid not in gids)
    except OSError:
        pass
    groups = []
    for gid in gids:
        try:
            groups.append(grp.getgrgid(gid).gr_name)
        except KeyError:
            groups.append(str(gid))
    shell = entry.pw_shell or "/bin/sh"
    return {
        "name": name,
        "exists": True,
        "uid": entry.pw_uid,
        "home": entry.pw_dir,
        "groups": groups,
        "shell": shell,
        "shell_ok": os.path.isfile(shell) and os.access(shell, os.X_OK),
    }


def group_member(name):
    """A member of group ``name`` (listed member, else an account whose primary group it is)."""
    try:
        group = grp.getgrnam(name)
    except KeyError:
        return None
    if group.gr_mem:
        return group.gr_mem[0]
    for entry in pwd.getpwall():
        if entry.pw_gid == group.gr_gid:
            return entry.pw_name
    return None


def read_keys(paths):
    """Keys of each readable authorized_keys file among ``paths`` (path -> list of keys)."""
    return {path: parse_authorized_keys(read_text(path)) for path in paths}


def read_version(module, sshd):
    """The ``OpenSSH_X.YpZ`` token from ``sshd -V`` (or ``ssh -V``), or None."""
    _rc, out, err = module.run_command([sshd, "-V"])
    token = find_openssh_version(err) or find_openssh_version(out)
    if token is None:
        ssh = module.get_bin_path("ssh")
        if ssh:
            _rc, out, err = module.run_command([ssh, "-V"])
            token = find_openssh_version(err) or find_openssh_version(out)
    return token


def sshd_test(module, sshd, config, spec=None):
    """Run ``sshd -T -f CONFIG [-C SPEC]``; returns ``(command, rc, out, err)``."""
    command = [sshd, "-T", "-f", config]
    if spec:
        command.extend(["-C", spec])
    rc, out, err = module.run_command(command)
    return command, rc, out, err


def included_files(text, base=ETC_SSH):
    """Files matched by the Include lines of a config text (relative paths under /etc/ssh)."""
    files = []
    for raw in text.splitlines():
        words = raw.strip().split()
        if len(words) < 2 or words[0].lower() != "include":
            continue
        for pattern in words[1:]:
            files.extend(sorted(glob.glob(pattern if pattern.startswith("/") else os.path.join(base, pattern))))
    return files


def host_key_types(settings):
    """Types of the host keys ``settings`` name, from their ``.pub`` files; None when one is unreadable
    or a host certificate is configured (the offer cannot be predicted then)."""
    if settings.get("hostcertificate"):
        return None
    types = []
    for path in settings.get("hostkey", []):
        words = (read_text(path + ".pub") or "").split()
        if not words:
            return None
        types.append(words[0])
    return types


def live_offer(module, sshd, config, settings, user):
    """``(offered, reasons)``: what the running daemon offers a client on this host, and how that differs
    from ``sshd -T`` of the files for the same connection. One ``ssh -vv`` that stops after "none"
    authentication (nothing is logged in; sshd logs a closed preauth connection from the loopback)."""
    ssh = module.get_bin_path("ssh")
    if not ssh:
        return None, []
    addr, port = probe_target(settings)
    try:
        spec = connection_spec({"user": user, "addr": addr, "laddr": addr, "lport": port})
    except ValueError:
        return None, []  # connection.user was refused by the module's own check already
    _command, rc, out, _err = sshd_test(module, sshd, config, spec)
    if rc != 0:
        return None, []  # an invalid file is reported by the evaluation itself
    expected = parse_sshd_config_dump(out)
    argv = [ssh, "-vv", "-F", "/dev/null", "-p", str(port), "-l", user, *PROBE_OPTIONS, addr, "true"]
    timeout = module.get_bin_path("timeout")
    _rc, out, err = module.run_command([timeout, "20", *argv] if timeout else argv, environ_update={"LC_ALL": "C"})
    offered = parse_ssh_probe(err + out)
    if offered is None:
        return None, [
            f"the running sshd does not answer on {addr} port {port}, where its files say it listens "
            f"({(err or out).strip().splitlines()[-1] if (err or out).strip() else 'no output'})"
        ]
    return offered, offer_differences(offered, expected, host_key_types(expected))


# What Debian's ssh.service starts sshd with; any other word overrides the files (-o, -f, -h, -p...).
PLAIN_ARGS = ("-D",)
PROC = "/proc"


def command_line_options(argv):
    """The words of a running sshd's command line beyond its binary and ``-D``: options its files do not hold.

    The listener rewrites its title to ``sshd: <command line> [listener] ...``, one string.
    """
    if len(argv) == 1 and argv[0].startswith("sshd: "):
        argv = argv[0][len("sshd: ") :].split(" [listener]")[0].split()
    return [word for word in argv[1:] if word not in PLAIN_ARGS]


def daemon_options(pid):
    """command_line_options() of process ``pid`` (``[]`` when it cannot be read)."""
    if not pid or pid == "0":
        return []
    try:
        with open(os.path.join(PROC, str(pid), "cmdline"), "rb") as handle:
            argv = handle.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return []
    return command_line_options([word for word in argv if word])


DEFAULTS_FILE = "/etc/default/ssh"


def sshd_opts(text):
    """The value of ``SSHD_OPTS=`` in Debian's /etc/default/ssh (the last assignment; quotes removed)."""
    value = ""
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        if line.startswith("SSHD_OPTS="):
            value = line[len("SSHD_OPTS=") :].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
    return value.strip()


def running_state(module, unit, config, config_text, settings, *, user):
    """RV(running): whether the daemon runs the configuration on disk - by content and load time (the
    C(_loaded) engine), and by what the running daemon offers (live_offer)."""
    drop_ins = included_files(config_text)
    paths = [config, *drop_ins, *{os.path.dirname(path) for path in drop_ins}, *settings.get("hostkey", [])]
    state = inspect(module, unit, paths)
    loaded_at = state["load"]["at"] if state["load"] else None
    reasons = list(state["stale"])
    offered = None
    options = []
    configured = sshd_opts(read_text(DEFAULTS_FILE))
    if configured:
        reasons.append(f"SSHD_OPTS in {DEFAULTS_FILE} gives sshd options that override its files: {configured}")
    if state["load"] is not None:
        options = daemon_options(state["show"].get("MainPID"))
        if options:
            reasons.append(
                f"the running sshd was started with options that override its files: {' '.join(options)}"
                f" (SSHD_OPTS in /etc/default/ssh, or the ExecStart of {unit}: systemctl cat {unit})"
            )
        offered, differences = live_offer(module, module.params["sshd"], config, settings, user)
        reasons.extend(differences)
    return {
        "loaded_at": loaded_at,
        "stale": bool(reasons),
        "reasons": reasons,
        "offered": offered,
        "options": options,
        "sshd_opts": configured,
    }


def firewall_state(port, current_ports, client_addr):
    """RV(firewall) for a port sshd is about to listen on, decided by the ufw role's own engine."""
    state = {"port": port, "current_ports": current_ports, "active": False, "allowed": True}
    if str(port) in current_ports:
        return state
    conf, rules, rules6, defaults = (read_text(path) for path in UFW_FILES)
    if parse_defaults(conf).get("ENABLED", "no").lower() != "yes":
        return state
    state["active"] = True
    parsed = parse_defaults(defaults)
    try:
        entries = parse_rules_file(rules, False) + parse_rules_file(rules6, True)
        # Without a known client, only a rule that lets anyone in counts (an address of TEST-NET-1).
        allowed, _message = check_guard(
            entries,
            incoming_policy(parsed),
            {"port": port, "source": client_addr or "192.0.2.1"},
            ipv6_enabled=parsed.get("IPV6", "yes").lower() == "yes",
        )
    except (UfwRuleError, ValueError):
        allowed = False
    state["allowed"] = allowed
    return state


def match_violations(module, sshd, config, config_text, *, base, enforce):
    """Evaluate every Match context of the configuration against ``enforce``."""
    # The Match lines of included files first (a report shortens a long list: the file to remove leads),
    # then the file's own, then the global context.
    contexts = []
    sources = [(path, read_text(path)) for path in included_files(config_text)] + [("", config_text)]
    for source, text in sources:
        for match in parse_match_lines(text):
            context = match_context(match["criteria"], base, group_member)
            where = f"{match['line']} ({source})" if source else match["line"]
            if context is not None:
                contexts.append((where, context))
    contexts.append(("the global context", base))
    violations = []
    for where, context in contexts:
        try:
            spec = connection_spec(context)
        except ValueError:
            continue
        _command, rc, out, err = sshd_test(module, sshd, config, spec)
        if rc != 0:
            violations.append(f"{where}: sshd -T failed: {(err or out).strip()}")
            continue
        for keyword, effective, wanted in enforced_differences(parse_sshd_config_dump(out), enforce):
            violations.append(f"{where}: {keyword} is {effective or 'unset'}, expected {wanted}")
    return violations


def account_access(settings, name, connection, *, auth=None, session=False, current=None):
    """check_access() plus the key and session rules, for one account."""
    account = lookup_account(name)
    keys = {}
    if account["exists"]:
        try:
            paths = authorized_keys_paths(settings, account["name"], account["home"], account["uid"])
        except ValueError:
            paths = []  # check_access() reports the bad AuthorizedKeysFile
        keys = read_keys(paths)
    addr = connection.get("addr") or "127.0.0.1"
    counts = {path: len(found) for path, found in keys.items()}
    access = check_access(settings, account, connection.get("host") or addr, addr, counts)
    if account["exists"]:
        all_keys = [key for found in keys.values() for key in found]
        who = f"account '{name}'"
        if session:
            extra = session_reasons(who, settings, auth, all_keys, current) + listen_reasons(
                settings, connection.get("laddr")
            )
        else:
            extra = usable_key_reasons(who, settings, all_keys)
        if extra:
            access["reasons"].extend(extra)
            access["allowed"] = False
    return access


ARGUMENT_SPEC = {
    "config": {"type": "path", "default": "/etc/ssh/sshd_config"},
    "content": {"type": "str"},
    "sshd": {"type": "path", "default": "/usr/sbin/sshd"},
    "connection": {
        "type": "dict",
        "options": {
            "user": {"type": "str", "required": True},
            "host": {"type": "str"},
            "addr": {"type": "str", "default": "127.0.0.1"},
            "laddr": {"type": "str"},
            "lport": {"type": "int"},
        },
    },
    "check_access": {"type": "bool"},
    "users": {"type": "list", "elements": "str", "default": []},
    "session": {
        "type": "dict",
        "options": {
            "addr": {"type": "str", "required": True},
            "port": {"type": "int", "required": True},
            "auth_info": {"type": "str"},
        },
    },
    "enforce": {"type": "dict", "default": {}},
    "firewall_port": {"type": "int"},
    "running": {"type": "bool", "default": False},
    "unit": {"type": "str", "default": "ssh.service"},
    "missing_ok": {"type": "bool", "default": False},
}


def ensure_privsep_dir(module):
    """Create /run/sshd outside check mode; returns ``(created, still_missing)``."""
    if os.path.isdir(PRIVSEP_DIR):
        return False, False
    if module.check_mode:
        return False, True
    try:
        os.makedirs(PRIVSEP_DIR, mode=0o755)
        os.chmod(PRIVSEP_DIR, 0o755)
    except OSError as exc:
        module.fail_json(msg=f"cannot create privilege separation directory {PRIVSEP_DIR}: {exc}")
    return True, False


def evaluate(module, spec):
    """``sshd -T`` of the config or the candidate, plus the Match-context check; fails on an invalid file."""
    params = module.params
    config, content = params["config"], params["content"]
    evaluated = config
    if content is not None:
        fd, evaluated = tempfile.mkstemp(prefix="bulwark-sshd_config.", dir=module.tmpdir)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
    try:
        command, rc, out, err = sshd_test(module, params["sshd"], evaluated, spec)
        if rc != 0:
            what = "the candidate configuration" if content is not None else config
            why = (err or out).strip() or f"exit code {rc}"
            msg = f"sshd -T rejected {what}: {why}"
            module.fail_json(msg=msg, rc=rc, stdout=out, stderr=err, command=command)
        violations = None
        if params["enforce"]:
            text = content if content is not None else read_text(config)
            violations = match_violations(
                module, params["sshd"], evaluated, text, base=params["connection"], enforce=params["enforce"]
            )
    finally:
        if content is not None:
            os.unlink(evaluated)
    return command, parse_sshd_config_dump(out), violations


def session_auth(module, session):
    """How the session logged in: sshd's ExposeAuthInfo record, else its own processes' journal lines."""
    if session.get("auth_info"):
        found = parse_auth_info(read_text(session["auth_info"]))
        if found:
            return found
    messages = [message for _when, message in journal_by_pid(module, ancestor_pids())]
    found = find_session_auth(messages, session["addr"], session["port"])
    if found:
        found["source"] = "journal"
    return found


def session_current(module, connection):
    """The installed configuration's settings for the session's connection, or None."""
    params = module.params
    if params["content"] is None or not os.path.exists(params["config"]):
        return None
    _command, rc, out, _err = sshd_test(module, params["sshd"], params["config"], connection_spec(connection))
    return parse_sshd_config_dump(out) if rc == 0 else None


def host_state(module, settings, result):
    """RV(firewall) and RV(running), both about the installed configuration, not the candidate."""
    params = module.params
    current = settings
    if params["content"] is not None:
        _command, rc, out, _err = sshd_test(module, params["sshd"], params["config"])
        current = parse_sshd_config_dump(out) if rc == 0 else {}
    if params["firewall_port"] is not None:
        client = params["session"]["addr"] if params["session"] else None
        result["firewall"] = firewall_state(params["firewall_port"], current.get("port", []), client)
    if params["running"]:
        config = params["config"]
        user = (params["connection"] or {}).get("user") or "root"
        result["running"] = running_state(module, params["unit"], config, read_text(config), current, user=user)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    connection = params["connection"]
    want_access = params["check_access"]
    if want_access is None:
        want_access = connection is not None
    if want_access and connection is None:
        module.fail_json(msg="check_access=true needs connection (at least connection.user)")
    if (params["session"] or params["users"] or params["enforce"]) and connection is None:
        module.fail_json(msg="session, users and enforce need connection (at least connection.user)")
    try:
        spec = connection_spec(connection)
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    if not os.path.exists(params["sshd"]):
        if params["missing_ok"]:
            module.exit_json(changed=False, installed=False)
        module.fail_json(msg=f"sshd binary {params['sshd']} does not exist")

    created, privsep_missing = ensure_privsep_dir(module)
    if privsep_missing:
        # Check mode: sshd -T cannot evaluate anything without the directory, and the running sshd
        # refuses new connections; the drift is the directory a run creates.
        module.exit_json(
            changed=True,
            installed=True,
            privsep_missing=True,
            settings={},
            msg=f"privilege separation directory {PRIVSEP_DIR} is missing: sshd refuses new connections and sshd -T"
            " cannot evaluate any configuration until it exists; a run without --check creates it",
        )
    command, settings, violations = evaluate(module, spec)
    version = read_version(module, params["sshd"])
    parsed = parse_openssh_version(version) if version else None
    result = {
        "changed": created,
        "installed": True,
        "settings": settings,
        "version": version,
        "version_number": f"{parsed[0]}.{parsed[1]}" if parsed else None,
        "command": command,
        "ansible_facts": {"sshd_effective_config": settings},
    }
    if violations is not None:
        result["violations"] = violations

    auth = current = None
    if params["session"]:
        auth = result["auth"] = session_auth(module, params["session"])
        current = session_current(module, connection) if auth is None else None
    if want_access:
        result["access"] = account_access(
            settings, connection["user"], connection, auth=auth, session=bool(params["session"]), current=current
        )
    if params["users"]:
        result["accounts"] = [account_access(settings, name, connection) for name in params["users"]]
    if params["firewall_port"] is not None or params["running"]:
        host_state(module, settings, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
