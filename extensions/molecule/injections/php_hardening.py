"""Drift injections for the php_hardening role's controls (see extensions/molecule/drift_matrix.py).

The site scenario (Debian 12, Apache + mod_php 8.2) takes the ini of the Apache SAPI and the
service; the php_hardening scenario's matrix (tests/test_matrix.py, on its PHP-FPM host, which has
xdebug installed and a declared pool) takes the modules, the pools and PHP-FPM.
"""

from drift_matrix import Injection, NotInjectable, until

MOD_PHP_INI = "/etc/php/*/apache2/conf.d/99-bulwark-hardening.ini"
FPM = "/etc/php/*/fpm"
VHOST = "/etc/apache2/sites-available/000-default.conf"
# The pool file PHP-FPM reads the declared pool [www] from first (where the role sets its line).
WWW = f"$(grep -l '^\\[www\\]' {FPM}/pool.d/*.conf | head -1)"
# The PHP-FPM unit of the host's one PHP version.
FPM_UNIT = "$(basename /usr/sbin/php-fpm* | sed 's/^php-fpm/php/')-fpm"

# How many times Apache has (re)loaded its configuration: it logs this notice at every start and
# graceful reload, whatever its LogLevel.
RESUMED = "awk '/resuming normal operations/ {n++} END {print n + 0}' /var/log/apache2/error.log"

