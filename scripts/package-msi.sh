#!/usr/bin/env bash
# Builds the Windows installer: scripts/package-msi.sh BIN_DIR VERSION OUT.msi
#   BIN_DIR  the folder with the Windows builds worktrace.exe and worktrace-tray.exe
#   VERSION  the MSI's ProductVersion (major.minor.build, e.g. 0.1.0)
# from packaging/windows/worktrace.wxs with wixl, then sets what wixl cannot express (see the
# comments below) with msibuild, and checks that it did. `make package` and the installer test
# (crates/agent/tests/windows_install.rs) both build it this way.
# Code signing (Authenticode, with osslsigncode): set WINDOWS_SIGN_CERT (the certificate chain,
# PEM) and WINDOWS_SIGN_KEY (its private key, PEM, unencrypted), and WINDOWS_SIGN_TIMESTAMP_URL
# for a timestamp server; then both programs are signed before they are packed, and the MSI
# after. Without them nothing is signed.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BIN_DIR VERSION OUT.msi" >&2
  exit 2
fi
bin=$1 version=$2 out=$3
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in wixl msibuild msiinfo x86_64-w64-mingw32-strip; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing: apt-get install wixl msitools (make deps)" >&2; exit 1; }
done
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "$0: version '$version' must be major.minor.build (numbers), as Windows Installer compares them" >&2
  exit 1
fi
for exe in worktrace.exe worktrace-tray.exe; do
  [ -f "$bin/$exe" ] || { echo "$0: $bin/$exe is missing: build it with make windows (or make package)" >&2; exit 1; }
done
if [ -n "${WINDOWS_SIGN_CERT:-}${WINDOWS_SIGN_KEY:-}" ]; then
  command -v osslsigncode >/dev/null || { echo "$0: osslsigncode is missing: apt-get install osslsigncode (make deps)" >&2; exit 1; }
  for f in "${WINDOWS_SIGN_CERT:-}" "${WINDOWS_SIGN_KEY:-}"; do
    [ -f "$f" ] || { echo "$0: WINDOWS_SIGN_CERT and WINDOWS_SIGN_KEY must both name PEM files ('$f' is none)" >&2; exit 1; }
  done
fi

# sign IN: Authenticode-signs IN in place when a certificate is set.
sign() {
  [ -n "${WINDOWS_SIGN_CERT:-}" ] || return 0
  local ts=()
  [ -z "${WINDOWS_SIGN_TIMESTAMP_URL:-}" ] || ts=(-ts "$WINDOWS_SIGN_TIMESTAMP_URL")
  osslsigncode sign -certs "$WINDOWS_SIGN_CERT" -key "$WINDOWS_SIGN_KEY" -h sha256 \
    -n "Worktrace" -i "https://worktrace.invalid" "${ts[@]}" -in "$1" -out "$1.signed" >/dev/null
  mv "$1.signed" "$1"
}

# wixl takes source files relative to the folder it runs in.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bin/worktrace.exe" "$bin/worktrace-tray.exe" "$root/icons/icon.ico" \
  "$root/packaging/windows/worktrace.wxs" "$stage/"
# Debug information stays out of the installer; symbols stay, so a crash's backtrace still
# names functions.
x86_64-w64-mingw32-strip --strip-debug "$stage/worktrace.exe" "$stage/worktrace-tray.exe"
sign "$stage/worktrace.exe"
sign "$stage/worktrace-tray.exe"
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
(cd "$stage" && wixl -a x64 -D Version="$version" -D Bin=. -D Icons=. -o package.msi worktrace.wxs)

# wixl has no Component/Condition: the company settings are written only when the install names
# them (SERVER_URL=…, ENROLLMENT_TOKEN=…) or an earlier install did.
# It also ignores Before= for the deferred action that removes every user's data on
# REMOVE_DATA=1: deferred actions run only between InstallInitialize and InstallFinalize, so it
# goes right before RemoveFiles (3500), while the installed worktrace.exe it runs is still there.
# The same holds for the two deferred actions of the scheduled task that applies updates: making
# it goes right before InstallFinalize (6600), once the files are in place; removing it right
# before RemoveUserData, while worktrace.exe is still there.
# And it appends custom actions at the end of the sequence; the two that keep an earlier
# install's settings must run right after AppSearch (50), before the conditions are evaluated
# (CostFinalize), and they are plain immediate "set a property" actions (type 51).
msibuild "$stage/package.msi" \
  -q "UPDATE \`Component\` SET \`Condition\` = 'SERVER_URL' WHERE \`Component\` = 'ServerUrl'" \
  -q "UPDATE \`Component\` SET \`Condition\` = 'ENROLLMENT_TOKEN' WHERE \`Component\` = 'EnrollmentToken'" \
  -q "UPDATE \`CustomAction\` SET \`Type\` = 51 WHERE \`Action\` = 'KeepServerUrl' OR \`Action\` = 'KeepEnrollmentToken'" \
  -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 51 WHERE \`Action\` = 'KeepServerUrl'" \
  -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 52 WHERE \`Action\` = 'KeepEnrollmentToken'" \
  -q "UPDATE \`InstallUISequence\` SET \`Sequence\` = 51 WHERE \`Action\` = 'KeepServerUrl'" \
  -q "UPDATE \`InstallUISequence\` SET \`Sequence\` = 52 WHERE \`Action\` = 'KeepEnrollmentToken'" \
  -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 3490 WHERE \`Action\` = 'RemoveUserData'" \
  -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 6590 WHERE \`Action\` = 'RegisterApplyTask'" \
  -q "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 3480 WHERE \`Action\` = 'RemoveApplyTask'"

# msibuild reports no error when a WHERE matches nothing: check each change took.
check() {
  local table=$1 want=$2
  msiinfo export "$stage/package.msi" "$table" | tr -d '\r' | grep -qP "$want" || {
    echo "$0: the $table table lacks /$want/ after msibuild" >&2
    exit 1
  }
}
check Component '^ServerUrl\t.*\tSERVER_URL\t'
check Component '^EnrollmentToken\t.*\tENROLLMENT_TOKEN\t'
check CustomAction '^KeepServerUrl\t51\t'
check InstallExecuteSequence '^KeepServerUrl\t.*\t51$'
check InstallExecuteSequence '^KeepEnrollmentToken\t.*\t52$'
check InstallUISequence '^KeepEnrollmentToken\t.*\t52$'
check CustomAction '^RemoveUserData\t3090\tworktrace.exe\tremove-data --all-users --yes'
check InstallExecuteSequence '^RemoveUserData\t.*\t3490$'
check CustomAction '^RegisterApplyTask\t3154\tworktrace.exe\tupdate schedule'
check CustomAction '^RemoveApplyTask\t3154\tworktrace.exe\tupdate unschedule'
check InstallExecuteSequence '^RegisterApplyTask\tNOT REMOVE="ALL" AND NOT NO_UPDATE_TASK\t6590$'
check InstallExecuteSequence '^RemoveApplyTask\t.*\t3480$'
check CreateFolder '^UPDATESDIR\tUpdateSpool$'
sign "$stage/package.msi"
mv "$stage/package.msi" "$out"
echo "package-msi: $out"
