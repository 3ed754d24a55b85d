"""Drift injections for the ufw role's controls (see extensions/molecule/drift_matrix.py).

In the site scenario ufw is active with the default policies (incoming deny), IPv6 on, SSH limited
and port 80 open. ufw is no daemon: what runs is the kernel's rule set, judged as UFW-LIVE against
ufw's files (policies, IPv6, user chains, the chains before.rules and after.rules fill, and no rule
inserted by hand into INPUT that accepts traffic). The files themselves are UFW-DEFAULTS
(/etc/default/ufw) and UFW-RULESET (the rules, ufw.conf's ENABLED and LOGLEVEL, and the framework
files before.rules and after.rules, judged against the package's copies). Port 8081 stands for the
port an intruder or a hurried admin opens.
"""

from drift_matrix import Injection, NotInjectable

DEFAULTS = "/etc/default/ufw"
STOCK = "/usr/share/ufw/iptables"
# A rule accepting port 8081, written where ufw loads it ahead of the declared rules.
BEFORE_LINE = "-A ufw-before-input -p tcp --dport 8081 -j ACCEPT"
BEFORE6_LINE = "-A ufw6-before-input -p tcp --dport 8081 -j ACCEPT"


def add_after_required(path: str, line: str) -> str:
    """Shell: insert *line* after the '# End required lines' marker of a ufw framework file, then reload."""
    return f"sed -i '/^# End required lines/a {line}' {path} && grep -qx -- '{line}' {path} && ufw reload >/dev/null"


