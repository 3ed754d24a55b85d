# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ssh_host_keys
short_description: Keep strong OpenSSH host keys - remove short RSA keys, generate missing ones
description:
  - Makes sure C(/etc/ssh/ssh_host_<type>_key) exists for each of O(types), generating missing keys
    with C(ssh-keygen).
  - Removes an RSA host key (private and public part) shorter than O(rsa_min_bits) and generates a
    new one of O(rsa_bits) in its place. The host's RSA fingerprint changes; clients that pinned it
    will warn.
  - Reports C(changed) whenever a key was removed or generated, so a play can notify a reload of
    C(sshd), which reads its host keys only when it starts or reloads.
  - With O(configured), every other host key the effective C(sshd) configuration loads (a C(HostKey)
    line of a drop-in - C(HostKey) adds to the list, it is never replaced) must be strong too. A weak
    one is drift (C(changed) in check mode); outside check mode the module fails, naming the key and
    the file whose C(HostKey) line loads it. It never removes or edits a key or a file it does not manage.
  - Every C(ssh_host_*_key) file in O(directory) and its C(.pub), and C(sshd_config), must be root's alone (CIS
    Debian 12 v1.1.0 and Debian 13 v1.0.0 5.1.1-5.1.3) - a private key owned by root, group root (mode 0600 at most)
    or C(ssh_keys) (0640 at most); a public key owned by root:root, 0644 at most; C(sshd_config) root:root, 0600 at
    most. A looser one is drift, and outside check mode its owner, group and mode are tightened (a stricter mode
    stays stricter; a symbolic link is left alone). The drop-ins of C(sshd_config.d) are other tools' files (a site
    playbook, cloud-init) and are left alone - tightening them would fight the tool that writes them.
version_added: 0.2.0
extends_documentation_fragment:
  - bulwark.hardening.module
  - bulwark.hardening.rollback
attributes:
  diff_mode:
    details: The diff lists the host keys (type, size, fingerprint) before and after.
  platform:
    platforms: posix
