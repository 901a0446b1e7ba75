//! Simulation settings (also the `loopx-sim run` command line).

use clap::ValueEnum;
use loopx_ml_kernels::{quant::Precision, robust::Aggregator};

/// How nodes merge what they receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MergeRule {
	/// Algorithm 1: age-weighted average with each received model in turn (sound TT merge).
	Mean,
	/// Coordinate-wise median of own + received models (in the dense space).
	Median,
	/// Coordinate-wise trimmed mean (drops `--trim` at each end).
	Trimmed,
	/// Multi-Krum (assumes `--trim` Byzantine among own + received; averages the best half).
	Krum,
	/// Norm-clipped mean (clipped to `--clip-norm`).
	Clip,
	/// Centered clipping around the own model (differences clipped to `--clip-radius` × the
	/// own model's norm).
	CenteredClip,
}

/// The split of the training data across nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Split {
	/// Uniformly random.
	Iid,
	/// Dirichlet label skew with concentration `--alpha`.
	NonIid,
}

/// What Byzantine peers send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AttackKind {
	/// Their model times `−scale`.
	SignFlip,
	/// Their model times `scale`.
	Scaling,
	/// Gaussian noise of the model's shape.
	Random,
}

/// How peers are sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PeerSampling {
	/// Any other node, uniformly.
	Uniform,
	/// A fixed random view of `--view` peers per node, drawn once.
	View,
}

/// Wire precision on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum WirePrecision {
	/// 32-bit floats.
	F32,
	/// int8 per block.
	Int8,
	/// int4 per block.
	Int4,
}

impl From<WirePrecision> for Precision {
	fn from(p: WirePrecision) -> Self {
		match p {
			WirePrecision::F32 => Precision::F32,
			WirePrecision::Int8 => Precision::Int8,
			WirePrecision::Int4 => Precision::Int4,
		}
	}
}

