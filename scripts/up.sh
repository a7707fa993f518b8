#!/usr/bin/env bash
# The README's first command: installs what is missing (scripts/bootstrap.sh), then runs GreenGrader on this
# machine with embedded defaults (`greengrader up`). Services named in the environment are used, not started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
# node itself, not npx: Ctrl-C must reach the process that stops the services.
exec node --import tsx src/cli/main.ts up
