#!/usr/bin/env bash
# Setup and the main job: installs what is missing, builds, and runs
# `uname -a` sandboxed. It prints "Linux <host> 4.4.0 ... x86_64": the
# application talks to our Sentry, not the host kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
exec ./build/runsc/runsc do -- uname -a
