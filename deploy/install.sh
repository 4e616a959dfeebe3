#!/usr/bin/env bash
# Install or upgrade Leadership Press on a Debian server, from this checkout:
#   sudo deploy/install.sh              user `press`, code in /srv/leadership-press, settings
#                                       in /etc/leadership-press, systemd units, Caddy
#   deploy/install.sh --stage DIR       lay out the same files under DIR and stop there (no
#                                       packages, user, ownership or systemctl): for a look
#                                       before installing, and for the tests
# Idempotent: a second run upgrades the code and the virtualenv and keeps press.env,
# caddy.env and the store. Set PRESS_INSTALL_SKIP_SETUP=1 to skip bin/setup.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
stage=""
[[ "${1:-}" == "--stage" ]] && stage="$(realpath -m "${2:?--stage needs a folder}")"

prefix="$stage/srv/leadership-press"
etc="$stage/etc/leadership-press"
units="$stage/etc/systemd/system"
caddy_etc="$stage/etc/caddy"
backups="$stage/var/backups/leadership-press"
live=$([[ -z "$stage" ]] && echo true || echo false)

step() { echo "install: $*" >&2; }

if $live; then
  [[ $(id -u) == 0 ]] || { echo "install: run as root (sudo), or use --stage DIR" >&2; exit 1; }
  step "Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-venv git caddy sqlite3 >/dev/null
  id -u press >/dev/null 2>&1 || useradd --system --home-dir /srv/leadership-press \
    --shell /usr/sbin/nologin press
fi

step "folders"
install -d "$prefix" "$prefix/var" "$etc" "$units" "$caddy_etc" "$backups" \
  "$units/caddy.service.d"

step "code into $prefix"
if [[ "$here" != "$(realpath -m "$prefix")" ]]; then
  # The store, the built site and the virtualenv stay where they are.
  (cd "$here" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$prefix"
fi

step "settings (kept if present)"
[[ -f "$etc/press.env" ]] || install -m 640 "$here/deploy/press.env.example" "$etc/press.env"
[[ -f "$etc/caddy.env" ]] || install -m 644 "$here/deploy/caddy.env.example" "$etc/caddy.env"

step "systemd units and Caddy"
for unit in press-subscriptions.service press-send.service press-send.timer press-build.service press-build.timer \
  press-backup.service press-backup.timer; do
  sed -e "s#/srv/leadership-press#${stage}/srv/leadership-press#g" \
    -e "s#/etc/leadership-press#${stage}/etc/leadership-press#g" \
    "$here/deploy/$unit" > "$units/$unit"
done
sed "s#/etc/leadership-press#${stage}/etc/leadership-press#g" "$here/deploy/caddy-press.conf" \
  > "$units/caddy.service.d/press.conf"
install -m 644 "$here/deploy/Caddyfile" "$caddy_etc/Caddyfile"
install -d "$stage/etc/logrotate.d"
install -m 644 "$here/deploy/logrotate.conf" "$stage/etc/logrotate.d/leadership-press"

if $live; then
  chown -R press:press "$prefix" "$backups"
  chown root:press "$etc/press.env"
fi
if [[ "${PRESS_INSTALL_SKIP_SETUP:-}" != 1 ]]; then
  step "virtualenv (bin/setup)"
  if $live; then runuser -u press -- "$prefix/bin/setup"; else "$prefix/bin/setup"; fi
fi

if $live; then
  step "migrate the store and start"
  (cd "$prefix" && set -a && . "$etc/press.env" && set +a \
    && runuser -u press -- "$prefix/.venv/bin/press" subscribers count >/dev/null)
  systemctl daemon-reload
  systemctl enable --now press-subscriptions.service press-send.timer press-backup.timer press-build.timer
  systemctl restart press-subscriptions.service caddy.service
  step "done: fill in $etc/press.env and $etc/caddy.env, then: systemctl restart press-subscriptions caddy"
else
  step "staged in $stage"
fi
