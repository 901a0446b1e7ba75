//! The gossip rounds and the central baseline.

use crate::{
	attack::forge,
	config::{MergeRule, PeerSampling, SimConfig},
	scenario::Scenario,
};
use loopx_ml_kernels::{
	burn::backend::{flex::FlexDevice, Autodiff, Flex},
	data::Dataset,
	models::{
		mlp::{Mlp, MlpSpec},
		state::{aggregate, merge_pair, ModelState, StateError},
		train::{evaluate, local_sgd},
	},
	privacy::GaussianMechanism,
	quant::ErrorFeedback,
	robust::AggregationError,
	tt::TtError,
	wire,
};
use rand::{seq::SliceRandom, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Cpu = Flex;
type Train = Autodiff<Flex>;

/// The model id every simulated node uses (one learning task).
const MODEL_ID: [u8; 32] = *b"loopx-sim/fraud-mlp/v1..........";

/// Why a simulation stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
	/// The settings cannot run.
	#[error("invalid settings: {0}")]
	Config(String),
	/// A model operation failed.
	#[error(transparent)]
	State(#[from] StateError),
	/// A message failed to encode or decode.
	#[error(transparent)]
	Wire(#[from] wire::WireError),
	/// An evaluation failed.
	#[error(transparent)]
	Metric(#[from] loopx_ml_kernels::metrics::MetricError),
}

/// One round's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundStats {
	/// Round number (1-based; 0 = before any round).
	pub round: usize,
	/// Mean test AUC of the evaluated honest nodes.
	pub mean_auc: f64,
	/// Lowest of them.
	pub min_auc: f64,
	/// Highest of them.
	pub max_auc: f64,
	/// Mean test log-loss.
	pub mean_log_loss: f64,
	/// Bytes sent so far (encoded messages).
	pub bytes: u64,
	/// Messages sent so far.
	pub messages: u64,
	/// Nodes online this round.
	pub online: usize,
	/// Merges that fell back to keeping the own model (too few inputs for a robust rule, or a
	/// non-finite result), so far.
	pub fallbacks: u64,
	/// Local updates dropped because they produced non-finite weights (so far).
	pub diverged: u64,
}

/// The model architecture of `cfg`.
pub fn spec(cfg: &SimConfig) -> MlpSpec {
	let spec = MlpSpec::fraud(cfg.hidden, cfg.rank.max(1));
	if cfg.rank == 0 {
		spec.dense()
	} else {
		spec
	}
}

fn check(cfg: &SimConfig) -> Result<(), SimError> {
	let bad = |m: &str| Err(SimError::Config(m.into()));
	if cfg.nodes < 2 {
		return bad("at least two nodes");
	}
	if cfg.fanin == 0 || cfg.batch == 0 || cfg.block == 0 {
		return bad("--fanin, --batch and --block must be positive");
	}
	if !(0.0..1.0).contains(&cfg.churn) || !(0.0..1.0).contains(&cfg.loss) || !(0.0..1.0).contains(&cfg.byzantine) {
		return bad("--churn, --loss and --byzantine must be in [0, 1)");
	}
	if !(0.0..=0.5).contains(&cfg.label_flip) || !(0.0..=1.0).contains(&cfg.keep) || cfg.keep == 0.0 {
		return bad("--label-flip must be in [0, 0.5] and --keep in (0, 1]");
	}
	// Written as "not (finite and positive)" so that NaN is refused too.
	#[allow(clippy::nonminimal_bool)]
	if !(cfg.clip_radius.is_finite() && cfg.clip_radius > 0.0) || !(cfg.clip_norm.is_finite() && cfg.clip_norm > 0.0) {
		return bad("--clip-radius and --clip-norm must be positive");
	}
	if cfg.peer_sampling == PeerSampling::View && (cfg.view == 0 || cfg.view >= cfg.nodes) {
		return bad("--view must be in [1, nodes)");
	}
	Ok(())
}

struct Node {
	state: ModelState,
	age: u64,
	feedback: ErrorFeedback,
	byzantine: bool,
}

fn sample_peer(i: usize, cfg: &SimConfig, views: &[Vec<usize>], rng: &mut ChaCha8Rng) -> usize {
	match cfg.peer_sampling {
		PeerSampling::View => views[i][rng.random_range(0..views[i].len())],
		PeerSampling::Uniform => {
			let p = rng.random_range(0..cfg.nodes - 1);
			if p >= i {
				p + 1
			} else {
				p
			}
		},
	}
}

fn evaluate_nodes(nodes: &[Node], test: &Dataset, cfg: &SimConfig, device: &FlexDevice) -> Result<(f64, f64, f64, f64), SimError> {
	let honest: Vec<&Node> = nodes.iter().filter(|n| !n.byzantine).collect();
	let count = cfg.eval_nodes.clamp(1, honest.len().max(1));
	let (mut sum, mut min, mut max, mut loss) = (0.0, f64::INFINITY, f64::NEG_INFINITY, 0.0);
	for k in 0..count {
		let node = honest[k * honest.len() / count];
		let m = evaluate(&Mlp::<Cpu>::from_state(&node.state, device), test, device)?;
		sum += m.auc;
		min = min.min(m.auc);
		max = max.max(m.auc);
		loss += m.log_loss;
	}
	Ok((sum / count as f64, min, max, loss / count as f64))
}

/// Runs the simulation, calling `on_round` after every round (and once for round 0).
pub fn run(cfg: &SimConfig, scenario: &Scenario, mut on_round: impl FnMut(&RoundStats)) -> Result<Vec<RoundStats>, SimError> {
	check(cfg)?;
	let device = FlexDevice;
	let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
	// One task, one initial model (the task's seed), as a deployed LoopX task starts.
	let init = Mlp::<Cpu>::new(&spec(cfg), cfg.seed, &device).state();
	let mut order: Vec<usize> = (0..cfg.nodes).collect();
	order.shuffle(&mut rng);
	let byzantine_count = (cfg.byzantine * cfg.nodes as f64).round() as usize;
	let mut nodes: Vec<Node> =
		(0..cfg.nodes).map(|_| Node { state: init.clone(), age: 0, feedback: ErrorFeedback::default(), byzantine: false }).collect();
	for &i in &order[..byzantine_count] {
		nodes[i].byzantine = true;
	}
	let views: Vec<Vec<usize>> = (0..cfg.nodes)
		.map(|i| {
			let mut others: Vec<usize> = (0..cfg.nodes).filter(|&j| j != i).collect();
			others.shuffle(&mut rng);
			others.truncate(cfg.view.max(1));
			others
		})
		.collect();
	let dp = (cfg.dp_noise > 0.0).then_some(GaussianMechanism { clip: cfg.dp_clip, noise_multiplier: cfg.dp_noise });
	let mut stats = Vec::with_capacity(cfg.rounds + 1);
	let (mut bytes, mut messages, mut fallbacks, mut diverged) = (0u64, 0u64, 0u64, 0u64);
	let (auc, min, max, loss) = evaluate_nodes(&nodes, &scenario.test, cfg, &device)?;
	let first = RoundStats {
		round: 0,
		mean_auc: auc,
		min_auc: min,
		max_auc: max,
		mean_log_loss: loss,
		bytes: 0,
		messages: 0,
		online: cfg.nodes,
		fallbacks: 0,
		diverged: 0,
	};
	on_round(&first);
	stats.push(first);
	for round in 1..=cfg.rounds {
		let online: Vec<bool> = (0..cfg.nodes).map(|_| rng.random::<f64>() >= cfg.churn).collect();
		// Every online node compresses its model once per round; pulls receive that message.
		let mut outbox: Vec<Option<Vec<u8>>> = Vec::with_capacity(cfg.nodes);
		for (i, node) in nodes.iter_mut().enumerate() {
			if !online[i] {
				outbox.push(None);
				continue;
			}
			// Byzantine peers claim a large age so that age-weighted merging trusts them.
			let (sent, age) = if node.byzantine {
				(forge(&node.state, cfg.attack, cfg.attack_scale, &mut rng), 10 * (round as u64 + 1) * cfg.local_steps as u64)
			} else {
				(node.state.clone(), node.age)
			};
			let msg = sent.to_message(MODEL_ID, round as u64, age, cfg.precision.into(), cfg.block, &mut node.feedback, &mut rng);
			outbox.push(Some(wire::encode(&msg)?));
		}
		for i in 0..cfg.nodes {
			if !online[i] || nodes[i].byzantine {
				continue;
			}
			let mut received: Vec<(ModelState, u64)> = Vec::with_capacity(cfg.fanin);
			for _ in 0..cfg.fanin {
				let peer = sample_peer(i, cfg, &views, &mut rng);
				let Some(bytes_out) = &outbox[peer] else {
					continue;
				};
				bytes += bytes_out.len() as u64;
				messages += 1;
				if rng.random::<f64>() < cfg.loss {
					continue;
				}
				let msg = wire::decode(bytes_out)?;
				received.push((nodes[i].state.from_message(&msg)?, msg.partition.age));
			}
			let node = &mut nodes[i];
			if cfg.merge == MergeRule::Mean {
				for (model, age) in received {
					match merge_pair(&node.state, node.age, &model, age) {
						Ok((merged, merged_age)) => {
							node.state = merged;
							node.age = merged_age;
						},
						Err(StateError::Tt(TtError::NonFinite)) => fallbacks += 1,
						Err(e) => return Err(e.into()),
					}
				}
			} else if !received.is_empty() {
				let mut inputs: Vec<&ModelState> = vec![&node.state];
				inputs.extend(received.iter().map(|(m, _)| m));
				let rule = cfg.aggregator(inputs.len()).ok_or_else(|| SimError::Config("no aggregator".into()))?;
				match aggregate(&inputs, &rule) {
					Ok(merged) => {
						node.age = received.iter().map(|(_, a)| *a).chain([node.age]).max().unwrap_or(node.age);
						node.state = merged;
					},
					Err(StateError::Aggregation(AggregationError::TooFew { .. }) | StateError::Tt(TtError::NonFinite)) => fallbacks += 1,
					Err(e) => return Err(e.into()),
				}
			}
			// Trimming from the first step can lock in a wrong model (the kept samples are the
			// ones the untrained model already agrees with), so selection starts after a warm-up.
			let keep = if round > cfg.keep_after { cfg.keep } else { 1.0 };
			let updated = local_sgd::<Train>(&node.state, &scenario.shards[i], cfg.local_steps, cfg.batch, cfg.lr, keep, &mut rng, &device);
			// A step that diverged (a poisoned merge can blow the weights up) is dropped: the
			// node keeps its merged model, as a real worker would.
			if updated.flatten().iter().any(|v| !v.is_finite()) {
				diverged += 1;
				continue;
			}
			node.state = match &dp {
				Some(mech) => {
					let before = node.state.flatten();
					let delta: Vec<f32> = updated.flatten().iter().zip(&before).map(|(a, b)| a - b).collect();
					let noisy = mech.privatize(&delta, &mut rng);
					let values: Vec<f32> = before.iter().zip(&noisy).map(|(b, d)| b + d).collect();
					ModelState::from_parts(&updated.shapes(), &values)?
				},
				None => updated,
			};
			node.age += cfg.local_steps as u64;
		}
		let (auc, min, max, loss) = evaluate_nodes(&nodes, &scenario.test, cfg, &device)?;
		let row = RoundStats {
			round,
			mean_auc: auc,
			min_auc: min,
			max_auc: max,
			mean_log_loss: loss,
			bytes,
			messages,
			online: online.iter().filter(|&&o| o).count(),
			fallbacks,
			diverged,
		};
		on_round(&row);
		stats.push(row);
	}
	Ok(stats)
}

/// The (ε, δ = 1e-5) one node spends over a run with DP on (`None` with it off).
pub fn privacy_spent(cfg: &SimConfig) -> Option<f64> {
	(cfg.dp_noise > 0.0).then(|| GaussianMechanism { clip: cfg.dp_clip, noise_multiplier: cfg.dp_noise }.epsilon(cfg.rounds as u64, 1e-5))
}

/// The centrally trained baseline: the same model and optimizer on the whole (clean) training
/// set, `steps` SGD steps of `cfg.batch`, every sample used. Returns its test AUC.
pub fn central_auc(cfg: &SimConfig, scenario: &Scenario, steps: usize) -> Result<f64, SimError> {
	let device = FlexDevice;
	let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0xCE27);
	let init = Mlp::<Cpu>::new(&spec(cfg), cfg.seed, &device).state();
	let trained = local_sgd::<Train>(&init, &scenario.train, steps, cfg.batch, cfg.lr, 1.0, &mut rng, &device);
	Ok(evaluate(&Mlp::<Cpu>::from_state(&trained, &device), &scenario.test, &device)?.auc)
}

/// The first round whose mean AUC reaches `target` (`None` if none does).
pub fn rounds_to(stats: &[RoundStats], target: f64) -> Option<usize> {
	stats.iter().find(|s| s.mean_auc >= target).map(|s| s.round)
}

/// Peak resident memory of this process so far, in KiB (Linux `VmHWM`; `None` elsewhere).
pub fn peak_rss_kib() -> Option<u64> {
	let status = std::fs::read_to_string("/proc/self/status").ok()?;
	let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
	line.split_whitespace().nth(1)?.parse().ok()
}