options:
  types:
    description:
      - Host key types that must exist.
    type: list
    elements: str
    choices: [ed25519, rsa, ecdsa]
    default: [ed25519, rsa]
  rsa_min_bits:
    description:
      - An RSA host key shorter than this is replaced.
    type: int
    default: 3072
  rsa_bits:
    description:
      - Size of an RSA key the module generates. Must be at least O(rsa_min_bits).
    type: int
    default: 4096
  directory:
    description:
      - Directory of the host keys.
    type: path
    default: /etc/ssh
  configured:
    description:
      - The host keys the effective configuration loads, e.g. C(hostkey) of
        M(bulwark.hardening.sshd_effective_config)'s RV(bulwark.hardening.sshd_effective_config#module:settings).
      - Those not managed here must be Ed25519 or RSA of at least O(rsa_min_bits); a missing file is skipped
        (C(sshd) skips it too). C(HostKey) lines are looked up in C(sshd_config) and C(sshd_config.d/*.conf)
        under O(directory) to name the file in the message.
    type: list
    elements: path
    default: []
notes:
  - Key sizes are read from the public key files in Python; C(ssh-keygen) runs only to generate a key
    (or to read a key whose public part is missing).
seealso:
  - module: bulwark.hardening.sshd_effective_config
  - module: bulwark.hardening.ssh_moduli
"""

EXAMPLES = r"""
- name: Keep an Ed25519 and a 4096-bit RSA host key, replacing RSA keys under 3072 bits
  bulwark.hardening.ssh_host_keys:
    rsa_min_bits: 3072
    rsa_bits: 4096
  notify: Reload sshd (bulwark)
"""

RETURN = r"""
removed:
  description: Host key files removed (or that would be removed in check mode).
  returned: success
  type: list
  elements: str
  sample: [/etc/ssh/ssh_host_rsa_key, /etc/ssh/ssh_host_rsa_key.pub]
generated:
  description: Private host key files generated (or that would be generated in check mode).
  returned: success
  type: list
  elements: str
  sample: [/etc/ssh/ssh_host_rsa_key]
weak:
  description: One sentence per weak host key of O(configured) that the module does not manage (key, size, file).
  returned: success
  type: list
  elements: str
  sample: ["/etc/ssh/extra_rsa_key (ssh-rsa, 2048 bits) is loaded by HostKey in /etc/ssh/sshd_config.d/10-extra.conf"]
modes_fixed:
  description: Host key files and sshd_config whose owner, group or mode was looser than allowed, as
    C(path owner:group mode) before the change (tightened, or that would be in check mode).
  returned: success
  type: list
  elements: str
  sample: [/etc/ssh/ssh_host_ed25519_key root:root 0644]
host_keys:
  description: The host keys of O(types) after the run, by path (C(type), C(bits), C(fingerprint)).
  returned: success
  type: dict
  sample: {/etc/ssh/ssh_host_ed25519_key: {type: ssh-ed25519, bits: 256, fingerprint: "SHA256:..."}}
"""

# Imports follow the documentation blocks, as in every Ansible module (hence the E402 waivers).
import base64
import glob
import grp
import os
import stat
import struct

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import describe_owner_mode
from ansible_collections.bulwark.hardening.plugins.module_utils._rollback import ROLLBACK_SPEC, arm_option
from ansible_collections.bulwark.hardening.plugins.module_utils._ssh import key_fingerprint

# The owner and group a host key file must have (root:root); the unit tests run as another user.
ROOT_IDS = (0, 0)
_FIXED_BITS = {"ssh-ed25519": 256, "ecdsa-sha2-nistp256": 256, "ecdsa-sha2-nistp384": 384, "ecdsa-sha2-nistp521": 521}


def _strings(raw):
    """The length-prefixed strings of an SSH wire-format blob."""
    fields = []
    offset = 0
    while offset + 4 <= len(raw):
        (length,) = struct.unpack(">I", raw[offset : offset + 4])
        fields.append(raw[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return fields


def describe_public_key(text):
    """``{'type', 'bits', 'fingerprint'}`` of a ``.pub`` line; raises ValueError if it is not one."""
    words = (text or "").split()
    if len(words) < 2:
        raise ValueError("not a public key line")
    blob = words[1]
    raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
    fields = _strings(raw)
    if not fields or fields[0].decode("ascii", "replace") != words[0]:
        raise ValueError(f"key blob does not match its type {words[0]}")
    if words[0] == "ssh-rsa":
        if len(fields) < 3:
            raise ValueError("truncated RSA key")
        bits = int.from_bytes(fields[2], "big").bit_length()
    else:
        bits = _FIXED_BITS.get(words[0])
    return {"type": words[0], "bits": bits, "fingerprint": key_fingerprint(blob)}


def plan(keys, types, rsa_min_bits):
    """Decide what to do from the keys found.

    ``keys``: key type -> description (``describe_public_key``) or None when the private key is
    missing. Returns ``(remove, generate)``, two lists of key types.
    """
    remove, generate = [], []
    for key_type in types:
        found = keys.get(key_type)
        if found is None:
            generate.append(key_type)
        elif key_type == "rsa" and (found.get("bits") or 0) < rsa_min_bits:
            remove.append(key_type)
            generate.append(key_type)
    return remove, generate


def weak_key(key, rsa_min_bits):
    """Why a host key (``describe_public_key``) is weak, or None for Ed25519 and RSA of ``rsa_min_bits``."""
    if key["type"] == "ssh-ed25519":
        return None
    if key["type"] == "ssh-rsa" and (key.get("bits") or 0) >= rsa_min_bits:
        return None
    return f"{key['type']}, {key['bits']} bits"


def hostkey_sources(texts):
    """``{key path: config file}`` from the ``HostKey`` lines of ``texts`` (config file -> text), first one wins."""
    sources = {}
    for path, text in texts.items():
        for raw in (text or "").splitlines():
            words = raw.split("#", 1)[0].split()
            if len(words) == 2 and words[0].lower() == "hostkey":
                sources.setdefault(words[1].strip('"'), path)
    return sources


def config_texts(directory):
    """sshd_config and its drop-ins under ``directory`` (path -> text), unreadable ones skipped."""
    texts = {}
    for path in [
        os.path.join(directory, "sshd_config"),
        *sorted(glob.glob(os.path.join(directory, "sshd_config.d", "*.conf"))),
    ]:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                texts[path] = handle.read()
        except OSError:
            continue
    return texts


def summary(keys):
    """One line per key for the diff."""
    lines = [
        f"{path}: {key['type']} {key['bits']} bits {key['fingerprint']}\n" for path, key in sorted(keys.items()) if key
    ]
    return "".join(lines) or "no host keys\n"


def mode_fix(path, info, ssh_keys_gid):
    """``(uid, gid, mode)`` that a host key file must get (CIS 5.1.2, 5.1.3), or None when it is tight enough.

    A private key: root, group root (0600 at most) or ``ssh_keys`` (0640 at most); a public key (``.pub``):
    root:root, 0644 at most; a configuration file (``sshd_config``): root:root, 0600 at most. Bits beyond the
    ceiling are removed, a stricter mode stays.
    """
    mode = stat.S_IMODE(info.st_mode)
    root_uid, root_gid = ROOT_IDS
    if path.endswith(".pub"):
        gid, ceiling = root_gid, 0o644
    elif path.endswith("/sshd_config"):
        gid, ceiling = root_gid, 0o600
    elif ssh_keys_gid is not None and info.st_gid == ssh_keys_gid:
        gid, ceiling = ssh_keys_gid, 0o640
    else:
        gid, ceiling = root_gid, 0o600
    want = (root_uid, gid, mode & ceiling)
    return None if want == (info.st_uid, info.st_gid, mode) else want


def key_files(directory):
    """The files of CIS 5.1.1-5.1.3 in ``directory`` that the role owns: the host keys and sshd_config."""
    base = glob.escape(directory)
    names = glob.glob(os.path.join(base, "ssh_host_*_key")) + glob.glob(os.path.join(base, "ssh_host_*_key.pub"))
    return sorted([*names, os.path.join(directory, "sshd_config")])


def loose_modes(directory):
    """``[(path, stat, (uid, gid, mode))]`` for each file of ``key_files`` looser than ``mode_fix`` allows."""
    try:
        ssh_keys_gid = grp.getgrnam("ssh_keys").gr_gid
    except KeyError:
        ssh_keys_gid = None
    found = []
    for path in key_files(directory):
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        fix = mode_fix(path, info, ssh_keys_gid)
        if fix is not None:
            found.append((path, info, fix))
    return found


def tighten(module, loose, result):
    """Give each host key file of ``loose_modes`` its owner, group and mode."""
    for path, _info, (uid, gid, mode) in loose:
        try:
            # Owner first: chown clears set-ID bits that a mode change would keep.
            os.lchown(path, uid, gid)
            os.chmod(path, mode)
        except OSError as exc:
            module.fail_json(msg=f"cannot restrict host key file {path}: {exc.strerror}", **result)


def read_key(module, path):
    """Describe the key at ``path`` (private part must exist); None when it does not."""
    if not os.path.exists(path):
        return None
    try:
        with open(path + ".pub", encoding="ascii", errors="replace") as handle:
            return describe_public_key(handle.read())
    except (OSError, ValueError):
        rc, out, err = module.run_command([module.get_bin_path("ssh-keygen", required=True), "-y", "-f", path])
        if rc != 0:
            module.fail_json(msg=f"cannot read host key {path}: {err.strip() or out.strip()}")
        return describe_public_key(out)


def main():
    module = AnsibleModule(
        argument_spec={
            "types": {
                "type": "list",
                "elements": "str",
                "choices": ["ed25519", "rsa", "ecdsa"],
                "default": ["ed25519", "rsa"],
            },
            "rsa_min_bits": {"type": "int", "default": 3072},
            "rsa_bits": {"type": "int", "default": 4096},
            "directory": {"type": "path", "default": "/etc/ssh"},
            "configured": {"type": "list", "elements": "path", "default": []},
            "rollback": ROLLBACK_SPEC,
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["rsa_bits"] < params["rsa_min_bits"]:
        module.fail_json(
            msg=f"rsa_bits ({params['rsa_bits']}) must be at least rsa_min_bits ({params['rsa_min_bits']})"
        )
    paths = {key_type: os.path.join(params["directory"], f"ssh_host_{key_type}_key") for key_type in params["types"]}
    before = {key_type: read_key(module, path) for key_type, path in paths.items()}
    remove, generate = plan(before, params["types"], params["rsa_min_bits"])

    removed = [name for key_type in remove for name in (paths[key_type], paths[key_type] + ".pub")]
    generated = [paths[key_type] for key_type in generate]
    weak = []
    others = [path for path in params["configured"] if path not in paths.values() and os.path.exists(path)]
    sources = hostkey_sources(config_texts(params["directory"])) if others else {}
    for path in others:
        why = weak_key(read_key(module, path), params["rsa_min_bits"])
        if why:
            where = sources.get(path, "the sshd configuration")
            weak.append(f"{path} ({why}) is loaded by HostKey in {where}")
    # Modes are judged on the keys that stay: a removed key's are moot, a generated one is made 0600/0644.
    loose = [item for item in loose_modes(params["directory"]) if item[0] not in removed]
    modes_fixed = [
        describe_owner_mode(path, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) for path, info, _fix in loose
    ]
    result = {
        "changed": bool(removed or generated or weak or loose),
        "removed": removed,
        "generated": generated,
        "weak": weak,
        "modes_fixed": modes_fixed,
    }
    if weak and not module.check_mode:
        module.fail_json(
            msg=f"weak host keys that this role does not manage: {'; '.join(weak)}. Remove the HostKey line (and the "
            f"key, if nothing else needs it), or make it Ed25519 or RSA of at least {params['rsa_min_bits']} bits",
            **result,
        )
    after = dict(before)
    if not module.check_mode:
        if removed or generated:
            touched = sorted({*removed, *generated, *(path + ".pub" for path in generated)})
            arm_option(module, params["rollback"], touched, "sshd host keys", result)
        for name in removed:
            os.unlink(name)
        keygen = module.get_bin_path("ssh-keygen", required=True) if generate else None
        for key_type in generate:
            path = paths[key_type]
            if os.path.exists(path + ".pub"):
                os.unlink(path + ".pub")  # a public part without its private key
            bits = ["-b", str(params["rsa_bits"])] if key_type == "rsa" else []
            argv = [keygen, "-q", "-N", "", "-t", key_type, *bits, "-f", path]
            rc, out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(msg=f"ssh-keygen could not generate {path}: {err.strip() or out.strip()}", **result)
            after[key_type] = read_key(module, path)
        tighten(module, loose, result)
    else:
        for key_type in generate:
            after[key_type] = None
    result["host_keys"] = {paths[key_type]: key for key_type, key in after.items() if key}
    if module._diff:
        tightened = "".join(describe_owner_mode(path, mode, uid, gid) + "\n" for path, _info, (uid, gid, mode) in loose)
        if module.check_mode:
            after_text = "".join(f"{paths[k]}: new key\n" for k in generate)
            after_text += summary({paths[k]: v for k, v in after.items() if v})
        else:
            after_text = summary({paths[k]: v for k, v in after.items()})
        result["diff"] = {
            "before_header": f"{params['directory']} host keys",
            "after_header": f"{params['directory']} host keys",
            "before": summary({paths[k]: v for k, v in before.items()})
            + "".join(f"{line}\n" for line in weak + modes_fixed),
            "after": after_text + tightened,
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
