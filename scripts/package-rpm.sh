#!/usr/bin/env bash
# Builds the RPM packages: scripts/package-rpm.sh BIN_DIR VERSION OUT_DIR
#   BIN_DIR  the folder with the Linux builds worktrace, worktrace-tray, worktrace-desktop and
#            worktrace-server (target/release for `make package`)
#   VERSION  the package version (e.g. 0.1.0)
# Writes OUT_DIR/worktrace-agent-VERSION-1.x86_64.rpm (the agent), worktrace-VERSION-1.x86_64.rpm
# (the tray and the desktop window, with the XDG autostart entry; requires worktrace-agent) and
# worktrace-server-VERSION-1.x86_64.rpm (the company server as a systemd service), the same
# contents as scripts/package-deb.sh's packages. Built with rpmbuild (Debian's rpm package) from
# the binaries as they are; rpmbuild finds each package's library requirements from them.
# RPM_PAYLOAD (default w19.zstdio) is rpmbuild's _binary_payload: the package test packs debug
# builds with w0.ufdio (uncompressed), which zstd would spend tens of seconds on.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BIN_DIR VERSION OUT_DIR" >&2
  exit 2
fi
bin=$(cd "$1" && pwd) version=$2
mkdir -p "$3"
out=$(cd "$3" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in rpmbuild strip; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing: apt-get install rpm (make deps)" >&2; exit 1; }
done
for exe in worktrace worktrace-tray worktrace-desktop worktrace-server; do
  [ -x "$bin/$exe" ] || { echo "$0: $bin/$exe is missing: build it first (make package does)" >&2; exit 1; }
done
if ! [[ $version =~ ^[0-9]+(\.[0-9]+)*$ ]]; then
  echo "$0: version '$version' must be numbers and dots (RPM orders them)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Debug information stays out of the packages (symbols stay), as in the .deb packages; the
# binaries are stripped into a copy, and rpmbuild's own post-processing (strip, debuginfo
# packages) is off.
mkdir -p "$work/bin"
for exe in worktrace worktrace-tray worktrace-desktop worktrace-server; do
  cp "$bin/$exe" "$work/bin/$exe"
  strip --strip-debug "$work/bin/$exe"
done

# build NAME: builds the package from the spec on standard input.
build() {
  local name=$1
  cat > "$work/$name.spec"
  rpmbuild -bb --quiet \
    --define "_topdir $work/rpm" \
    --define "_rpmdir $work/out" \
    --define "debug_package %{nil}" \
    --define "__os_install_post %{nil}" \
    --define "_build_id_links none" \
    --define "_binary_payload ${RPM_PAYLOAD:-w19.zstdio}" \
    --define "wt_version $version" \
    --define "wt_bin $work/bin" \
    --define "wt_root $root" \
    "$work/$name.spec" >/dev/null
  local rpm
  rpm=$(find "$work/out" -name "$name-$version-1.*.rpm" | head -n 1)
  [ -n "$rpm" ] || { echo "$0: rpmbuild made no $name package" >&2; exit 1; }
  mv "$rpm" "$out/"
  echo "package-rpm: $out/$(basename "$rpm")"
}

build worktrace-agent <<'SPEC'
Name: worktrace-agent
Version: %{wt_version}
Release: 1
Summary: Worktrace time tracking agent
License: MIT
URL: https://worktrace.invalid
%description
Records work sessions, the active window, idle time and data-export actions into a local
database on this PC and, when a company server is set, uploads summaries to it.
Machine-wide settings: /etc/worktrace/worktrace.toml.
%install
install -D -m 0755 %{wt_bin}/worktrace %{buildroot}/usr/bin/worktrace
install -D -m 0644 %{wt_root}/worktrace.example.toml %{buildroot}/usr/share/doc/worktrace-agent/worktrace.example.toml
install -D -m 0644 %{wt_root}/docs/deployment.md %{buildroot}/usr/share/doc/worktrace-agent/deployment.md
install -D -m 0644 %{wt_root}/docs/privacy.md %{buildroot}/usr/share/doc/worktrace-agent/privacy.md
%files
/usr/bin/worktrace
/usr/share/doc/worktrace-agent
SPEC

build worktrace <<'SPEC'
Name: worktrace
Version: %{wt_version}
Release: 1
Summary: Worktrace time tracker: tray and desktop app
License: MIT
URL: https://worktrace.invalid
Requires: worktrace-agent >= %{wt_version}
%description
The tray icon that keeps tracking for each user from login (clock in and out, pause) and the
window that shows the employee everything recorded about them.
%install
install -D -m 0755 %{wt_bin}/worktrace-tray %{buildroot}/usr/bin/worktrace-tray
install -D -m 0755 %{wt_bin}/worktrace-desktop %{buildroot}/usr/bin/worktrace-desktop
install -D -m 0644 %{wt_root}/packaging/linux/worktrace-tray.desktop %{buildroot}/etc/xdg/autostart/worktrace-tray.desktop
install -D -m 0644 %{wt_root}/packaging/linux/worktrace.desktop %{buildroot}/usr/share/applications/worktrace.desktop
install -D -m 0644 %{wt_root}/icons/128x128.png %{buildroot}/usr/share/icons/hicolor/128x128/apps/worktrace.png
install -D -m 0644 %{wt_root}/icons/32x32.png %{buildroot}/usr/share/icons/hicolor/32x32/apps/worktrace.png
%files
/usr/bin/worktrace-tray
/usr/bin/worktrace-desktop
%config(noreplace) /etc/xdg/autostart/worktrace-tray.desktop
/usr/share/applications/worktrace.desktop
/usr/share/icons/hicolor/128x128/apps/worktrace.png
/usr/share/icons/hicolor/32x32/apps/worktrace.png
SPEC

build worktrace-server <<'SPEC'
Name: worktrace-server
Version: %{wt_version}
Release: 1
Summary: Worktrace company server
License: MIT
URL: https://worktrace.invalid
%description
The API and dashboard that Worktrace agents upload to and team leads read, as the systemd
service worktrace-server (SQLite in /var/lib/worktrace-server, or PostgreSQL).
%install
install -D -m 0755 %{wt_bin}/worktrace-server %{buildroot}/usr/bin/worktrace-server
install -D -m 0644 %{wt_root}/packaging/linux/worktrace-server.service %{buildroot}/usr/lib/systemd/system/worktrace-server.service
install -D -m 0644 %{wt_root}/packaging/linux/server.toml %{buildroot}/etc/worktrace-server/server.toml
install -D -m 0644 %{wt_root}/docs/deployment.md %{buildroot}/usr/share/doc/worktrace-server/deployment.md
install -d -m 0700 %{buildroot}/var/lib/worktrace-server
%pre
getent group worktrace-server >/dev/null || groupadd --system worktrace-server
getent passwd worktrace-server >/dev/null || useradd --system --gid worktrace-server \
  --home-dir /var/lib/worktrace-server --no-create-home --shell /usr/sbin/nologin \
  --comment "Worktrace server" worktrace-server
exit 0
%post
# Enabled and started where systemd runs; elsewhere left to the admin.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  systemctl enable worktrace-server.service >/dev/null 2>&1 || :
  systemctl restart worktrace-server.service || :
fi
exit 0
%preun
if [ "$1" = 0 ] && [ -d /run/systemd/system ]; then
  systemctl stop worktrace-server.service >/dev/null 2>&1 || :
fi
exit 0
%files
/usr/bin/worktrace-server
/usr/lib/systemd/system/worktrace-server.service
%config(noreplace) /etc/worktrace-server/server.toml
%dir %attr(0700, worktrace-server, worktrace-server) /var/lib/worktrace-server
/usr/share/doc/worktrace-server
SPEC
