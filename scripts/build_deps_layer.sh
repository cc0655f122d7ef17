#!/usr/bin/env bash
# Builds layers/deps/python for the Lambda runtime without Docker: pip downloads manylinux wheels
# for the target platform and Python version, then the packages the runtime already provides go.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$here/.venv/bin/python}"
target="$here/layers/deps/python"
stamp="$here/layers/deps/.built-from"
want="$(sha256sum "$here/layers/requirements-deps.txt" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$target" ]; then
  echo "dependency layer up to date ($target)"
  exit 0
fi
rm -rf "$target"
mkdir -p "$target"
"$python" -m pip install --quiet --disable-pip-version-check \
  --platform manylinux2014_x86_64 --implementation cp --python-version 3.14 --only-binary=:all: \
  --target "$target" -r "$here/layers/requirements-deps.txt"
# Provided by the Lambda Python runtime: keep the layer small and avoid shadowing the runtime's SDK.
(cd "$target" && rm -rf boto3 boto3-* botocore botocore-* s3transfer s3transfer-* urllib3 urllib3-* \
  jmespath jmespath-* dateutil python_dateutil-* six.py six-* bin __pycache__)
echo "$want" > "$stamp"
echo "dependency layer built: $(du -sh "$target" | cut -f1) in $target"
