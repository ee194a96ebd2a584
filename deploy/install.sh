#!/usr/bin/env bash
# Install or upgrade Snelbalie on a Debian kiosk PC (run as root from a checkout):
#   deploy/install.sh            app + kiosk screen (touch screen, card reader, printer)
#   deploy/install.sh --server   app only (desks, boards, API) for an office server
#   deploy/install.sh --back     back to the release before (the one an upgrade replaced)
# Every run installs the checkout as a new release in /opt/snelbalie/releases/, beside the
# running one, checks that its app starts with this PC's site profile, then points
# /opt/snelbalie/current at it in one step and restarts the services.
# The release before stays (to go back to); older ones are removed. The units are replaced at
# every run: local changes belong in drop-ins (/etc/systemd/system/<unit>.service.d/*.conf,
# `systemctl edit <unit>`), which this script never touches, as it never touches the site
# profile and the environment once they exist.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--back" ]; then
    # The newest release that is not the current one, switched to as an upgrade switches: the
    # one it replaced stays beside it (the next install removes it). The database stays as it
    # is: a release that changed its schema needs the backup from before it to go back.
    current=$(readlink /opt/snelbalie/current)
    before=""
    for dir in $(ls -1dt /opt/snelbalie/releases/*/ 2>/dev/null); do
        [ "${dir%/}" = "$current" ] || { before=${dir%/}; break; }
    done
    if [ -z "$before" ]; then
        echo "There is no release before $current to go back to." >&2
        exit 1
    fi
    ln -sfn "$before" /opt/snelbalie/current.new
    mv -T /opt/snelbalie/current.new /opt/snelbalie/current
    systemctl restart snelbalie.service
    if systemctl is-enabled -q snelbalie-screen.service 2>/dev/null; then
        systemctl restart snelbalie-screen.service
    fi
    echo "Back on $before; $current stays beside it until the next install."
    exit 0
fi

screen=yes
[ "${1:-}" = "--server" ] && screen=no
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq
# ca-certificates: pip fetches from PyPI over TLS; python3-dev: pyscard compiles against
# Python's headers; systemd-timesyncd: the kiosks' clocks stay in step with the office's
# (the dashboard shows each one's offset)
apt-get install -y -qq ca-certificates python3-venv python3-dev gcc libpcsclite-dev swig pcscd \
    espeak-ng systemd-timesyncd libraqm0 fonts-dejavu-core
# cage runs Chromium under XWayland: without xwayland it exits "Cannot create XWayland server"
[ "$screen" = yes ] && apt-get install -y -qq cage chromium xwayland

id snelbalie >/dev/null 2>&1 || useradd --system --home /var/lib/snelbalie --shell /usr/sbin/nologin snelbalie
usermod -aG lp snelbalie  # the printer's udev rule gives Debian's printer group "lp" access
install -d -m 700 -o snelbalie -g snelbalie /var/lib/snelbalie
chmod 700 /var/lib/snelbalie  # also when an older install made it 0755
install -d /etc/snelbalie
# Readable by the app only: the profile may hold the secret key and the database password,
# and the kiosk screen's user must not be able to read them.
[ -f /etc/snelbalie/site.toml ] || install -m 640 -g snelbalie deploy/site.example.toml /etc/snelbalie/site.toml
# The service's settings, also read by the `kiosk` command, so that on this PC it acts on the
# office's database and not on a demo one (secrets such as KIOSK_DATABASE_URL go here too).
if [ ! -f /etc/snelbalie/environment ]; then
    printf 'KIOSK_SITE=/etc/snelbalie/site.toml\nKIOSK_DATA_DIR=/var/lib/snelbalie\n' > /etc/snelbalie/environment
    chmod 640 /etc/snelbalie/environment && chgrp snelbalie /etc/snelbalie/environment
fi

# The new release is a virtual environment of its own, built while the old one keeps running.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml)
install -d /opt/snelbalie/releases
release=$(mktemp -d "/opt/snelbalie/releases/$version-$(date -u +%Y%m%dT%H%M%SZ)-XXX")
chmod 755 "$release"
python3 -m venv "$release"
"$release/bin/pip" install -q --root-user-action=ignore "${PWD}[pcsc,postgres,usb,serial]"
# The catalogs, compiled into the release's own package by Babel itself: the `kiosk` command
# would act on the office's settings, and as root it refuses the service's data directory.
"$release/bin/python" -m babel.messages.frontend -q compile -d "$release"/lib/python3*/site-packages/kiosk/translations
# It must make its app with this PC's site profile before it replaces the running one (with a
# scratch database and data directory: nothing of the office's is touched).
scratch=$(mktemp -d)
if ! KIOSK_ENVIRONMENT_FILE=/dev/null KIOSK_SITE=/etc/snelbalie/site.toml KIOSK_DATA_DIR="$scratch" \
    KIOSK_DATABASE_URL="sqlite:///$scratch/check.sqlite3" "$release/bin/python" -c 'import kiosk.app as a; a.create_app()'
then
    rm -rf "$scratch" "$release"
    echo "The new release does not start (see above); the running one is left as it was." >&2
    exit 1
fi
rm -rf "$scratch"

install -m 644 deploy/systemd/snelbalie.service /etc/systemd/system/
if [ "$screen" = no ]; then  # an office server: no kiosk screen, so no kiosk listener
    sed -i 's/ --kiosk-port 8081 / --no-kiosk /' /etc/systemd/system/snelbalie.service
    grep -q -- ' --no-kiosk ' /etc/systemd/system/snelbalie.service  # the unit still says what it replaces
fi
install -D -m 644 deploy/udev/99-snelbalie-printer.rules /etc/udev/rules.d/99-snelbalie-printer.rules
udevadm control --reload-rules 2>/dev/null || true
if [ "$screen" = yes ]; then
    id kiosk >/dev/null 2>&1 || useradd --create-home --groups video,input,render kiosk
    install -m 644 deploy/systemd/snelbalie-screen.service /etc/systemd/system/
fi

# Switch in one rename: `current` always names a complete release, the old one or the new.
previous=$(readlink /opt/snelbalie/current || true)
ln -sfn "$release" /opt/snelbalie/current.new
mv -T /opt/snelbalie/current.new /opt/snelbalie/current
systemctl daemon-reload
systemctl enable --now systemd-timesyncd.service || true
systemctl enable snelbalie.service
systemctl restart snelbalie.service
if [ "$screen" = yes ]; then
    systemctl enable snelbalie-screen.service
    systemctl restart snelbalie-screen.service
fi

# Only now that nothing runs from them: all releases but the new one and the one before go,
# and so does what an install from before releases left in /opt/snelbalie itself.
for dir in /opt/snelbalie/releases/*; do
    [ "$dir" = "$release" ] || [ "$dir" = "$previous" ] || rm -rf "$dir"
done
find /opt/snelbalie -mindepth 1 -maxdepth 1 ! -name releases ! -name current -exec rm -rf {} +
echo "Installed $release. Edit /etc/snelbalie/site.toml (then: systemctl restart snelbalie)."
