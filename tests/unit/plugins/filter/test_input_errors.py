# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

import pytest

from ansible_collections.bulwark.hardening.plugins.filter.input_errors import input_errors_filter, load_specs
from ansible_collections.bulwark.hardening.plugins.module_utils._inputs import (
    declared_options,
    input_errors,
    matches_every_package,
    origin_matches_everything,
    unknown_names,
)

OPTIONS = declared_options(load_specs())


def _defaults():
    """Every role's defaults as the play sees them (templated defaults rendered by hand)."""
    values = {name: copy.deepcopy(spec.get("default")) for name, spec in OPTIONS.items() if "default" in spec}
    values.update(
        {
            "apache_hardening_server_name": "web1",
        }
    )
    return values


def errors_with(**overrides):
    values = _defaults()
    values.update(overrides)
    return input_errors(values, OPTIONS)


def test_every_role_declares_options():
    for name in (
        "ssh_hardening_allow_users",
        "ufw_rules",
        "bulwark_services",
        "immutable_bracket",
        "common_apt_cache_valid_time",
    ):
        assert name in OPTIONS


def test_options_are_declared_once_under_main_and_checked_for_every_entry_point():
    # ansible-doc -t role lists each option once: only the main entry point declares options.
    # The other entry points (tasks_from: preflight, lock, unlock) validate nothing themselves;
    # the input check, which runs first for each of them, reads main's options.
    for spec in load_specs():
        entry_points = spec["argument_specs"]
        assert entry_points["main"]["options"]
        assert {name for name, entry in entry_points.items() if entry.get("options")} == {"main"}
    assert input_errors({"ufw_default_incoming": "drop"}, OPTIONS) == [
        "ufw_default_incoming must be one of allow, deny, reject, got 'drop'"
    ]


def test_the_defaults_pass():
    assert errors_with() == []


def test_facts_and_playbook_variables_are_not_typos():
    values = dict(
        _defaults(),
        ufw_managed=True,
        bulwark_host={},
        bulwark_preflight_done=True,
        bulwark_hosts="web",
        unattended_upgrades_status={},
    )
    assert input_errors(values, OPTIONS) == []


@pytest.mark.parametrize(
    ("name", "closest"),
    [
        ("ssh_hardening_alow_users", "ssh_hardening_allow_users"),
        ("ufw_rule", "ufw_rules"),
        ("bulwark_service", "bulwark_services"),
        ("php_hardening_session_nam", "php_hardening_session_name"),
        ("fail2ban_jail", "fail2ban_jails"),
    ],
)
def test_a_typo_is_refused_with_the_closest_name(name, closest):
    assert errors_with(**{name: []}) == [
        f"{name} is not a variable of any bulwark.hardening role (did you mean {closest}?)"
    ]


def test_a_name_without_a_close_match_says_no_role_reads_it():
    assert unknown_names(["ufw_zzzzzzzzzzzzzzzzzz"], OPTIONS) == [
        "ufw_zzzzzzzzzzzzzzzzzz is not a variable of any bulwark.hardening role (no role of bulwark.hardening reads it)"
    ]


def test_names_of_other_prefixes_are_not_ours():
    assert unknown_names(["nginx_port", "sshd_port", "_ufw_plan"], OPTIONS) == []


LIST_OPTIONS = sorted(name for name, spec in OPTIONS.items() if spec.get("type") == "list")


@pytest.mark.parametrize("name", LIST_OPTIONS)
def test_every_list_variable_given_as_a_string_is_refused(name):
    assert errors_with(**{name: "abc"}) == [
        f"{name} must be a list, got the string 'abc' (write [\"abc\"] for one item)"
    ]


@pytest.mark.parametrize("name", sorted(name for name, spec in OPTIONS.items() if spec.get("type") == "dict"))
def test_every_dict_variable_given_as_a_string_is_refused(name):
    errors = errors_with(**{name: "a=1"})
    assert errors == [f"{name} must be a mapping, got the string 'a=1'"]


