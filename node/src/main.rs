//! `loopx-node`: the LoopX validator and full node.
#![warn(missing_docs)]

mod chain_spec;
mod cli;
mod command;
mod preflight;
mod rpc;
mod service;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

fn main() -> sc_cli::Result<()> {
	command::run()
}
