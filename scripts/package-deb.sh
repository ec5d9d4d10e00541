#!/usr/bin/env bash
# Builds the Linux packages: scripts/package-deb.sh BIN_DIR VERSION OUT_DIR
#   BIN_DIR  the folder with the Linux builds worktrace, worktrace-tray, worktrace-desktop and
#            worktrace-server (target/release for `make package`)
#   VERSION  the package version (e.g. 0.1.0)
# Writes OUT_DIR/worktrace-agent_VERSION_ARCH.deb (the `worktrace` agent: command line, tracking
# without a window), OUT_DIR/worktrace_VERSION_ARCH.deb (the tray and the desktop window, with
# the XDG autostart entry; depends on worktrace-agent) and OUT_DIR/worktrace-server_VERSION_ARCH.deb
# (the company server as a systemd service). Packed with Debian's own dpkg-deb, and each
# package's library dependencies found by dpkg-shlibdeps from its binaries.
# DEB_COMPRESSION (default xz) is dpkg-deb's -Z: the package test packs debug builds with
# "none", which xz would spend more than a minute on.
# DEB_PACKAGES (default all three) names the packages to build; only their programs must be
# in BIN_DIR (the update test builds worktrace-agent alone, of a version it stamps).
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BIN_DIR VERSION OUT_DIR" >&2
  exit 2
fi
bin=$(cd "$1" && pwd) version=$2
mkdir -p "$3"
out=$(cd "$3" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in dpkg-deb dpkg-shlibdeps dpkg-architecture strip; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing: apt-get install dpkg-dev (make deps)" >&2; exit 1; }
done
packages=${DEB_PACKAGES:-worktrace-agent worktrace worktrace-server}
# wanted NAME: whether NAME is to be built.
wanted() { [[ " $packages " == *" $1 "* ]]; }
for name in $packages; do
  case $name in
    worktrace-agent) exes="worktrace" ;;
    worktrace) exes="worktrace-tray worktrace-desktop" ;;
    worktrace-server) exes="worktrace-server" ;;
    *) echo "$0: DEB_PACKAGES names $name, which is none of worktrace-agent, worktrace and worktrace-server" >&2; exit 1 ;;
  esac
  for exe in $exes; do
    [ -x "$bin/$exe" ] || { echo "$0: $bin/$exe is missing: build it first (make package does)" >&2; exit 1; }
  done