def test_list_items_of_the_wrong_shape():
    assert errors_with(ufw_rules=["allow 80"]) == ["ufw_rules[0] must be a mapping, got the string 'allow 80'"]
    assert errors_with(ssh_hardening_allow_users=[["eve"]]) == [
        "ssh_hardening_allow_users[0] must be a single value, got the list ['eve']"
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("apache_hardening_timeout", -1, "apache_hardening_timeout must be 1-3600 (seconds), got -1"),
        ("apache_hardening_timeout", "0", "apache_hardening_timeout must be 1-3600 (seconds), got '0'"),
        ("bulwark_ssh_port", 70000, "bulwark_ssh_port must be 1-65535 (a TCP port), got 70000"),
        (
            "ssh_hardening_max_sessions",
            0,
            "ssh_hardening_max_sessions must be 1 or more (sessions per connection; 0 would refuse every shell), got 0",
        ),
        ("php_hardening_max_input_vars", 0, "php_hardening_max_input_vars must be 1 or more (variables), got 0"),
        (
            "apache_hardening_limit_request_body",
            2147483648,
            "apache_hardening_limit_request_body must be 0-2147483647 (bytes, as Apache allows; 0 = unlimited), "
            "got 2147483648",
        ),
        (
            "unattended_upgrades_update_interval",
            -1,
            "unattended_upgrades_update_interval must be 0 or more (days; 0 = off), got -1",
        ),
    ],
)
def test_numbers_out_of_range_are_refused(name, value, message):
    assert errors_with(**{name: value}) == [message]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("apache_hardening_timeout", 1),
        ("apache_hardening_timeout", "3600"),
        ("php_hardening_max_input_time", -1),
        ("bulwark_ssh_port", "2222"),
    ],
)
def test_numbers_in_range_pass(name, value):
    assert errors_with(**{name: value}) == []


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("bulwark_ssh_port", "abc", "bulwark_ssh_port must be a whole number, got the string 'abc'"),
        ("bulwark_ssh_port", True, "bulwark_ssh_port must be a whole number, got the boolean True"),
        ("ufw_ipv6", "maybe", "ufw_ipv6 must be true or false, got the string 'maybe'"),
        ("fail2ban_bantime_factor", "x", "fail2ban_bantime_factor must be a number, got the string 'x'"),
        ("ssh_hardening_banner", ["a"], "ssh_hardening_banner must be a single value, got the list ['a']"),
    ],
)
def test_scalars_of_the_wrong_type_are_refused(name, value, message):
    assert errors_with(**{name: value}) == [message]


@pytest.mark.parametrize(
    "pattern",
    ["origin=*", "o=*", "o=*,a=*", "origin=**", "site=*", " codename = * ", "o=?*"],
)
def test_origin_patterns_matching_every_origin(pattern):
    assert origin_matches_everything(pattern)


@pytest.mark.parametrize(
    "pattern",
    ["", "origin=Debian", "origin=*,codename=${distro_codename}", "o=deb.sury.org", "o=*,l=Debian", "origin=", "*"],
)
def test_origin_patterns_that_name_something(pattern):
    assert not origin_matches_everything(pattern)


def test_an_origin_matching_everything_is_refused_by_name_and_index():
    errors = errors_with(unattended_upgrades_origins_extra=["origin=deb.sury.org", "origin=*"])
    assert len(errors) == 1
    assert errors[0].startswith("unattended_upgrades_origins_extra[1] 'origin=*' matches every origin")
    assert errors_with(unattended_upgrades_security_origins_extra=["o=*,a=*"])[0].startswith(
        "unattended_upgrades_security_origins_extra[0] 'o=*,a=*' matches every origin"
    )


@pytest.mark.parametrize("pattern", ["*", "**", "?*", "*[a-z0-9+]*", "[!~]*"])
def test_shell_patterns_matching_every_package(pattern):
    assert matches_every_package(pattern)


@pytest.mark.parametrize("pattern", ["cups*", "xserver-xorg*", "telnet", "lib*", "*-*", "?"])
def test_shell_patterns_that_name_packages(pattern):
    assert not matches_every_package(pattern)


@pytest.mark.parametrize("pattern", ["", ".*", ".", "^", "[a-z0-9]"])
def test_regexes_matching_every_package(pattern):
    assert matches_every_package(pattern, regex=True)


@pytest.mark.parametrize("pattern", ["linux-", "^libc6$", "(", "php.*"])
def test_regexes_that_name_packages(pattern):
    assert not matches_every_package(pattern, regex=True)


