//! Prometheus metrics of the workers (all prefixed `loopx_worker_`; the node's registry adds
//! `substrate_`). Votes cast are `transactions_submitted{call="commit_votes"|"reveal_votes"}` (a block's
//! votes in one batch), model-update claims
//! `transactions_submitted{call="submit_update"}` when sent and `updates_decided{outcome}` when decided.

use loopx_primitives::TaskId;
use std::time::Duration;

use substrate_prometheus_endpoint::{
	register, Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, Opts, PrometheusError, Registry, F64, U64,
};

/// The workers' metrics; inert without a registry.
#[derive(Clone, Default)]
pub struct Metrics(Option<Inner>);

#[derive(Clone)]
struct Inner {
	submitted: CounterVec<U64>,
	submit_failures: Counter<U64>,
	answer_seconds: Histogram,
	verification_seconds: Histogram,
	training_seconds: Histogram,
	rounds: Counter<U64>,
	network_bytes: CounterVec<U64>,
	malformed: Counter<U64>,
	announcements: CounterVec<U64>,
	model_metric: GaugeVec<F64>,
	updates_decided: CounterVec<U64>,
	index_height: Gauge<U64>,
	index_lag: Gauge<U64>,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: Option<&Registry>) -> Result<Self, PrometheusError> {
		let Some(registry) = registry else { return Ok(Self(None)) };
		Ok(Self(Some(Inner {
			submitted: register(
				CounterVec::new(Opts::new("loopx_worker_transactions_submitted", "Transactions the workers put in the pool, by call"), &["call"])?,
				registry,
			)?,
			submit_failures: register(Counter::new("loopx_worker_submit_failures", "Actions the runtime or the pool refused")?, registry)?,
			answer_seconds: register(
				Histogram::with_opts(HistogramOpts::new("loopx_worker_answer_seconds", "Time to compute the answer of an assigned query"))?,
				registry,
			)?,
			verification_seconds: register(
				Histogram::with_opts(HistogramOpts::new(
					"loopx_worker_verification_seconds",
					"Time to work out the verdict on a claim (re-answering a disputed query)",
				))?,
				registry,
			)?,
			training_seconds: register(
				Histogram::with_opts(HistogramOpts::new(
					"loopx_worker_training_seconds",
					"Time of one learning round: merge, local update, evaluation",
				))?,
				registry,
			)?,
			rounds: register(Counter::new("loopx_worker_rounds", "Learning rounds this node trained in")?, registry)?,
			network_bytes: register(
				CounterVec::new(
					Opts::new("loopx_worker_network_bytes", "Bytes of the models and deals protocols, by direction (sent/received)"),
					&["direction"],
				)?,
				registry,
			)?,
			malformed: register(
				Counter::new(
					"loopx_worker_malformed_messages",
					"Malformed messages received from peers on the models, deals and announce protocols",
				)?,
				registry,
			)?,
			announcements: register(
				CounterVec::new(
					Opts::new("loopx_worker_announcements", "Model announcements on the announce protocol, by direction"),
					&["direction"],
				)?,
				registry,
			)?,
			model_metric: register(
				GaugeVec::new(
					Opts::new("loopx_worker_model_metric", "Accepted metric of each learning task's current version (fraction)"),
					&["task"],
				)?,
				registry,
			)?,
			updates_decided: register(
				CounterVec::new(
					Opts::new("loopx_worker_updates_decided", "This node's model-update claims decided, by outcome (accepted/rejected)"),
					&["outcome"],
				)?,
				registry,
			)?,
			index_height: register(Gauge::new("loopx_worker_chain_index_height", "Highest finalized block in the chain tables")?, registry)?,
			index_lag: register(Gauge::new("loopx_worker_chain_index_lag_blocks", "Finalized blocks not yet in the chain tables")?, registry)?,
		})))
	}

	pub(crate) fn trained(&self, took: Duration) {
		if let Some(m) = &self.0 {
			m.rounds.inc();
			m.training_seconds.observe(took.as_secs_f64());
		}
	}

	pub(crate) fn network_bytes(&self, direction: &str, bytes: usize) {
		if let Some(m) = &self.0 {
			m.network_bytes.with_label_values(&[direction]).inc_by(bytes as u64);
		}
	}

	pub(crate) fn malformed_message(&self) {
		if let Some(m) = &self.0 {
			m.malformed.inc();
		}
	}

	pub(crate) fn announcement(&self, direction: &str) {
		if let Some(m) = &self.0 {
			m.announcements.with_label_values(&[direction]).inc();
		}
	}

	pub(crate) fn model_metric(&self, task: TaskId, ppm: u32) {
		if let Some(m) = &self.0 {
			m.model_metric.with_label_values(&[&task.to_string()]).set(f64::from(ppm) / 1e6);
		}
	}

	pub(crate) fn update_decided(&self, outcome: &str) {
		if let Some(m) = &self.0 {
			m.updates_decided.with_label_values(&[outcome]).inc();
		}
	}

	pub(crate) fn submitted(&self, call: &str) {
		if let Some(m) = &self.0 {
			m.submitted.with_label_values(&[call]).inc();
		}
	}

	pub(crate) fn submit_failed(&self) {
		if let Some(m) = &self.0 {
			m.submit_failures.inc();
		}
	}

	pub(crate) fn evaluated(&self, took: Duration) {
		if let Some(m) = &self.0 {
			m.verification_seconds.observe(took.as_secs_f64());
		}
	}

	pub(crate) fn answered(&self, took: Duration) {
		if let Some(m) = &self.0 {
			m.answer_seconds.observe(took.as_secs_f64());
		}
	}

	/// The chain tables hold blocks up to `height`, `lag` behind finality.
	pub fn chain_indexed(&self, height: u64, lag: u64) {
		if let Some(m) = &self.0 {
			m.index_height.set(height);
			m.index_lag.set(lag);
		}
	}
}
