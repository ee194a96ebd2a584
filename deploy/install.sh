#!/usr/bin/env bash
# Install Snelbalie on a Debian kiosk PC (run as root from a checkout):
#   deploy/install.sh            app + kiosk screen (touch screen, card reader, printer)
#   deploy/install.sh --server   app only (desks, boards, API) for an office server
set -euo pipefail
cd "$(dirname "$0")/.."
screen=yes
[ "${1:-}" = "--server" ] && screen=no

apt-get update -qq
# python3-dev: pyscard compiles against Python's headers; systemd-timesyncd: the kiosks'
# clocks stay in step with the office's (the dashboard shows each one's offset)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-dev gcc libpcsclite-dev swig pcscd \
    espeak-ng systemd-timesyncd
# cage runs Chromium under XWayland: without xwayland it exits "Cannot create XWayland server"
[ "$screen" = yes ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cage chromium xwayland

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

rm -rf /opt/snelbalie && mkdir -p /opt/snelbalie
cp -r pyproject.toml README.md babel.cfg kiosk hardware templates static /opt/snelbalie/
python3 -m venv /opt/snelbalie/.venv
/opt/snelbalie/.venv/bin/pip install -q "/opt/snelbalie[pcsc,postgres,usb,serial]"
/opt/snelbalie/.venv/bin/kiosk translations compile

install -m 644 deploy/systemd/snelbalie.service /etc/systemd/system/
if [ "$screen" = no ]; then  # an office server: no kiosk screen, so no kiosk listener
    sed -i 's/ --kiosk-port 8081 / --no-kiosk /' /etc/systemd/system/snelbalie.service
fi
install -m 644 deploy/udev/99-snelbalie-printer.rules /etc/udev/rules.d/
udevadm control --reload-rules || true
if [ "$screen" = yes ]; then
    id kiosk >/dev/null 2>&1 || useradd --create-home --groups video,input,render kiosk
    install -m 644 deploy/systemd/snelbalie-screen.service /etc/systemd/system/
fi
systemctl enable --now systemd-timesyncd.service || true
systemctl daemon-reload
systemctl enable --now snelbalie.service
[ "$screen" = yes ] && systemctl enable --now snelbalie-screen.service
echo "Edit /etc/snelbalie/site.toml (then: systemctl restart snelbalie)."