@pytest.mark.parametrize(
    ("name", "pattern", "effect"),
    [
        ("minimal_packages_blocklist_extra", "*", "so every package would be purged"),
        ("minimal_packages_keep", "*", "so no package would ever be purged"),
    ],
)
def test_a_package_pattern_matching_everything_is_refused(name, pattern, effect):
    assert errors_with(**{name: [pattern]}) == [
        f"{name}[0] {pattern!r} matches every package, {effect}; name the packages"
    ]


def test_an_upgrade_blocklist_matching_everything_is_refused():
    errors = errors_with(unattended_upgrades_package_blocklist=["linux-", ".*"])
    assert len(errors) == 1 and errors[0].startswith(
        "unattended_upgrades_package_blocklist[1] '.*' matches every package"
    )


@pytest.mark.parametrize("value", ["PHPSESSID", "phpsessid"])
def test_php_default_session_name_is_refused(value):
    errors = errors_with(php_hardening_session_name=value)
    assert len(errors) == 1 and errors[0].startswith(f"php_hardening_session_name must not be PHP's default {value!r}")


def test_control_characters_are_refused_except_in_the_banner():
    assert errors_with(unattended_upgrades_automatic_reboot_time="02:00\n") == [
        "unattended_upgrades_automatic_reboot_time contains the control character '\\n'; values are single lines"
    ]
    assert errors_with(php_hardening_fpm_pools={"www": {"open_basedir": ["/srv\n"]}}) == [
        "php_hardening_fpm_pools.www.open_basedir[0] contains the control character '\\n'; values are single lines"
    ]
    assert errors_with(ssh_hardening_banner="Authorised\nusers only") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("ssh_hardening_port", "bulwark_ssh_port"),
        ("ufw_ssh_port", "bulwark_ssh_port"),
        ("ufw_services", "bulwark_services"),
        ("fail2ban_services", "bulwark_services"),
    ],
)
def test_a_per_role_alias_of_the_host_model_is_refused_naming_the_one_name(old, new):
    # The aliases are gone: a playbook that still sets one is told which variable replaced it,
    # instead of having the value ignored.
    assert errors_with(**{old: 2222 if "port" in old else {}}) == [
        f"{old} is now {new}, which every role reads: set that instead"
    ]


def test_a_bad_ssh_port_is_reported_under_its_one_name():
    assert errors_with(bulwark_ssh_port=0) == ["bulwark_ssh_port must be 1-65535 (a TCP port), got 0"]


def test_the_filter_refuses_a_non_mapping():
    with pytest.raises(Exception, match="expects a mapping"):
        input_errors_filter(["ufw_rules"])


def test_the_filter_reads_the_collection_specs():
    assert input_errors_filter({"ssh_hardening_alow_users": []}) == [
        "ssh_hardening_alow_users is not a variable of any bulwark.hardening role "
        "(did you mean ssh_hardening_allow_users?)"
    ]


@pytest.mark.parametrize(
    ("pools", "message"),
    [
        (
            {"www": "/srv"},
            "php_hardening_fpm_pools.www must be a mapping with open_basedir (a list of directories), got '/srv'",
        ),
        (
            {"www": {}},
            "php_hardening_fpm_pools.www must be a mapping with open_basedir (a list of directories), got {}",
        ),
        (
            {"www": {"open_basedir": "/srv"}},
            "php_hardening_fpm_pools.www.open_basedir must be a non-empty list of directories, got '/srv'",
        ),
        (
            {"www": {"open_basedir": ["srv", "/a:/b"]}},
            "php_hardening_fpm_pools.www.open_basedir entries must be absolute paths without ':', got ['srv', '/a:/b']",
        ),
    ],
)
def test_fpm_pools_are_checked_before_anything_is_written(pools, message):
    assert errors_with(php_hardening_fpm_pools=pools) == [message]


def test_fpm_pool_with_directories_passes():
    assert errors_with(php_hardening_fpm_pools={"www": {"open_basedir": ["/srv/www", "/tmp"]}}) == []


def test_php_sizes_and_ini_values():
    assert errors_with(php_hardening_memory_limit="lots") == [
        "php_hardening_memory_limit: 'lots' is not a PHP size (a number with an optional K, M or G suffix)"
    ]
    assert len(errors_with(php_hardening_ini_extra={"session.save_path": 'a"b'})) == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "apache_hardening_tls_profile",
            "old",
            "apache_hardening_tls_profile must be one of intermediate, modern, got 'old'",
        ),
        ("ufw_default_incoming", True, "ufw_default_incoming must be one of allow, deny, reject, got True"),
        (
            "php_hardening_sapis",
            ["apache2", "cgi"],
            "php_hardening_sapis[1] must be one of apache2, fpm, cli, got 'cgi'",
        ),
    ],
)
def test_values_outside_the_choices_are_refused(name, value, message):
    assert errors_with(**{name: value}) == [message]


