//! The learning workers' costs, for the benchmark report (`scripts/bench/throughput.sh` runs
//! it with the transfer baseline): bytes of a model on the wire against the dense model of the
//! same layer sizes, bytes of one gossip round, training time of a round and verification time
//! of a claim (what every voter spends re-scoring a claimed model).
//!
//! `cargo bench -p loopx-worker --bench learning [-- --out FILE]` prints a Markdown section.

use std::time::{Duration, Instant};

use codec::Encode;
use loopx_ml_kernels::models::mlp::MlpSpec;
use loopx_model_spec::{Architecture, Modes, Precision, TtLayer};
use loopx_worker::{
	demo_data::{eval_set, training_shard},
	payload_net::PayloadRequest,
	training::TaskModel,
};
use pallet_builder_market::{HyperParams, Metric};
use sp_core::H256;

const HYPER: HyperParams = HyperParams { learning_rate_ppm: 100_000, batch_size: 64, local_steps: 60, seed: 7 };
const REPEATS: usize = 15;

fn architecture(spec: &MlpSpec) -> Architecture {
	let modes = |v: &[usize]| Modes::truncate_from(v.iter().map(|&m| m as u32).collect::<Vec<_>>());
	let layers: Vec<TtLayer> =
		spec.layers.iter().map(|l| TtLayer { out_modes: modes(&l.out_modes), in_modes: modes(&l.in_modes), rank: l.rank as u32 }).collect();
	Architecture::Classifier { layers: layers.try_into().expect("three layers fit") }
}

fn model(spec: &MlpSpec, precision: Precision) -> TaskModel {
	TaskModel::new(0, &architecture(spec), precision, Metric::Auc, HYPER).expect("a fraud classifier")
}

fn median(mut v: Vec<Duration>) -> Duration {
	v.sort();
	v[v.len() / 2]
}

fn main() {
	let out = std::env::args().skip_while(|a| a != "--out").nth(1);
	let request = PayloadRequest::Fetch(H256::zero()).encode().len();
	let eval = eval_set();
	let shard = training_shard(1);
	let mut md = String::from("## Learning workers\n\n");
	md.push_str(&format!(
		"`cargo bench -p loopx-worker --bench learning`: fraud classifiers over the 16 wallet features, a round of \
		 {} SGD steps × {} rows; verification = decode the payload and score it on the {}-row evaluation set (what \
		 every voter does per claim); medians of {REPEATS} runs on one core. A gossip round with n validators: each \
		 claims one model and each of the other n−1 fetches it (request {request} B).\n\n",
		HYPER.local_steps,
		HYPER.batch_size,
		eval.len()
	));
	md.push_str("| model | params | dense params | payload int8 | int4 | f32 | dense f32 payload | int8 vs dense | round, 3 validators (int8) | round, 100 validators (int8) | training / round | verification / claim |\n");
	md.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (name, spec) in
		[("TT 16→4·4→4·4→1, rank 3 (e2e task)", MlpSpec::fraud([4, 4], 3)), ("TT 16→16·16→16·16→1, rank 4", MlpSpec::fraud([16, 16], 4))]
	{
		let dense = spec.dense();
		let int8 = model(&spec, Precision::Int8);
		let bytes = |m: &TaskModel| m.encode(m.initial(), 1, 0, 0, &[0; 12]).expect("encodes").len();
		let (b8, b4, b32) = (bytes(&int8), bytes(&model(&spec, Precision::Int4)), bytes(&model(&spec, Precision::F32)));
		let dense_bytes = bytes(&model(&dense, Precision::F32));
		let round = |n: usize| n * (n - 1) * (b8 + request);
		let mut train = Vec::new();
		let mut verify = Vec::new();
		let mut payload = Vec::new();
		for i in 0..REPEATS {
			let started = Instant::now();
			let trained = int8.train(int8.initial(), &shard, i as u64);
			train.push(started.elapsed());
			payload = int8.encode(&trained, 1, 60, i as u64, &[0; 12]).expect("encodes");
			let started = Instant::now();
			let score = int8.score_payload(&payload, &eval).expect("scores");
			verify.push(started.elapsed());
			std::hint::black_box(score);
		}
		assert_eq!(payload.len(), b8, "a payload's size does not depend on its values");
		md.push_str(&format!(
			"| {name} | {} | {} | {b8} B | {b4} B | {b32} B | {dense_bytes} B | {:.1} % | {:.1} KiB | {:.1} MiB | {:.1} ms | {:.1} ms |\n",
			spec.num_params(),
			dense.num_params(),
			100.0 * b8 as f64 / dense_bytes as f64,
			round(3) as f64 / 1024.0,
			round(100) as f64 / (1024.0 * 1024.0),
			median(train).as_secs_f64() * 1e3,
			median(verify).as_secs_f64() * 1e3,
		));
	}
	print!("{md}");
	if let Some(path) = out {
		std::fs::write(&path, &md).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
	}
}