done
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The Depends line of the given binaries' shared libraries (dpkg-shlibdeps wants a debian/
# folder to work in; it is only scaffolding here).
shlibdeps() {
  mkdir -p "$work/shlibs/debian"
  printf 'Source: worktrace\n\nPackage: worktrace\nArchitecture: any\n' > "$work/shlibs/debian/control"
  (cd "$work/shlibs" && dpkg-shlibdeps -O "$@" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# stage NAME: an empty package tree with its documentation folder.
stage() {
  local dir="$work/$1"
  mkdir -p "$dir/DEBIAN" "$dir/usr/share/doc/$1"
  cp "$root/README.md" "$dir/usr/share/doc/$1/"
  echo "$dir"
}

# control NAME DEPENDS DESCRIPTION...: writes DEBIAN/control.
control() {
  local name=$1 depends=$2 summary=$3 long=$4
  local dir="$work/$name" size
  # Debug information stays out of the package (as dh_strip does); symbols stay, so a crash's
  # backtrace still names functions.
  find "$work/$name/usr/bin" -type f -exec strip --strip-debug {} +
  size=$(du -sk --exclude=DEBIAN "$dir" | cut -f1)
  cat > "$dir/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: Worktrace <packages@worktrace.invalid>
Installed-Size: $size
Depends: $depends
Section: utils
Priority: optional
Homepage: https://worktrace.invalid
Description: $summary
$long
CONTROL
}

pack() {
  local name=$1
  dpkg-deb --root-owner-group "-Z${DEB_COMPRESSION:-xz}" --build "$work/$name" "$out/${name}_${version}_${arch}.deb" >/dev/null
  echo "package-deb: $out/${name}_${version}_${arch}.deb"
}

# worktrace-agent: the agent. Machine-wide settings go in /etc/worktrace/worktrace.toml (not
# shipped: the admin or a deployment tool writes it), so removing the package leaves them and
# every user's data (~/.local/share/worktrace) alone. With it: the spool for updates and the
# systemd path unit and service that install what the users' agents leave there as root
# (packaging/linux/worktrace-agent.postinst says why the spool is 1733).
if wanted worktrace-agent; then
dir=$(stage worktrace-agent)
install -D -m 0755 "$bin/worktrace" "$dir/usr/bin/worktrace"
install -D -m 0644 "$root/packaging/linux/worktrace-update.path" "$dir/lib/systemd/system/worktrace-update.path"
install -D -m 0644 "$root/packaging/linux/worktrace-update.service" "$dir/lib/systemd/system/worktrace-update.service"
install -m 0755 "$root/packaging/linux/worktrace-agent.postinst" "$dir/DEBIAN/postinst"
install -m 0755 "$root/packaging/linux/worktrace-agent.prerm" "$dir/DEBIAN/prerm"
install -m 0755 "$root/packaging/linux/worktrace-agent.postrm" "$dir/DEBIAN/postrm"
install -D -m 0644 "$root/worktrace.example.toml" "$dir/usr/share/doc/worktrace-agent/worktrace.example.toml"
install -D -m 0644 "$root/docs/deployment.md" "$dir/usr/share/doc/worktrace-agent/deployment.md"
install -D -m 0644 "$root/docs/privacy.md" "$dir/usr/share/doc/worktrace-agent/privacy.md"
control worktrace-agent "$(shlibdeps "$dir/usr/bin/worktrace")" \
  "Worktrace time tracking agent" \
  " Records work sessions, the active window, idle time and data-export actions into a local
 database on this PC and, when a company server is set, uploads summaries to it.
 Machine-wide settings: /etc/worktrace/worktrace.toml."
pack worktrace-agent
fi

# worktrace: the tray (started at every login by /etc/xdg/autostart) and the window.
if wanted worktrace; then
dir=$(stage worktrace)
install -D -m 0755 "$bin/worktrace-tray" "$dir/usr/bin/worktrace-tray"
install -D -m 0755 "$bin/worktrace-desktop" "$dir/usr/bin/worktrace-desktop"
install -D -m 0644 "$root/packaging/linux/worktrace-tray.desktop" "$dir/etc/xdg/autostart/worktrace-tray.desktop"
install -D -m 0644 "$root/packaging/linux/worktrace.desktop" "$dir/usr/share/applications/worktrace.desktop"
install -D -m 0644 "$root/icons/128x128.png" "$dir/usr/share/icons/hicolor/128x128/apps/worktrace.png"
install -D -m 0644 "$root/icons/32x32.png" "$dir/usr/share/icons/hicolor/32x32/apps/worktrace.png"
echo "/etc/xdg/autostart/worktrace-tray.desktop" > "$dir/DEBIAN/conffiles"
control worktrace "worktrace-agent (>= $version), $(shlibdeps "$dir/usr/bin/worktrace-tray" "$dir/usr/bin/worktrace-desktop")" \
  "Worktrace time tracker: tray and desktop app" \
  " The tray icon that keeps tracking for each user from login (clock in and out, pause)
 and the window that shows the employee everything recorded about them."
pack worktrace
fi

# worktrace-server: a systemd service as its own user, data in /var/lib/worktrace-server.
if wanted worktrace-server; then
dir=$(stage worktrace-server)
install -D -m 0755 "$bin/worktrace-server" "$dir/usr/bin/worktrace-server"
install -D -m 0644 "$root/packaging/linux/worktrace-server.service" "$dir/lib/systemd/system/worktrace-server.service"
install -D -m 0644 "$root/packaging/linux/server.toml" "$dir/etc/worktrace-server/server.toml"
install -D -m 0644 "$root/docs/deployment.md" "$dir/usr/share/doc/worktrace-server/deployment.md"
echo "/etc/worktrace-server/server.toml" > "$dir/DEBIAN/conffiles"
install -m 0755 "$root/packaging/linux/worktrace-server.postinst" "$dir/DEBIAN/postinst"
install -m 0755 "$root/packaging/linux/worktrace-server.prerm" "$dir/DEBIAN/prerm"
install -m 0755 "$root/packaging/linux/worktrace-server.postrm" "$dir/DEBIAN/postrm"
control worktrace-server "adduser, $(shlibdeps "$dir/usr/bin/worktrace-server")" \
  "Worktrace company server" \
  " The API and dashboard that Worktrace agents upload to and team leads read, as the
 systemd service worktrace-server (SQLite in /var/lib/worktrace-server, or PostgreSQL)."
pack worktrace-server
fi