INJECTIONS = [
    # ------------------------------------------------------------------ UFW-DEFAULTS
    Injection(
        control="UFW-DEFAULTS",
        via="file",
        what='/etc/default/ufw edited in place: DEFAULT_INPUT_POLICY="ACCEPT" (ufw not reloaded)',
        inject=f"sed -i 's/^DEFAULT_INPUT_POLICY=.*/DEFAULT_INPUT_POLICY=\"ACCEPT\"/' {DEFAULTS}"
        f" && grep -q '^DEFAULT_INPUT_POLICY=\"ACCEPT\"' {DEFAULTS}",
        # ufw_rules reads the policy from the file (default incoming: allow); the kernel's INPUT policy is
        # still DROP, which is not what the file says.
        expect=("UFW-RULESET", "UFW-LIVE"),
        scenarios=("site", "ufw"),
    ),
    Injection(
        control="UFW-DEFAULTS",
        via="file",
        what="/etc/default/ufw edited in place: IPV6=no (ufw not reloaded; its next start drops all IPv6 traffic)",
        inject=f"sed -i 's/^IPV6=.*/IPV6=no/' {DEFAULTS} && grep -q '^IPV6=no$' {DEFAULTS}",
        # The kernel still has ufw's IPv6 chains, which IPV6=no says must not be there.
        expect=("UFW-LIVE",),
        scenarios=("site", "ufw"),
    ),
    NotInjectable(
        control="UFW-DEFAULTS",
        via="override",
        why=(
            "ufw (the command and ufw-init) reads its policies and IPV6 from /etc/default/ufw alone; no drop-in "
            "directory or later file exists. A rule in before.rules that accepts what the policy drops is judged "
            "as UFW-RULESET (injected there)."
        ),
    ),
    NotInjectable(
        control="UFW-DEFAULTS",
        via="daemon",
        why=(
            "ufw is no daemon: the kernel's live policies are compared with this file as UFW-LIVE (injected there: "
            "iptables -P INPUT ACCEPT)."
        ),
    ),
    # ------------------------------------------------------------------ UFW-PACKAGE
    Injection(
        control="UFW-PACKAGE",
        via="file",
        what="the ufw package removed (apt-get remove; its files and the kernel's chains stay, ufw is inactive)",
        inject="DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ufw >/dev/null && ! test -x /usr/sbin/ufw",
        # Without ufw, `ufw status` does not say active: the rule set's control names it too.
        expect=("UFW-RULESET",),
        # ufw inactive: the live firewall is no longer compared (enabling it is UFW-RULESET's business).
        alone=True,
        scenarios=("site", "ufw"),
    ),
    NotInjectable(
        control="UFW-PACKAGE",
        via="override",
        why="dpkg's status database is the only place a package is installed; no higher-priority place exists.",
    ),
    NotInjectable(
        control="UFW-PACKAGE",
        via="daemon",
        why=(
            "A package has no running state, and ufw is no daemon; the live firewall is UFW-LIVE and whether ufw is "
            "active is UFW-RULESET, both injected."
        ),
    ),
    # ------------------------------------------------------------------ UFW-RULESET
    Injection(
        control="UFW-RULESET",
        via="file",
        what="a rule added by hand: ufw allow 8081/tcp (user.rules and the kernel agree)",
        inject="ufw allow 8081/tcp >/dev/null && grep -q 'dport 8081' /etc/ufw/user.rules",
        scenarios=("site", "ufw"),
    ),
    Injection(
        control="UFW-RULESET",
        via="override",
        what=f"/etc/ufw/before.rules accepts port 8081 ahead of the declared rules ({BEFORE_LINE}), ufw reloaded",
        inject=add_after_required("/etc/ufw/before.rules", BEFORE_LINE),
        # The role never edits ufw's framework files: the repair refuses, naming the file and line.
        undo=f"cp {STOCK}/before.rules /etc/ufw/before.rules",
        scenarios=("site", "ufw"),
    ),
    Injection(
        control="UFW-RULESET",
        via="override",
        what=f"/etc/ufw/before6.rules accepts port 8081 over IPv6 ({BEFORE6_LINE}), ufw reloaded",
        inject=add_after_required("/etc/ufw/before6.rules", BEFORE6_LINE),
        undo=f"cp {STOCK}/before6.rules /etc/ufw/before6.rules",
        scenarios=("site", "ufw"),
    ),
    Injection(
        control="UFW-RULESET",
        via="daemon",
        what="the firewall stopped (systemctl stop ufw flushes it; ufw.conf still says ENABLED=yes)",
        inject="systemctl stop ufw && ! ufw status | grep -q 'Status: active'",
        # ufw inactive: the live firewall is no longer compared (enabling it is UFW-RULESET's business).
        alone=True,
        scenarios=("site", "ufw"),
    ),
    # ------------------------------------------------------------------ UFW-LIVE
    NotInjectable(
        control="UFW-LIVE",
        via="file",
        why=(
            "This control is the kernel's rule set, which has no file; ufw's files are UFW-DEFAULTS and UFW-RULESET, "
            "whose file injections expect UFW-LIVE too where the kernel is left behind."
        ),
    ),
    NotInjectable(
        control="UFW-LIVE",
        via="override",
        why=(
            "The places ufw loads ahead of its rules (before.rules, after.rules and their IPv6 twins) are files, "
            "judged as UFW-RULESET (injected there); nothing else loads rules into ufw's chains."
        ),
    ),
    Injection(
        control="UFW-LIVE",
        via="daemon",
        what="an ACCEPT for port 8081 inserted by hand at the top of the kernel's INPUT chain (iptables -I INPUT 1)",
        inject="iptables -I INPUT 1 -p tcp --dport 8081 -j ACCEPT && iptables -S INPUT | grep -q 'dport 8081'",
        scenarios=("site", "ufw"),
    ),
    Injection(
        control="UFW-LIVE",
        via="daemon",
        what="the kernel's INPUT policy set to ACCEPT by hand (iptables -P INPUT ACCEPT); /etc/default/ufw untouched",
        inject="iptables -P INPUT ACCEPT && iptables -S INPUT | grep -qx -- '-P INPUT ACCEPT'",
        scenarios=("site", "ufw"),
    ),
    Injection(
        control="UFW-LIVE",
        via="daemon",
        what=(
            "a lost reload: ufw allow 8083/tcp, then user.rules and user6.rules put back with their old "
            "modification times (cp -p); the kernel still accepts 8083"
        ),
        inject=(
            "cp -p /etc/ufw/user.rules /root/user.rules.kept && cp -p /etc/ufw/user6.rules /root/user6.rules.kept"
            " && ufw allow 8083/tcp >/dev/null && cp -p /root/user.rules.kept /etc/ufw/user.rules"
            " && cp -p /root/user6.rules.kept /etc/ufw/user6.rules && iptables -S ufw-user-input | grep -q 'dport 8083'"
        ),
        scenarios=("site", "ufw"),
    ),
]
