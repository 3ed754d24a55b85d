"""Drift injections for the apache_hardening role's controls (see extensions/molecule/drift_matrix.py).

The site scenario (Debian 12, Apache + mod_php, no TLS) takes the configuration and the service; the
apache_hardening scenario's matrix (tests/test_matrix.py, one target hardened with a self-signed
certificate by matrix.yml) takes what needs TLS or a package the role installs, and the .htaccess files.
"""

import shlex

from drift_matrix import Injection, NotInjectable, until

CONF = "/etc/apache2/conf-available/zz-bulwark-hardening.conf"
VHOST = "/etc/apache2/sites-available/000-default.conf"
CERT = "/etc/ssl/certs/bulwark-apache-selfsigned.pem"
KEY = "/etc/ssl/private/bulwark-apache-selfsigned.key"


def served(pattern: str) -> str:
    """Shell that waits until Apache's answer carries ``pattern`` (a grep -i pattern): a graceful
    reload returns before Apache has read its files."""
    return until(f"curl -sI http://127.0.0.1/ | grep -qi {shlex.quote(pattern)}")


INJECTIONS = [
    # ------------------------------------------------------------------ APACHE-CONFIG
    Injection(
        control="APACHE-CONFIG",
        via="file",
        what="the role's conf edited to ServerTokens Full, Apache reloaded",
        inject=f"sed -i 's/^ServerTokens Prod$/ServerTokens Full/' {CONF} && systemctl reload apache2",
    ),
    Injection(
        control="APACHE-CONFIG",
        via="file",
        what="mod_status (a module the role disables) enabled with a2enmod, Apache reloaded",
        inject="a2enmod -q status && systemctl reload apache2",
    ),
    Injection(
        control="APACHE-CONFIG",
        via="override",
        what="a later-sorting conf-enabled file sets ServerTokens Full and ServerSignature On, Apache reloaded",
        inject=(
            "printf 'ServerTokens Full\\nServerSignature On\\n' > /etc/apache2/conf-available/zz-local.conf"
            " && a2enconf -q zz-local && systemctl reload apache2"
        ),
        undo="a2disconf -q zz-local && rm /etc/apache2/conf-available/zz-local.conf",
    ),
    Injection(
        control="APACHE-CONFIG",
        via="override",
        what="the default vhost (sites-enabled, read after conf-enabled) sets ServerSignature On and TraceEnable On",
        inject=(
            f"sed -i 's|^<VirtualHost \\*:80>$|&\\n    # bulwark-matrix\\n    ServerSignature On\\n"
            f"    TraceEnable On\\n    # bulwark-matrix end|' {VHOST} && grep -q bulwark-matrix {VHOST}"
            " && systemctl reload apache2"
        ),
        undo=f"sed -i '/# bulwark-matrix$/,/# bulwark-matrix end$/d' {VHOST}",
    ),
    Injection(
        control="APACHE-CONFIG",
        via="override",
        what=(
            "an .htaccess in a served directory (AllowOverride All from a later conf) turns on Options +Indexes and"
            " ServerSignature On"
        ),
        inject=(
            "mkdir -p /srv/bulwark-local && printf 'Options +Indexes\\nServerSignature On\\n'"
            " > /srv/bulwark-local/.htaccess"
            " && printf 'Alias /local /srv/bulwark-local\\n<Directory /srv/bulwark-local>\\n    AllowOverride All\\n"
            "    Require all granted\\n</Directory>\\n' > /etc/apache2/conf-available/zz-local-dir.conf"
            " && a2enconf -q zz-local-dir && systemctl reload apache2"
        ),
        undo=(
            "rm /srv/bulwark-local/.htaccess && a2disconf -q zz-local-dir"
            " && rm /etc/apache2/conf-available/zz-local-dir.conf"
        ),
        scenarios=("apache_hardening",),
    ),
    NotInjectable(
        control="APACHE-CONFIG",
        via="daemon",
        why=(
            "Apache running another configuration than its files is APACHE-SERVICE's drift (injected there: a reload"
            " with ServerTokens Full, the file put back with cp -p); APACHE-CONFIG judges the files as Apache resolves"
            " them."
        ),
    ),
    # ------------------------------------------------------------------ APACHE-SERVICE
    Injection(
        control="APACHE-SERVICE",
        via="file",
        what="apache2.service disabled (its wants link removed); Apache keeps running",
        inject="systemctl disable -q apache2",
    ),
    Injection(
        control="APACHE-SERVICE",
        via="override",
        what="apache2.service masked (/etc/systemd/system/apache2.service -> /dev/null, before the package's unit)",
        inject="systemctl mask -q apache2",
        undo="systemctl unmask -q apache2",
        alone=True,  # a later injection's "systemctl reload apache2" would fail on a masked unit
    ),
    Injection(
        control="APACHE-SERVICE",
        via="daemon",
        what="Apache reloaded with ServerTokens Full, the role's conf put back with its old mtime (cp -p)",
        inject=(
            f"cp -p {CONF} /root/matrix-hardened.conf && sed -i 's/^ServerTokens .*/ServerTokens Full/' {CONF}"
            f" && systemctl reload apache2 && {served('^Server: Apache/2')}"
            f" && cp -p /root/matrix-hardened.conf {CONF} && rm /root/matrix-hardened.conf"
        ),
        alone=True,  # a later injection's reload would load the files again
    ),
    Injection(
        control="APACHE-SERVICE",
        via="daemon",
        what="Apache stopped",
        inject="systemctl stop apache2",
        alone=True,  # a later injection's reload or restart would fail or start it
    ),
    Injection(
        control="APACHE-SERVICE",
        via="daemon",
        what="Apache reloaded with another certificate, the role's certificate and key put back with cp -p",
        inject=(
            f"cp -p {CERT} /root/matrix.pem && cp -p {KEY} /root/matrix.key"
            f" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout {KEY}"
            f" -out {CERT} -days 3650 -subj /CN=bulwark-matrix 2>/dev/null && systemctl reload apache2"
            " && "
            + until("echo | openssl s_client -connect 127.0.0.1:443 2>/dev/null | grep -q bulwark-matrix")
            + f" && cp -p /root/matrix.pem {CERT} && cp -p /root/matrix.key {KEY}"
            " && rm /root/matrix.pem /root/matrix.key"
        ),
        scenarios=("apache_hardening",),
    ),
    # ------------------------------------------------------------------ APACHE-PACKAGES
    Injection(
        control="APACHE-PACKAGES",
        via="file",
        what="python3-cryptography (needed for the certificate) removed with dpkg",
        inject="dpkg --remove --force-depends python3-cryptography >/dev/null",
        # Without it the certificate tasks cannot look at the key in check mode: they wait for the real run.
        scenarios=("apache_hardening",),
    ),
    NotInjectable(
        control="APACHE-PACKAGES",
        via="override",
        why="dpkg's status database is the only place a package is installed; no higher-priority place exists.",
    ),
    NotInjectable(
        control="APACHE-PACKAGES",
        via="daemon",
        why="An installed package has no running process of its own; Apache's process is APACHE-SERVICE's.",
    ),
    # ------------------------------------------------------------------ APACHE-TLS-SELF-SIGNED
    Injection(
        control="APACHE-TLS-SELF-SIGNED",
        via="file",
        what="the self-signed certificate replaced by one of another key and subject, valid ten years",
        inject=(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /root/other.key"
            f" -out {CERT} -days 3650 -subj /CN=bulwark-matrix 2>/dev/null && rm /root/other.key"
        ),
        expect=("APACHE-SERVICE",),  # Apache serves the certificate it read, not the file's
        scenarios=("apache_hardening",),
    ),
    NotInjectable(
        control="APACHE-TLS-SELF-SIGNED",
        via="override",
        why=(
            "The control is a certificate file, read from the one path the role's own site names"
            " (SSLCertificateFile); nothing is read in its place. Another site serving another certificate on 443 is"
            " Apache's configuration, not this file."
        ),
    ),
    NotInjectable(
        control="APACHE-TLS-SELF-SIGNED",
        via="daemon",
        why=(
            "A certificate file has no process; Apache serving another certificate than the file is APACHE-SERVICE's"
            " drift (injected there in the apache_hardening scenario)."
        ),
    ),
]
