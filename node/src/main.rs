//! `loopx-node`: the LoopX validator and full node.
#![warn(missing_docs)]
// The CLI and service return `sc_cli::Error`/`sc_service::Error` (large enums of polkadot-sdk's):
// once, at start-up or shutdown, so their size costs nothing.
#![allow(clippy::result_large_err)]

mod babe_equivocation;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod chain_spec;
mod cli;
mod command;
mod preflight;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
