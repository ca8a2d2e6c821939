#!/usr/bin/env bash
# Proves the offline build the README documents: a source tarball with
# vendored crates builds with `--offline --locked` on a machine that has
# only a Rust toolchain (an empty CARGO_HOME: no registry, no cache).
# Usage: tests/offline-build.sh [TARBALL_TO_KEEP]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== source tarball with vendored crates"
git archive --format=tar --prefix=kcdplan/ HEAD | tar -x -C "$work"
(
    cd "$work/kcdplan"
    mkdir -p .cargo
    cargo vendor --locked --versioned-dirs vendor >.cargo/config.toml 2>/dev/null
)
tar -czf "$work/kcdplan-src.tar.gz" -C "$work" kcdplan
du -h "$work/kcdplan-src.tar.gz" | sed 's/^/  size: /'
[ -z "${1:-}" ] || cp "$work/kcdplan-src.tar.gz" "$1"

echo "== build from the tarball with an empty CARGO_HOME, --offline --locked"
mkdir "$work/clean" "$work/cargo-home"
tar -xzf "$work/kcdplan-src.tar.gz" -C "$work/clean"
# cargo reads .cargo/config.toml from the current folder: build from inside.
(cd "$work/clean/kcdplan" && CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$work/target" \
    cargo build --release --offline --locked)
"$work/target/release/kcdplan" render "$work/clean/kcdplan/fixtures/hyperv-lab.csv" --out "$work/out" >/dev/null
ls "$work/out" | tr '\n' ' ' | sed 's/^/  wrote: /'
echo