INJECTIONS = [
    # ------------------------------------------------------------------ PHP-INI
    Injection(
        control="PHP-INI",
        via="file",
        what="the role's ini of the Apache SAPI edited to expose_php = On, Apache reloaded",
        inject=f"sed -i 's/^expose_php = Off$/expose_php = On/' {MOD_PHP_INI} && systemctl reload apache2",
    ),
    Injection(
        control="PHP-INI",
        via="override",
        what="a later conf.d ini of the Apache SAPI empties disable_functions, Apache reloaded",
        inject=(
            "for d in /etc/php/*/apache2/conf.d; do printf 'disable_functions =\\n' > $d/99-zz-local.ini; done"
            " && systemctl reload apache2"
        ),
        undo="rm /etc/php/*/apache2/conf.d/99-zz-local.ini",
    ),
    Injection(
        control="PHP-INI",
        via="override",
        what="the default vhost (sites-enabled) sets php_admin_flag display_errors On for mod_php, Apache reloaded",
        inject=(
            f"sed -i 's|^<VirtualHost \\*:80>$|&\\n    # bulwark-matrix\\n    php_admin_flag display_errors On\\n"
            f"    # bulwark-matrix end|' {VHOST}"
            f" && grep -q bulwark-matrix {VHOST} && systemctl reload apache2"
        ),
        undo=f"sed -i '/# bulwark-matrix$/,/# bulwark-matrix end$/d' {VHOST}",
    ),
    Injection(
        control="PHP-INI",
        via="override",
        what=(
            "/etc/apache2/envvars exports PHP_INI_SCAN_DIR (mod_php then reads another conf.d, without the"
            " hardening), Apache restarted"
        ),
        inject=(
            "mkdir -p /etc/php/bulwark-local && echo 'export PHP_INI_SCAN_DIR=/etc/php/bulwark-local # bulwark-matrix'"
            " >> /etc/apache2/envvars && systemctl restart apache2"
        ),
        undo="sed -i '/# bulwark-matrix$/d' /etc/apache2/envvars",
    ),
    Injection(
        control="PHP-INI",
        via="override",
        what=(
            "an .htaccess in a served directory (AllowOverride All from a later conf) sets php_flag display_errors On"
            " for mod_php"
        ),
        inject=(
            "mkdir -p /var/www/bulwark-php && printf 'php_flag display_errors On\\n' > /var/www/bulwark-php/.htaccess"
            " && printf 'Alias /php-local /var/www/bulwark-php\\n<Directory /var/www/bulwark-php>\\n"
            "    AllowOverride All\\n    Require all granted\\n</Directory>\\n'"
            " > /etc/apache2/conf-available/zz-php-local.conf"
            " && a2enconf -q zz-php-local && systemctl reload apache2"
        ),
        undo=(
            "rm /var/www/bulwark-php/.htaccess && a2disconf -q zz-php-local"
            " && rm /etc/apache2/conf-available/zz-php-local.conf"
        ),
    ),
    NotInjectable(
        control="PHP-INI",
        via="daemon",
        why=(
            "PHP running another ini than its files is PHP-SERVICE's drift (injected there: a reload with expose_php"
            " On, the ini put back with cp -p); PHP-INI judges the files as each SAPI reads them."
        ),
    ),
    # ------------------------------------------------------------------ PHP-EXTENSIONS
    Injection(
        control="PHP-EXTENSIONS",
        via="file",
        what="xdebug enabled with phpenmod in every SAPI (not reloaded: the daemons run without it)",
        inject="phpenmod xdebug",
        expect=("PHP-SERVICE",),  # conf.d changed after the daemons loaded it
        scenarios=("php_hardening",),
        alone=True,  # a later injection's reload would load the new conf.d
    ),
    Injection(
        control="PHP-EXTENSIONS",
        via="override",
        what="a plain later conf.d ini of PHP-FPM loads xdebug (zend_extension=xdebug.so), PHP-FPM reloaded",
        inject=(
            f"for d in {FPM}/conf.d; do printf 'zend_extension=xdebug.so\\n' > $d/99-zz-local.ini; done"
            f" && systemctl reload {FPM_UNIT}"
        ),
        undo=f"rm {FPM}/conf.d/99-zz-local.ini",
        scenarios=("php_hardening",),
    ),
    Injection(
        control="PHP-EXTENSIONS",
        via="daemon",
        what="xdebug enabled with phpenmod and PHP-FPM reloaded: the running PHP loads it",
        inject=f"phpenmod -s fpm xdebug && systemctl reload {FPM_UNIT}",
        scenarios=("php_hardening",),
    ),
    # ------------------------------------------------------------------ PHP-SERVICE
    NotInjectable(
        control="PHP-SERVICE",
        via="file",
        why=(
            "PHP-SERVICE has no file of its own: the files PHP reads are PHP-INI's, PHP-EXTENSIONS' and"
            " PHP-FPM-POOL's (injected there), and the role leaves the unit's enablement to its owner (state current)."
        ),
    ),
    Injection(
        control="PHP-SERVICE",
        via="override",
        what=(
            "a systemd drop-in gave apache2 PHPRC=/etc/php/bulwark-local (mod_php reads another php.ini), Apache"
            " restarted, the drop-in removed without a restart"
        ),
        inject=(
            "mkdir -p /etc/php/bulwark-local /etc/systemd/system/apache2.service.d"
            " && printf '[Service]\\nEnvironment=PHPRC=/etc/php/bulwark-local\\n'"
            " > /etc/systemd/system/apache2.service.d/zz-local.conf && systemctl daemon-reload"
            " && systemctl restart apache2 && rm /etc/systemd/system/apache2.service.d/zz-local.conf"
            " && systemctl daemon-reload"
        ),
    ),
    Injection(
        control="PHP-SERVICE",
        via="daemon",
        what="Apache reloaded with expose_php = On in the role's ini, the ini put back with its old mtime (cp -p)",
        inject=(
            f"f=$(ls {MOD_PHP_INI}) && cp -p $f /root/matrix.ini && sed -i 's/^expose_php = Off$/expose_php = On/' $f"
            f" && export n=$({RESUMED}) && systemctl reload apache2 && "
            # No header shows expose_php here (apache_hardening unsets X-Powered-By): wait until Apache
            # says it has loaded its configuration again (mod_php reads the ini then).
            + until(f'test "$({RESUMED})" -gt "$n"')
            + " && cp -p /root/matrix.ini $f && rm /root/matrix.ini"
        ),
        alone=True,  # a later injection's reload would load the files again
    ),
    Injection(
        control="PHP-SERVICE",
        via="daemon",
        what="PHP-FPM reloaded with open_basedir = / in the declared pool, the pool file put back with cp -p",
        inject=(
            f"f={WWW} && cp -p $f /root/matrix.conf"
            " && sed -i 's|^php_admin_value\\[open_basedir\\] = .*|php_admin_value[open_basedir] = /|' $f"
            f" && systemctl reload {FPM_UNIT} && "
            + until('curl -skL http://127.0.0.1/probe.php | grep -qF \'"open_basedir":"\\/"\'')
            + " && cp -p /root/matrix.conf $f && rm /root/matrix.conf"
        ),
        scenarios=("php_hardening",),
        alone=True,  # a later injection's reload would load the files again
    ),
    # ------------------------------------------------------------------ PHP-FPM-POOL
    Injection(
        control="PHP-FPM-POOL",
        via="file",
        what="the declared pool's open_basedir edited to / in its file, PHP-FPM reloaded",
        inject=(
            "sed -i 's|^php_admin_value\\[open_basedir\\] = .*|php_admin_value[open_basedir] = /|'"
            f" {WWW} && systemctl reload {FPM_UNIT}"
        ),
        scenarios=("php_hardening",),
    ),
    Injection(
        control="PHP-FPM-POOL",
        via="override",
        # PHP-FPM reads the repeated section into the same pool, and the first php_admin_value line read
        # wins (a later file's loses): the earlier file is where the pool is defined first, and the role
        # sets the line there.
        what="an earlier-sorting pool file repeats [www] with php_admin_value[open_basedir] = /, PHP-FPM reloaded",
        inject=(
            f"for d in {FPM}/pool.d; do printf '[www]\\nphp_admin_value[open_basedir] = /\\n' > $d/00-local.conf;"
            f" done && systemctl reload {FPM_UNIT}"
        ),
        scenarios=("php_hardening",),
    ),
    NotInjectable(
        control="PHP-FPM-POOL",
        via="daemon",
        why=(
            "PHP-FPM running another pool file than the one on disk is PHP-SERVICE's drift (injected there: a reload"
            " with open_basedir = /, the pool file put back with cp -p)."
        ),
    ),
]
