#!/usr/bin/env bash
# The Windows build, checked on Linux: cross-compiles kcdplan.exe with
# Debian's mingw, checks that it imports only Windows system DLLs, runs it
# under Wine on the shipped fixture and compares every file byte for byte
# with the Linux build's, checks exit codes and Windows-style paths, and
# runs the test suite under Wine. Installs what it needs when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
target=x86_64-pc-windows-gnu

need_apt=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need_apt+=(gcc-mingw-w64-x86-64-win32)
command -v wine >/dev/null 2>&1 || need_apt+=(wine wine64)
if [ "${#need_apt[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing for the Windows build: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null 2>&1 || {
        $sudo apt-get update -qq >/dev/null
        $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    }
fi
rustup target list --installed | grep -qx "$target" || rustup target add "$target" >/dev/null

echo "== build kcdplan.exe"
cargo build --release --locked --target "$target"
cargo build --release --locked
exe="$repo/target/$target/release/kcdplan.exe"
linux="$repo/target/release/kcdplan"

echo "== imports (objdump)"
allowed=" kernel32.dll ntdll.dll msvcrt.dll userenv.dll ws2_32.dll bcryptprimitives.dll advapi32.dll api-ms-win-core-synch-l1-2-0.dll "
imports=$(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/^\s*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)
echo "$imports" | sed 's/^/  /'
for dll in $imports; do
    case "$allowed" in
        *" $dll "*) ;;
        *) echo "kcdplan.exe imports $dll, which is not a Windows system DLL"; exit 1 ;;
    esac
done

echo "== Wine prefix"
work=$(mktemp -d)
# The server is stopped before its prefix is removed.
trap 'wineserver -k 2>/dev/null; wineserver -w 2>/dev/null; rm -rf "$work"' EXIT
export WINEPREFIX="$work/prefix" WINEDEBUG=-all,err+module WINEDLLOVERRIDES="mscoree,mshtml="
# One server for the whole run, started first: left to itself it exits a
# few seconds after its last process, and a test binary that starts just
# then loses its connection ("wine client error: recvmsg: Connection reset
# by peer").
mkdir -p "$WINEPREFIX"
wineserver -p
wineboot -i >/dev/null 2>&1 || true
# Test-only stand-in for the DLL Wine 8 lacks (see tests/wine/bcryptprimitives.c).
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    tests/wine/bcryptprimitives.c -ladvapi32

win() { wine "$exe" "$@"; }

echo "== fixture under Wine, byte for byte against Linux"
mkdir -p "$work/lin" "$WINEPREFIX/drive_c/kcd tests"
cp fixtures/hyperv-lab.csv "$WINEPREFIX/drive_c/kcd tests/Müller hyperv-lab.csv"
cp fixtures/hyperv-lab.csv "$work/lin/Müller hyperv-lab.csv"
(cd "$work/lin" && "$linux" render "Müller hyperv-lab.csv" --out out >/dev/null)
win render 'C:\kcd tests\Müller hyperv-lab.csv' --out 'C:\kcd tests\Änderung 1' >/dev/null
for f in delegation.ldif apply.ps1 rollback.ps1 plan.json summary.md; do
    cmp "$work/lin/out/$f" "$WINEPREFIX/drive_c/kcd tests/Änderung 1/$f"
    echo "  $f: identical"
done
head -c 3 "$WINEPREFIX/drive_c/kcd tests/Änderung 1/apply.ps1" | od -An -tx1 | grep -q 'ef bb bf'
! grep -q $'\r' "$WINEPREFIX/drive_c/kcd tests/Änderung 1/delegation.ldif"

echo "== exit codes under Wine"
set +e
win check 'C:\kcd tests\Müller hyperv-lab.csv' >/dev/null 2>&1; ok=$?
printf 'principal,service,target\nvmhost1.contoso.com,cifs,bad..name\n' > "$WINEPREFIX/drive_c/kcd tests/bad.csv"
msg=$(win check 'C:\kcd tests\bad.csv' 2>&1 >/dev/null); bad=$?
win render 2>/dev/null; usage=$?
set -e
echo "  success=$ok bad-input=$bad usage=$usage"
[ "$ok" = 0 ] && [ "$bad" = 1 ] && [ "$usage" = 2 ]
case "$msg" in
    *"bad.csv:2: column 'target': 'bad..name' is not a valid host name: empty label"*) ;;
    *) echo "unexpected message under Wine: $msg"; exit 1 ;;
esac

echo "== test suite under Wine"
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
    cargo test --locked --target "$target"
