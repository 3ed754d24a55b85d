# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.host_model filter (documented in host_model.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils._host import host_model


def host_model_filter(settings):
    """Check the collection-wide declaration and return the host model (see ``_host.host_model``)."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError(f"host_model expects a mapping of the collection-wide variables, got {settings!r}")
    missing = sorted({"bulwark_ssh_port", "bulwark_services", "bulwark_closed_ports"} - set(settings))
    if missing:
        raise AnsibleFilterError(f"host_model needs {', '.join(missing)}")
    return host_model(settings)


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"host_model": host_model_filter}