/// One simulation.
#[derive(clap::Args, Clone, Debug)]
pub struct SimConfig {
	/// Number of nodes.
	#[arg(long, default_value_t = 64)]
	pub nodes: usize,
	/// Number of rounds.
	#[arg(long, default_value_t = 60)]
	pub rounds: usize,
	/// Peers each node pulls a model from per round.
	#[arg(long, default_value_t = 1)]
	pub fanin: usize,
	/// Peer sampling.
	#[arg(long, value_enum, default_value_t = PeerSampling::Uniform)]
	pub peer_sampling: PeerSampling,
	/// View size for `--peer-sampling view`.
	#[arg(long, default_value_t = 8)]
	pub view: usize,
	/// Probability that a node is offline in a round (neither sends, receives nor trains).
	#[arg(long, default_value_t = 0.0)]
	pub churn: f64,
	/// Probability that a message is lost.
	#[arg(long, default_value_t = 0.0)]
	pub loss: f64,
	/// Data split.
	#[arg(long, value_enum, default_value_t = Split::Iid)]
	pub split: Split,
	/// Dirichlet concentration for `--split non-iid` (smaller = more skewed).
	#[arg(long, default_value_t = 0.3)]
	pub alpha: f64,
	/// Share of Byzantine nodes.
	#[arg(long, default_value_t = 0.0)]
	pub byzantine: f64,
	/// What Byzantine nodes send.
	#[arg(long, value_enum, default_value_t = AttackKind::SignFlip)]
	pub attack: AttackKind,
	/// Attack scale (sign flip and scaling).
	#[arg(long, default_value_t = 4.0)]
	pub attack_scale: f32,
	/// Share of every honest node's training labels that are flipped.
	#[arg(long, default_value_t = 0.0)]
	pub label_flip: f64,
	/// Train on the lowest-loss share of each batch (1 = all samples).
	#[arg(long, default_value_t = 1.0)]
	pub keep: f64,
	/// Rounds trained on every sample before `--keep` applies (warm-up).
	#[arg(long, default_value_t = 10)]
	pub keep_after: usize,
	/// Merge rule.
	#[arg(long, value_enum, default_value_t = MergeRule::Mean)]
	pub merge: MergeRule,
	/// Trimmed values per end (`trimmed`) or assumed Byzantine count (`krum`).
	#[arg(long, default_value_t = 1)]
	pub trim: usize,
	/// Norm bound for `clip`.
	#[arg(long, default_value_t = 10.0)]
	pub clip_norm: f32,
	/// Radius for `centered-clip`, as a fraction of the own model's norm.
	#[arg(long, default_value_t = 0.1)]
	pub clip_radius: f32,
	/// TT rank of the hidden layers; 0 = dense layers.
	#[arg(long, default_value_t = 4)]
	pub rank: usize,
	/// Hidden layer size as two modes, `AxB`.
	#[arg(long, default_value = "8x8", value_parser = parse_modes)]
	pub hidden: [usize; 2],
	/// Wire precision.
	#[arg(long, value_enum, default_value_t = WirePrecision::Int8)]
	pub precision: WirePrecision,
	/// Values per quantization block.
	#[arg(long, default_value_t = 64)]
	pub block: usize,
	/// Local SGD steps per round.
	#[arg(long, default_value_t = 2)]
	pub local_steps: usize,
	/// Batch size.
	#[arg(long, default_value_t = 32)]
	pub batch: usize,
	/// Learning rate (SGD).
	#[arg(long, default_value_t = 0.2)]
	pub lr: f64,
	/// Gaussian-mechanism noise multiplier on each round's update (0 = off).
	#[arg(long, default_value_t = 0.0)]
	pub dp_noise: f64,
	/// Gaussian-mechanism clipping bound on each round's update.
	#[arg(long, default_value_t = 1.0)]
	pub dp_clip: f32,
	/// Transactions generated (train = first 75 %, test = the rest).
	#[arg(long, default_value_t = 60_000)]
	pub transactions: usize,
	/// Honest nodes evaluated per round (evenly spaced; all if larger than the honest count).
	#[arg(long, default_value_t = 16)]
	pub eval_nodes: usize,
	/// Seed of every draw.
	#[arg(long, default_value_t = 1)]
	pub seed: u64,
}

impl Default for SimConfig {
	fn default() -> Self {
		use clap::Parser;
		#[derive(Parser)]
		struct Wrap {
			#[command(flatten)]
			cfg: SimConfig,
		}
		Wrap::parse_from(["sim"]).cfg
	}
}

impl SimConfig {
	/// The aggregator for the robust rules (`None` for [`MergeRule::Mean`]).
	pub fn aggregator(&self, inputs: usize) -> Option<Aggregator> {
		match self.merge {
			MergeRule::Mean => None,
			MergeRule::Median => Some(Aggregator::Median),
			MergeRule::Trimmed => Some(Aggregator::TrimmedMean { trim: self.trim }),
			MergeRule::Krum => Some(Aggregator::MultiKrum { f: self.trim, m: (inputs / 2).max(1) }),
			MergeRule::Clip => Some(Aggregator::NormClippedMean { max_norm: self.clip_norm }),
			MergeRule::CenteredClip => Some(Aggregator::CenteredClip { radius: self.clip_radius }),
		}
	}
}

/// Parses `AxB`.
pub fn parse_modes(s: &str) -> Result<[usize; 2], String> {
	let parts: Vec<&str> = s.split('x').collect();
	match parts[..] {
		[a, b] => {
			let a: usize = a.parse().map_err(|_| format!("{a:?} is not a number"))?;
			let b: usize = b.parse().map_err(|_| format!("{b:?} is not a number"))?;
			if a == 0 || b == 0 {
				return Err("modes must be positive".into());
			}
			Ok([a, b])
		},
		_ => Err(format!("{s:?}: expected AxB, e.g. 8x8")),
	}
}
