#!/usr/bin/env bash
# Snakemake runs this inside the environment it has just created from necomimi.yaml
# (`--software-deployment-method conda`), once per environment. It installs necomimi
# itself, editable, from the checkout whose workflow is running: workflow/rules/common.smk
# sets NECOMIMI_SOURCE to that checkout before any environment is created. No download:
# the build uses the environment's setuptools and skips dependencies (the YAML pins them).
set -euo pipefail
: "${NECOMIMI_SOURCE:?is not set: run this through the necomimi workflow (workflow/rules/common.smk sets it)}"
if [ ! -f "$NECOMIMI_SOURCE/pyproject.toml" ]; then
    echo "NECOMIMI_SOURCE=$NECOMIMI_SOURCE holds no pyproject.toml: expected the necomimi checkout" >&2
    exit 1
fi
python -m pip install --quiet --no-deps --no-build-isolation --editable "$NECOMIMI_SOURCE"
python -c "import necomimi; print('necomimi', necomimi.__version__, 'from', necomimi.__file__)"
