"""The hardened web host is a VM with its own kernel, and it survives a real reboot: afterwards the
website answers from the test controller through the VM's forwarded port, and the admin logs in by
key over a fresh SSH connection and may use sudo."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml
from playbook_run import run_playbook, scenario_file

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
NAME = f"kernel-{os.environ.get('BULWARK_VM_RELEASE', 'bookworm')}"
testinfra_hosts = [f"ansible://{NAME}?ansible_inventory={INVENTORY}"]


@pytest.fixture(scope="module")
def vm():
    """The VM's connection data from Molecule's instance config (written by shared/vm-create.yml)."""
    config = yaml.safe_load(Path(os.environ["MOLECULE_INSTANCE_CONFIG"]).read_text())
    return next(item for item in config if item["instance"] == NAME)


def boot_id(host) -> str:
    return host.file("/proc/sys/kernel/random/boot_id").content_string.strip()


@pytest.fixture(scope="module")
def rebooted(host):
    """Reboot the hardened VM once (ansible.builtin.reboot); the boot IDs before and after."""
    before = boot_id(host)
    result = run_playbook(scenario_file("reboot.yml"), timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return before, boot_id(host)


def fresh_login(vm, command: str) -> subprocess.CompletedProcess:
    """A new SSH connection from the controller (no shared master), as the admin with the test key."""
    argv = [
        "ssh", "-i", vm["identity_file"], "-p", str(vm["port"]),
        "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20",
        f"{vm['user']}@{vm['address']}", command,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_the_host_is_a_virtual_machine(host):
    # A container would say "docker"; the kernel here is the guest's own.
    assert host.run("systemd-detect-virt").stdout.strip() in ("qemu", "kvm")


def test_reboot_brings_the_host_back(rebooted):
    before, after = rebooted
    assert before != after, "the boot ID did not change: no reboot happened"


def test_website_answers_from_the_controller_after_the_reboot(rebooted, vm):
    with urllib.request.urlopen(f"http://{vm['address']}:{vm['http_port']}/", timeout=30) as response:
        status, body = response.status, response.read().decode()
    assert status == 200
    assert "site up on apache2handler" in body, body[:300]


def test_admin_logs_in_by_key_and_uses_sudo_after_the_reboot(rebooted, vm):
    result = fresh_login(vm, "id -un && sudo -n true && echo sudo-ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [vm["user"], "sudo-ok"]


def test_services_are_up_after_the_reboot(rebooted, host):
    assert "Status: active" in host.check_output("ufw status")
    for service in ("ssh", "apache2", "ufw", "fail2ban"):
        assert host.service(service).is_running, service


# fail2ban still bans on the hardened kernel (its sysctl values, modules, AppArmor, ufw's nftables): the
# controller reaches the VM through QEMU's user network from 10.0.2.2, which a ban would lock out, so the
# guesser is a network namespace inside the VM, behind a veth pair. It is gone before the next test: a
# veth on the host makes os_baseline's forwarding guard speak.
ATTACKER, VICTIM, GUESSER = "bulwark-att", "192.0.2.1", "192.0.2.66"
IN_NETNS = f"ip netns exec {ATTACKER} "
NETNS_UP = (
    f"ip netns add {ATTACKER} && ip link add bw-vic type veth peer name bw-att"
    f" && ip link set bw-att netns {ATTACKER} && ip addr add {VICTIM}/24 dev bw-vic && ip link set bw-vic up"
    f" && {IN_NETNS}ip addr add {GUESSER}/24 dev bw-att && {IN_NETNS}ip link set bw-att up"
    f" && {IN_NETNS}ip link set lo up"
)
NETNS_DOWN = f"ip link del bw-vic; ip netns del {ATTACKER}; fail2ban-client set sshd unbanip {GUESSER}"
# A refused guess makes ssh exit 255, which testinfra's own SSH connection would take for its failure.
GUESS = (
    IN_NETNS + "timeout 15 ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
    f" -o ConnectTimeout=5 ghost@{VICTIM} true || echo refused"
)
PROBE = IN_NETNS + f"timeout 4 bash -c '</dev/tcp/{VICTIM}/22'"


def banned(host) -> bool:
    out = host.check_output("fail2ban-client status sshd")
    return GUESSER in next(line for line in out.splitlines() if "Banned IP list" in line).split(":", 1)[1].split()


def test_fail2ban_bans_a_guesser_through_ufw_after_the_reboot(rebooted, host, wait_for):
    host.run(NETNS_DOWN)
    host.run_expect([0], NETNS_UP)
    try:
        assert wait_for(lambda: host.run(PROBE).rc == 0, 30), "port 22 unreachable from the namespace"
        for _guess in range(5):  # maxretry 3; ufw's limit on 22 would act from the 6th connection in 30 s
            assert "refused" in host.run(GUESS).stdout
            if wait_for(lambda: banned(host), 3):
                break
        assert wait_for(lambda: banned(host), 20), "the guesser was never banned"
        assert GUESSER in host.check_output("ufw status"), "the ban is not a ufw rule"
        assert host.run(PROBE).rc != 0, "the banned guesser still reaches port 22"
    finally:
        host.run(NETNS_DOWN)
    assert GUESSER not in host.check_output("ufw status"), "unban left the ufw rule"


# The os_baseline role's kernel side, which a container cannot show: the values the running kernel
# uses after a reboot, modules that cannot be loaded, and a drift check that judges the live kernel.
KERNEL_VALUES = {
    "kernel/randomize_va_space": "2",
    "kernel/yama/ptrace_scope": "1",
    "fs/suid_dumpable": "0",
    "net/ipv4/ip_forward": "0",
    "net/ipv4/conf/all/accept_redirects": "0",
    "net/ipv4/conf/default/send_redirects": "0",
    "net/ipv4/conf/all/rp_filter": "1",
    "net/ipv4/conf/all/log_martians": "1",
    "net/ipv4/tcp_syncookies": "1",
    "net/ipv6/conf/all/accept_ra": "0",
}


def test_the_kernel_runs_the_hardened_parameters_after_the_reboot(rebooted, host):
    live = {key: host.file(f"/proc/sys/{key}").content_string.strip() for key in KERNEL_VALUES}
    assert live == KERNEL_VALUES


# Modules of the role's list that Debian's kernel builds as modules (Debian 12 has no cramfs at all).
LOADABLE = ("hfs", "usb-storage", "sctp")


def test_an_unused_module_cannot_be_loaded_after_the_reboot(rebooted, host):
    for module in LOADABLE:
        # The module exists for this kernel: modprobe fails because of the role's install line.
        assert host.run("modinfo -n %s", module).rc == 0, f"{module} is not a module of this kernel"
        attempt = host.run("modprobe %s", module)
        assert attempt.rc != 0, f"modprobe {module} succeeded"
        assert "/bin/false" in attempt.stderr, attempt.stderr
        assert module.replace("-", "_") not in host.file("/proc/modules").content_string


def test_apparmor_is_on_with_every_profile_enforcing_or_complaining_after_the_reboot(rebooted, host):
    assert host.file("/sys/module/apparmor/parameters/enabled").content_string.strip() == "Y"
    status = json.loads(host.check_output("aa-status --json"))
    modes = status["profiles"]
    assert modes, "no AppArmor profile is loaded"
    assert set(modes.values()) <= {"enforce", "complain"}, modes


# The separate file systems of the VM: systemd's /dev/shm, and the tmpfs /tmp that prepare.yml added to
# /etc/fstab with defaults only.
NOEXEC_MOUNTS = ("/tmp", "/dev/shm")


@pytest.mark.parametrize("point", NOEXEC_MOUNTS)
def test_a_program_cannot_run_from_tmp_or_dev_shm_after_the_reboot(rebooted, host, point):
    flags = set(host.check_output("findmnt -no OPTIONS %s", point).split(","))
    assert {"nodev", "nosuid", "noexec"} <= flags, flags
    program = f"{point}/bulwark-exec-test"
    host.run_expect([0], "install -m 0755 /bin/true %s", program)
    try:
        attempt = host.run(program)
    finally:
        host.run("rm -f %s", program)
    assert attempt.rc == 126 and "Permission denied" in attempt.stderr, (attempt.rc, attempt.stderr)


def test_the_next_boot_keeps_the_mount_options(host):
    # What survives the reboot comes from here: the fstab line of /tmp, and one for systemd's /dev/shm.
    lines = [line.split() for line in host.file("/etc/fstab").content_string.splitlines() if line.strip()]
    options = {fields[1]: set(fields[3].split(",")) for fields in lines if not fields[0].startswith("#")}
    for point in NOEXEC_MOUNTS:
        assert {"nodev", "nosuid", "noexec"} <= options.get(point, set()), (point, options.get(point))
    assert "size=256m" in options["/tmp"], options["/tmp"]  # the admin's own option kept


def test_a_drift_check_judges_the_live_kernel_and_a_later_sysctl_file(rebooted, host, check_run):
    # Five kinds of drift at once (one check run under TCG takes minutes): a value changed at
    # runtime, a module loaded by hand past modprobe's configuration (--ignore-install), a later sysctl.d file, an
    # earlier modprobe.d file (for an install command, modprobe takes the first file's) and a mount remounted
    # without noexec.
    later, earlier = "/etc/sysctl.d/99-zz-local.conf", "/etc/modprobe.d/00-aa-local.conf"
    host.run_expect([0], "sysctl -qw net.ipv4.conf.all.accept_redirects=1")
    host.run_expect([0], "modprobe --ignore-install hfs")
    host.run_expect([0], "printf 'kernel.yama.ptrace_scope = 0\\n' > %s", later)
    host.run_expect([0], "printf 'install sctp /bin/true\\n' > %s", earlier)
    host.run_expect([0], "mount -o remount,exec /dev/shm")
    try:
        _run, report = check_run()
    finally:
        host.run(f"sysctl -qw net.ipv4.conf.all.accept_redirects=0; rmmod hfs; rm -f {later} {earlier}")
        host.run("mount -o remount,noexec /dev/shm")
    controls = report[NAME]["controls"]
    sysctl, modules, mounts = controls["OS-SYSCTL"], controls["OS-KERNEL-MODULES"], controls["OS-MOUNTS"]
    assert sysctl["status"] == "drift" and modules["status"] == "drift", (sysctl, modules)
    found = "\n".join(sysctl["found"] + sysctl["expected"])
    assert "net.ipv4.conf.all.accept_redirects" in found and later in found, found
    module_lines = "\n".join(modules["found"] + modules["expected"])
    assert "hfs loaded" in module_lines and earlier in module_lines, modules
    assert mounts["status"] == "drift", mounts
    mount_lines = "\n".join(mounts["found"] + mounts["expected"])
    assert "/dev/shm" in mount_lines and "noexec" in mount_lines, mounts
    drifted = sorted(key for key, entry in controls.items() if entry["status"] == "drift")
    assert drifted == ["OS-KERNEL-MODULES", "OS-MOUNTS", "OS-SYSCTL"], drifted
