//! A round's local update on a thread of its own: merge, train on this node's shard, score,
//! and keep the best result. The worker's per-block pass only starts a job and, at later
//! blocks, collects what it made: a task with many local steps on big batches no longer holds
//! up the votes, answers and dispute verdicts of the blocks it trains through.
//!
//! A job owns all it reads (the model, the shard and the evaluation set shared by `Arc`), and
//! its result depends on nothing but them (seeded SGD, no wall clock, one thread): the same
//! job gives the same payload and metric on any node, inline or in the background.

use std::{
	sync::{mpsc, Arc},
	thread::JoinHandle,
	time::{Duration, Instant},
};

use loopx_ml_kernels::{data::Dataset, models::state::ModelState};
use loopx_primitives::TaskId;
use pallet_builder_market::Metric;

use crate::{
	faults::{forge_claim, Forgery, SLOW_TRAINING},
	training::{Maker, TaskModel},
	LOG_TARGET,
};

/// Everything one round's local update reads.
#[derive(Clone)]
pub struct RoundJob {
	/// The task and its round.
	pub task: TaskId,
	pub round: u32,
	/// The task's model (architecture, hyper-parameters, wire format).
	pub model: TaskModel,
	/// The task's metric and the current version's score (`None`: no version yet).
	pub metric: Metric,
	pub current: Option<u32>,
	/// The version trained from, and its age.
	pub parent: (ModelState, u64),
	/// Other trainers' models that score at least as well as the version, with their ages.
	pub received: Vec<(ModelState, u64)>,
	/// This node's training data and the task's evaluation set.
	pub shard: Arc<Dataset>,
	pub eval: Arc<Dataset>,
	/// Seeds the SGD batches and the quantization; `maker` signs the payload as this node's.
	pub step_seed: u64,
	pub maker: Maker,
	/// Test networks only: claim a forged metric, train slowly (see [`crate::faults`]).
	pub forge: bool,
	pub slow: bool,
}

/// What a job made: the payload and metric worth claiming (`None`: nothing beat the current
/// version), and how long it took (for the metrics only; never part of a result).
pub struct Trained {
	pub claim: Option<(Vec<u8>, u32)>,
	pub took: Duration,
}

impl RoundJob {
	/// Merge, local update and score: the merged start first, the version alone second; the
	/// first that beats the current version, else the best, and only if it beats it.
	pub fn run(self) -> Trained {
		let started = Instant::now();
		if self.slow {
			std::thread::sleep(SLOW_TRAINING);
		}
		let claim = self.train();
		Trained { claim, took: started.elapsed() }
	}

	fn train(&self) -> Option<(Vec<u8>, u32)> {
		let (model, round) = (&self.model, self.round);
		let age = self.parent.1.saturating_add(u64::from(model.local_steps()));
		let beats = |m: u32| self.current.is_none_or(|c| self.metric.better(m, c));
		let mut merging = vec![self.parent.clone()];
		merging.extend(self.received.iter().cloned());
		let mut starts = Vec::new();
		if merging.len() > 1 {
			starts.extend(model.merge(&merging).map(|(m, _)| m));
		}
		starts.push(self.parent.0.clone());
		let mut best: Option<(Vec<u8>, u32)> = None;
		for (i, start) in starts.iter().enumerate() {
			let trained = model.train(start, &self.shard, self.step_seed);
			let Ok(payload) = model.encode(&trained, u64::from(round) + 1, age, self.step_seed, &self.maker) else { continue };
			let Ok(metric) = model.score_payload(&payload, &self.eval) else { continue };
			let merged = i == 0 && starts.len() > 1;
			log::info!(target: LOG_TARGET, "🏋️ task {} round {round}: trained from {} models → {metric} ppm", self.task, if merged { merging.len() } else { 1 });
			if best.as_ref().is_none_or(|(_, m)| self.metric.better(metric, *m)) {
				best = Some((payload, metric));
			}
			if beats(metric) {
				break;
			}
		}
		let (mut payload, mut metric) = best?;
		if self.forge {
			match forge_claim(metric, self.metric.higher_is_better()) {
				Forgery::Metric(forged) => metric = forged,
				Forgery::UntrainedModel(forged) => {
					metric = forged;
					payload = model.encode(model.initial(), u64::from(round) + 1, age, self.step_seed, &self.maker).ok()?;
				},
			}
			log::warn!(target: LOG_TARGET, "🎭 task {} round {round}: forging the claim: {metric} ppm", self.task);
		} else if !beats(metric) {
			log::info!(target: LOG_TARGET, "task {} round {round}: {metric} ppm does not beat the current version; no claim", self.task);
			return None;
		}
		Some((payload, metric))
	}
}