@pytest.mark.parametrize(("name", "value"), [("ufw_logging", False), ("ssh_hardening_permit_root_login", False)])
def test_an_unquoted_yaml_off_or_no_is_the_one_choice_it_means(name, value):
    assert errors_with(**{name: value}) == []


def test_keys_inside_list_items_are_checked():
    trees = [{"path": "/srv/app", "writeable": ["log"]}, {"owner": "www-data"}, {"path": "/srv/b", "exclude": "x"}]
    assert errors_with(immutable_trees=trees) == [
        "immutable_trees[0] has the unknown key writeable (did you mean writable?)",
        "immutable_trees[1] needs path",
        "immutable_trees[2].exclude must be a list, got the string 'x' (write [\"x\"] for one item)",
    ]


def test_keys_of_a_mapping_are_checked():
    assert errors_with(ufw_guard_connection={"port": 22, "sorce": "192.0.2.1"}) == [
        "ufw_guard_connection has the unknown key sorce (did you mean source?)"
    ]
    assert errors_with(ufw_guard_connection={"port": 22, "source": "192.0.2.1", "proto": "sctp"}) == [
        "ufw_guard_connection.proto must be one of tcp, udp, got 'sctp'"
    ]


def test_file_modes_are_checked_before_the_lock_step():
    assert errors_with(immutable_file_mode="0888") == [
        "immutable_file_mode must be an octal string such as '0440', not '0888'"
    ]
    assert errors_with(immutable_trees=[{"path": "/srv/app", "dir_mode": "17777"}]) == [
        "immutable_trees[0].dir_mode must be between 0000 and 7777, not '17777'"
    ]
    assert errors_with(immutable_dir_mode=0o550, immutable_trees=[{"path": "/srv/app", "file_mode": "0440"}]) == []


def test_a_value_that_would_break_the_php_ini_line_is_refused_by_name():
    errors = errors_with(php_hardening_open_basedir=['/var/www";evil=1'])
    assert len(errors) == 1
    assert errors[0].startswith("php_hardening_open_basedir[0]: '/var/www\";evil=1' contains '\"'")
    assert errors_with(php_hardening_disable_functions=["exec", "a,b"]) == [
        "php_hardening_disable_functions[1]: 'a,b' must be non-empty and must not contain ','"
    ]


def test_the_host_declaration_is_refused_first_of_all_by_the_host_models_own_rules():
    # The same code that builds the host model, run by the input check before anything else.
    assert errors_with(bulwark_services={"web": {"ports": "80"}}) == [
        "bulwark_services.web.ports must be a non-empty list of port numbers, got '80'"
    ]
    assert errors_with(bulwark_closed_ports=["8080/sctp"]) == [
        "bulwark_closed_ports[0] must be a port number 1-65535, optionally with /tcp or /udp, got '8080/sctp'"
    ]
    # A wrong type is reported once, by the type check.
    assert errors_with(bulwark_services="http") == ["bulwark_services must be a mapping, got the string 'http'"]


@pytest.mark.parametrize(
    ("allowed", "message"),
    [
        ({"world_writable": ["/"]}, "os_baseline_audit_allowed['world_writable'][0] '/' matches every path"),
        ({"suid_sgid": ["/usr/bin/x", "/**"]}, "os_baseline_audit_allowed['suid_sgid'][1] '/**' matches every path"),
        (
            {"world_writeable": ["/srv/drop"]},
            "os_baseline_audit_allowed: 'world_writeable' is not a check of the audit",
        ),
        ({"unowned": "/srv/drop"}, "os_baseline_audit_allowed['unowned'] must be a list of paths or patterns"),
    ],
)
def test_an_audit_allowance_that_hides_everything_or_names_no_check_is_refused(allowed, message):
    errors = errors_with(os_baseline_audit_allowed=allowed)
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert errors_with(os_baseline_audit_allowed={"world_writable": ["/srv/drop"], "accounts": ["svc*"]}) == []
