#!/bin/sh
# Renders the committed PNG/ICO icons from the SVG sources in this folder.
# Needs rsvg-convert (librsvg2-bin) and ImageMagick's convert.
set -eu
cd "$(dirname "$0")"
out=..
r() { rsvg-convert -w "$2" -h "$2" "$1" -o "$3"; convert "$3" -define png:color-type=6 "PNG32:$3"; }
r app.svg 32 "$out/32x32.png"
r app.svg 128 "$out/128x128.png"
r app.svg 256 "$out/128x128@2x.png"
r app.svg 512 "$out/icon.png"
for s in 16 24 32 48 64 256; do r app.svg $s "/tmp/worktrace-icon-$s.png"; done
convert /tmp/worktrace-icon-16.png /tmp/worktrace-icon-24.png /tmp/worktrace-icon-32.png \
  /tmp/worktrace-icon-48.png /tmp/worktrace-icon-64.png /tmp/worktrace-icon-256.png "$out/icon.ico"
r tray-in.svg 64 "$out/tray-in.png"
r tray-out.svg 64 "$out/tray-out.png"
