#!/usr/bin/env bash
# Fetches MovieLens-100K for the recommender benchmark (B1) from the `recbole` wheel on PyPI,
# which ships it as RecBole atomic files, and prints the path of `ml-100k.inter`. The data set
# is cached outside the repository (never commit it): $LOOPX_DATA_DIR, default
# ~/.cache/loopx/data. Idempotent: a cached, checksum-verified copy is reused.
set -euo pipefail

data_dir="${LOOPX_DATA_DIR:-$HOME/.cache/loopx/data}"
wheel_version="1.2.1"
# sha256 of ml-100k.inter inside recbole 1.2.1 (checked on 2026-11-22).
want="4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"
target="$data_dir/ml-100k/ml-100k.inter"

if [ -f "$target" ] && echo "$want  $target" | sha256sum -c --status; then
	echo "$target"
	exit 0
fi

mkdir -p "$data_dir/recbole" "$data_dir/ml-100k"
if ! command -v pip3 >/dev/null && ! python3 -m pip --version >/dev/null 2>&1; then
	echo "fetch-movielens: needs pip (Debian: apt-get install python3-pip)" >&2
	exit 1
fi
echo "fetch-movielens: downloading recbole==$wheel_version from PyPI" >&2
python3 -m pip download --quiet --no-deps "recbole==$wheel_version" -d "$data_dir/recbole" >&2
wheel="$(ls "$data_dir"/recbole/recbole-"$wheel_version"-*.whl | head -n1)"
python3 - "$wheel" "$target" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("recbole/dataset_example/ml-100k/ml-100k.inter"))
PY
if ! echo "$want  $target" | sha256sum -c --status; then
	echo "fetch-movielens: checksum mismatch for $target" >&2
	exit 1
fi
echo "$target"