/// A job running on its own thread, with its result of type `T` to collect.
pub struct Training<T = Trained> {
	result: mpsc::Receiver<T>,
	thread: JoinHandle<()>,
}

/// Where a job stands.
pub enum Progress<T = Trained> {
	/// Still running.
	Running,
	/// Done: its result.
	Done(T),
	/// The thread ended without a result (it panicked): the job is given up.
	Failed,
}

impl Training {
	/// Starts a round's `job` on a new thread (`Err` when no thread can be made).
	pub fn start(job: RoundJob) -> std::io::Result<Self> {
		Self::spawn(format!("loopx-train-{}", job.task), move || job.run())
	}
}

impl<T: Send + 'static> Training<T> {
	/// Runs `job` on a new thread named `name` (`Err` when no thread can be made).
	pub fn spawn(name: String, job: impl FnOnce() -> T + Send + 'static) -> std::io::Result<Self> {
		let (send, result) = mpsc::channel();
		let thread = std::thread::Builder::new().name(name).spawn(move || {
			// The receiver may be gone (the job was given up): the result is then dropped.
			let _ = send.send(job());
		})?;
		Ok(Self { result, thread })
	}

	/// Its result if it is done (once: the result is taken).
	pub fn poll(&self) -> Progress<T> {
		match self.result.try_recv() {
			Ok(trained) => Progress::Done(trained),
			Err(mpsc::TryRecvError::Empty) => Progress::Running,
			Err(mpsc::TryRecvError::Disconnected) => Progress::Failed,
		}
	}

	/// Whether its thread has ended (a job given up still uses a core until then).
	pub fn finished(&self) -> bool {
		self.thread.is_finished()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		demo_data::{eval_set, training_shard},
		training::{fraud_classifier, maker_of},
	};
	use loopx_model_spec::Precision;
	use pallet_builder_market::HyperParams;

	fn job(local_steps: u32) -> RoundJob {
		let hyper = HyperParams { local_steps, batch_size: 64, learning_rate_ppm: 100_000, seed: 7 };
		let model = TaskModel::new(1, &fraud_classifier(2), Precision::Int8, Metric::Auc, hyper).unwrap();
		let parent = (model.initial().clone(), 0);
		RoundJob {
			task: 1,
			round: 0,
			model,
			metric: Metric::Auc,
			current: None,
			parent,
			received: Vec::new(),
			shard: Arc::new(training_shard(3)),
			eval: Arc::new(eval_set()),
			step_seed: 11,
			maker: maker_of(&[1u8; 32]),
			forge: false,
			slow: false,
		}
	}

	fn wait(training: &Training) -> Trained {
		loop {
			match training.poll() {
				Progress::Running => std::thread::sleep(Duration::from_millis(5)),
				Progress::Done(trained) => return trained,
				Progress::Failed => panic!("the training thread failed"),
			}
		}
	}

	#[test]
	fn a_job_gives_the_same_claim_on_its_thread_as_inline() {
		let inline = job(20).run().claim.expect("a first version beats nothing");
		let training = Training::start(job(20)).unwrap();
		let threaded = wait(&training).claim.expect("the same job claims");
		assert_eq!(inline, threaded, "payload and metric are bit for bit the same");
		assert!(matches!(training.poll(), Progress::Failed), "a result is taken once");
	}

	#[test]
	fn starting_a_long_job_returns_at_once_and_it_is_collected_later() {
		// Thousands of steps: far longer than starting a thread.
		let training = Training::start(job(4_000)).unwrap();
		assert!(matches!(training.poll(), Progress::Running), "the caller is not held up while it trains");
		let trained = wait(&training);
		assert!(trained.claim.is_some());
		while !training.finished() {
			std::thread::sleep(Duration::from_millis(1));
		}
	}

	#[test]
	fn nothing_is_claimed_that_does_not_beat_the_current_version() {
		let mut j = job(20);
		j.current = Some(1_000_000);
		assert!(j.run().claim.is_none());
		let mut forged = job(20);
		forged.current = Some(1_000_000);
		forged.forge = true;
		assert!(forged.run().claim.is_some(), "a forging node claims anyway (what the voters must catch)");
	}
}
