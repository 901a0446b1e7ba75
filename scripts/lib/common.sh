# Shared by the scripts in scripts/: paths, idempotent set-up, the node binary.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# One persistent target directory outside the clone, so CI and every checkout reuse the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/loopx/target}"
NODE_BIN="$CARGO_TARGET_DIR/release/loopx-node"

log() { printf '\033[1;34m[loopx]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[loopx] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Debian packages the build needs: protoc (litep2p's protobufs), OpenSSL headers (WebRTC
# transport), pkg-config, Node.js + npm and iproute2 for the end-to-end tests, a TTF font for the simulator's
# PNG plots, and pip for fetching MovieLens-100K (benchmarks only).
ensure_debian_packages() {
	local missing=()
	command -v protoc >/dev/null || missing+=(protobuf-compiler)
	command -v pkg-config >/dev/null || missing+=(pkg-config)
	dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
	command -v node >/dev/null || missing+=(nodejs)
	command -v npm >/dev/null || missing+=(npm)
	command -v python3 >/dev/null || missing+=(python3)
	# ip netns for the partition test; curl for scripts/local-net.sh status.
	command -v ip >/dev/null || missing+=(iproute2)
	command -v curl >/dev/null || missing+=(curl)
	python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing Debian packages: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The runtime is compiled to WebAssembly: it needs the wasm targets and the standard library's
# source (wasm-builder builds `core`/`alloc` itself for wasm32v1-none).
ensure_rust_toolchain() {
	command -v rustup >/dev/null || die "rustup is required (https://rustup.rs)"
	local installed
	installed="$(rustup target list --installed)"
	for target in wasm32-unknown-unknown wasm32v1-none; do
		grep -qx "$target" <<<"$installed" || { log "adding rust target $target"; rustup target add "$target"; }
	done
	rustup component list --installed | grep -q '^rust-src' || { log "adding rust-src"; rustup component add rust-src; }
	# scripts/test.sh checks the formatting.
	rustup component list --installed | grep -q '^rustfmt' || { log "adding rustfmt"; rustup component add rustfmt; }
	rustup component list --installed | grep -q '^clippy' || { log "adding clippy"; rustup component add clippy; }
}

ensure_setup() {
	ensure_debian_packages
	ensure_rust_toolchain
}

build_node() {
	log "building loopx-node and the e2e test client loopx-flood (release) into $CARGO_TARGET_DIR"
	(cd "$REPO_ROOT" && cargo build --release --locked -p loopx-node -p loopx-flood)
}

# The runtime of an earlier release, for the end-to-end runtime-upgrade test: a local network
# starts on it and upgrades to the runtime built from this checkout (spec version bump, storage
# migrations). Its source is fixed by commit, so after the first build (~25 minutes on 2 cores)
# it is never rebuilt. Prints the path of its compressed WebAssembly.
UPGRADE_FROM_COMMIT=50d5d8b9f0327ad8921e13611c8efb6f0edddc3e
build_upgrade_fixture() {
	local root="$HOME/.cache/loopx/upgrade-from" src target wasm
	src="$root/src-${UPGRADE_FROM_COMMIT:0:12}"
	target="$root/target"
	wasm="$target/release/wbuild/loopx-runtime/loopx_runtime.compact.compressed.wasm"
	if [ ! -f "$src/.complete" ]; then
		log "unpacking the runtime source of release ${UPGRADE_FROM_COMMIT:0:12} into $src"
		rm -rf "$src" && mkdir -p "$src"
		(cd "$REPO_ROOT" && git archive "$UPGRADE_FROM_COMMIT" | tar -x -C "$src") ||
			die "could not unpack release $UPGRADE_FROM_COMMIT (a clone with its history is needed)"
		touch "$src/.complete"
	fi
	if [ ! -f "$wasm" ] || [ ! -f "$root/.built-${UPGRADE_FROM_COMMIT:0:12}" ]; then
		log "building the runtime of release ${UPGRADE_FROM_COMMIT:0:12} into $target (once)"
		# Check mode for the native side: only the build script's WebAssembly is needed.
		(cd "$src" && CARGO_TARGET_DIR="$target" WASM_BUILD_TYPE=release cargo check --release --locked -p loopx-runtime) >&2 ||
			die "the upgrade fixture's runtime did not build"
		[ -f "$wasm" ] || die "the upgrade fixture's WebAssembly was not built ($wasm)"
		touch "$root/.built-${UPGRADE_FROM_COMMIT:0:12}"
	fi
	echo "$wasm"
}

# The source tree of the runtime-upgrade test's earlier release (unpacked by
# build_upgrade_fixture): its chain-spec/local/genesis.json is the genesis that release shipped.
upgrade_fixture_source() {
	echo "$HOME/.cache/loopx/upgrade-from/src-${UPGRADE_FROM_COMMIT:0:12}"
}

# npm packages of the end-to-end tests, pinned by e2e/package-lock.json.
ensure_e2e_packages() {
	if [ ! -d "$REPO_ROOT/e2e/node_modules/@polkadot/api" ]; then
		log "installing end-to-end test packages (npm ci)"
		(cd "$REPO_ROOT/e2e" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}
