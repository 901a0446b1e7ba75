//! Prometheus metrics of the workers (all prefixed `loopx_worker_`; the node's registry adds
//! `substrate_`). Votes cast are `transactions_submitted{call="commit_vote"|"reveal_vote"}`.

use std::time::Duration;

use substrate_prometheus_endpoint::{
	register, Counter, CounterVec, Histogram, HistogramOpts, Opts, PrometheusError, Registry, U64,
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
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: Option<&Registry>) -> Result<Self, PrometheusError> {
		let Some(registry) = registry else { return Ok(Self(None)) };
		Ok(Self(Some(Inner {
			submitted: register(
				CounterVec::new(
					Opts::new("loopx_worker_transactions_submitted", "Transactions the workers put in the pool, by call"),
					&["call"],
				)?,
				registry,
			)?,
			submit_failures: register(
				Counter::new("loopx_worker_submit_failures", "Actions the runtime or the pool refused")?,
				registry,
			)?,
			answer_seconds: register(
				Histogram::with_opts(HistogramOpts::new(
					"loopx_worker_answer_seconds",
					"Time to compute the answer of an assigned query",
				))?,
				registry,
			)?,
			verification_seconds: register(
				Histogram::with_opts(HistogramOpts::new(
					"loopx_worker_verification_seconds",
					"Time to work out the verdict on a claim (re-answering a disputed query)",
				))?,
				registry,
			)?,
		})))
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
}
