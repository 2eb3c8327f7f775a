#!/usr/bin/env bash
# The main job: set up (first time only), then run the default experiment: no programme vs
# discount vs engagement, 20 seeds each (conf/experiment/head_to_head.yaml), and print the
# comparison table; figures land in outputs/main/comparison/. Re-running skips finished runs.
# With arguments, runs `loyaltysim ARGS` instead, e.g.
#   bash scripts/run.sh firm/programme=engagement seed=7        # one run
source "$(dirname "$0")/_bootstrap.sh"
if [ "$#" -gt 0 ]; then
    exec .venv/bin/loyaltysim "$@"
fi
.venv/bin/loyaltysim -m experiment=head_to_head hydra.sweep.dir=outputs/main
.venv/bin/loyaltysim-compare outputs/main --baseline none
