#!/usr/bin/env bash
# The main job: set up (first time only) and run the default experiment.
# Extra arguments are Hydra overrides, e.g.  bash scripts/run.sh firm/programme=engagement seed=7
source "$(dirname "$0")/_bootstrap.sh"
exec .venv/bin/loyaltysim "$@"
