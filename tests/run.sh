#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it. Installs what the tests need
# (Samba's AD tools and Chromium, from Debian's packages, when missing), then checks
# formatting and lints, builds and tests the Windows binary under Wine,
# builds offline, fuzzes, and runs every test, Samba AD tests included.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES="samba-common-bin samba-ad-provision samba-dsdb-modules samba-vfs-modules ldb-tools python3-samba"

missing=0
if [ "${KCDPLAN_SKIP_SAMBA:-}" != 1 ]; then
    for tool in samba-tool ldbmodify ldbsearch ldbadd; do
        command -v "$tool" >/dev/null 2>&1 || missing=1
    done
fi
# Headless Chromium opens report.html in tests/report.rs.
if [ "${KCDPLAN_SKIP_BROWSER:-}" != 1 ] && [ ! -x /usr/bin/chromium ]; then
    PACKAGES="$PACKAGES chromium"
    missing=1
fi
if [ "$missing" = 1 ]; then
    if [ "$(id -u)" = 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        sudo="none"
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$sudo" != none ]; then
        echo "Installing what the tests need: $PACKAGES"
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null 2>&1 || {
            $sudo apt-get update -qq >/dev/null
            $sudo apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
        }
    else
        echo "Cannot install what the tests need here (needs apt-get as root or with sudo)."
        echo "Install: $PACKAGES"
        echo "The Samba and browser tests will fail until then; KCDPLAN_SKIP_SAMBA=1 and"
        echo "KCDPLAN_SKIP_BROWSER=1 skip them explicitly."
    fi
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings

# The Windows binary under Wine, and the offline build from vendored crates.
bash tests/windows.sh
bash tests/offline-build.sh

# Fuzz each target briefly (KCDPLAN_FUZZ_SECONDS each, default 30; 0 skips).
# Needs a nightly toolchain and cargo-fuzz; both are installed when missing.
fuzz_seconds="${KCDPLAN_FUZZ_SECONDS:-30}"
if [ "$fuzz_seconds" != 0 ]; then
    rustup toolchain list | grep -q '^nightly' ||
        rustup toolchain install nightly --profile minimal >/dev/null
    command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked >/dev/null 2>&1
    for target in csv_ingest export_reader export_path ldif_encoder powershell_escaper; do
        mkdir -p "fuzz/corpus/$target"
        log="fuzz/fuzz-$target.log"
        # Seeds: the test corpus and fixtures themselves, not copies.
        case "$target" in
            csv_ingest) seeds="../fixtures ../tests/corpus/bad ../tests/corpus/formats" ;;
            export_reader | export_path) seeds="../fixtures ../tests/corpus/exports ../tests/corpus/exports-hostile" ;;
            *) seeds="seeds/$target" ;;
        esac
        # shellcheck disable=SC2086
        if (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" $seeds \
                -- -max_total_time="$fuzz_seconds") >"$log" 2>&1; then
            echo "fuzz $target: $(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1)"
        else
            tail -n 60 "$log"
            echo "fuzz $target: FAILED (reproducer in fuzz/artifacts/$target)"
            exit 1
        fi
    done
fi

cargo test --locked

# The picture of a report in the README: the lab planned against its
# export, as the browser test drew it.
if [ -f target/report-shots/hyperv-lab-current.png ]; then
    cp target/report-shots/hyperv-lab-current.png docs/report.png
fi
