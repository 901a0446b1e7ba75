//! A seeded synthetic wallet-transaction stream with planted fraud, and the per-transaction
//! features the fraud classifier trains on.
//!
//! Normal activity: wallets with a Zipf-like activity level, a usual amount (log-normal around
//! a per-wallet mean) and a set of regular counterparties. Four planted fraud patterns, each
//! labelled positive:
//!
//! - **fan-out burst**: one wallet pays 15–40 mostly new receivers within minutes;
//! - **peel chain**: funds hop through 6–12 fresh wallets, each forwarding 90–99 % of what it
//!   received within minutes;
//! - **amount outlier**: a regular wallet pays 50–400× its usual amount to a new receiver;
//! - **Sybil cluster**: one fresh funder seeds 8–20 fresh wallets that then trade among
//!   themselves.
//!
//! Features (all computed from the stream before the transaction, in order — the same
//! transactions always give the same bits) are listed in [`FEATURE_NAMES`].

use super::Dataset;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Normal};
use std::{
	collections::{HashMap, HashSet, VecDeque},
	hash::Hash,
};

/// Number of features per transaction.
pub const FEATURES: usize = 16;

/// Names of the features, in column order.
pub const FEATURE_NAMES: [&str; FEATURES] = [
	"log_amount",
	"amount_zscore_vs_sender",
	"log_sender_tx_count",
	"log_sender_distinct_receivers",
	"log_sender_tx_last_hour",
	"log_sender_distinct_receivers_last_hour",
	"receiver_new_for_sender",
	"log_receiver_incoming_count",
	"log_seconds_since_sender_last_sent",
	"log_sender_age_seconds",
	"amount_over_last_received",
	"log_seconds_since_sender_last_received",
	"log_receiver_age_seconds",
	"log_wallets_funded_by_senders_funder",
	"hour_sin",
	"hour_cos",
];

/// Which pattern produced a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
	/// Ordinary activity.
	Normal,
	/// Fan-out burst.
	FanOut,
	/// Peel chain.
	PeelChain,
	/// Amount outlier.
	AmountOutlier,
	/// Sybil cluster.
	Sybil,
}

/// One transfer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transaction {
	/// Seconds since the start of the stream.
	pub time: u64,
	/// Sender wallet.
	pub from: u32,
	/// Receiver wallet.
	pub to: u32,
	/// Amount (positive).
	pub amount: f64,
	/// What produced it (the label is `pattern != Normal`).
	pub pattern: Pattern,
}

/// Generator settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WalletConfig {
	/// Regular wallets.
	pub wallets: u32,
	/// Transactions to produce (the last fraud episode may run a little over).
	pub transactions: usize,
	/// Target share of fraudulent transactions.
	pub fraud_share: f64,
	/// Seed of every draw.
	pub seed: u64,
}

impl Default for WalletConfig {
	fn default() -> Self {
		Self { wallets: 2_000, transactions: 50_000, fraud_share: 0.05, seed: 0 }
	}
}

struct Profile {
	log_amount: f64,
	contacts: Vec<u32>,
}

/// Generates the transaction stream, in time order.
pub fn generate_transactions(cfg: &WalletConfig) -> Vec<Transaction> {
	let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
	let wallets = cfg.wallets.max(2);
	let amount_mean = Normal::new(3.0, 1.0).expect("valid");
	let profiles: Vec<Profile> = (0..wallets)
		.map(|_| Profile {
			log_amount: amount_mean.sample(&mut rng),
			contacts: (0..rng.random_range(5..20)).map(|_| rng.random_range(0..wallets)).collect(),
		})
		.collect();
	// Activity ∝ 1/(rank + 10): a few busy wallets, a long tail.
	let cumulative: Vec<f64> = (0..wallets)
		.scan(0.0, |acc, i| {
			*acc += 1.0 / (f64::from(i) + 10.0);
			Some(*acc)
		})
		.collect();
	let total_activity = cumulative[cumulative.len() - 1];
	let pick_sender = |rng: &mut ChaCha8Rng| -> u32 {
		let x = rng.random::<f64>() * total_activity;
		cumulative.partition_point(|&c| c < x).min(wallets as usize - 1) as u32
	};
	let gap = Exp::<f64>::new(1.0 / 20.0).expect("valid"); // a transaction every ~20 s
	let noise = Normal::new(0.0, 0.5).expect("valid");

	let mut txs = Vec::with_capacity(cfg.transactions + 64);
	let mut fraud = 0usize;
	let mut time = 0u64;
	let mut next_fresh = wallets; // fresh wallet ids follow the regular ones
	let mut fresh = |n: u32| {
		let first = next_fresh;
		next_fresh += n;
		first
	};
	while txs.len() < cfg.transactions {
		time += gap.sample(&mut rng).ceil() as u64;
		if (fraud as f64) < cfg.fraud_share * txs.len() as f64 {
			let before = txs.len();
			match rng.random_range(0..4) {
				0 => {
					let from = pick_sender(&mut rng);
					let log_amount = profiles[from as usize].log_amount;
					let n = rng.random_range(15..40);
					let first = fresh(n / 2);
					for k in 0..n {
						time += rng.random_range(2..30);
						let to = if k % 2 == 0 { first + k / 2 } else { rng.random_range(0..wallets) };
						let amount = (log_amount + noise.sample(&mut rng) * 0.3).exp();
						txs.push(Transaction { time, from, to, amount, pattern: Pattern::FanOut });
					}
				},
				1 => {
					let hops = rng.random_range(6..12);
					let first = fresh(hops + 1);
					let mut amount = (6.0 + noise.sample(&mut rng)).exp();
					let source = pick_sender(&mut rng);
					txs.push(Transaction { time, from: source, to: first, amount, pattern: Pattern::PeelChain });
					for h in 0..hops {
						time += rng.random_range(30..300);
						amount *= rng.random_range(0.90..0.99);
						txs.push(Transaction { time, from: first + h, to: first + h + 1, amount, pattern: Pattern::PeelChain });
					}
				},
				2 => {
					let from = pick_sender(&mut rng);
					let to = fresh(1);
					let amount = profiles[from as usize].log_amount.exp() * rng.random_range(50.0..400.0);
					txs.push(Transaction { time, from, to, amount, pattern: Pattern::AmountOutlier });
				},
				_ => {
					let n = rng.random_range(8..20);
					let funder = fresh(1);
					let first = fresh(n);
					for k in 0..n {
						time += rng.random_range(5..60);
						let amount = (2.0 + noise.sample(&mut rng)).exp();
						txs.push(Transaction { time, from: funder, to: first + k, amount, pattern: Pattern::Sybil });
					}
					for _ in 0..n * 3 {
						time += rng.random_range(5..120);
						let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
						let amount = (1.0 + noise.sample(&mut rng)).exp();
						txs.push(Transaction { time, from: first + a, to: first + (b + (a == b) as u32) % n, amount, pattern: Pattern::Sybil });
					}
				},
			}
			fraud += txs.len() - before;
		} else {
			let from = pick_sender(&mut rng);
			let profile = &profiles[from as usize];
			let to = if rng.random::<f64>() < 0.9 && !profile.contacts.is_empty() {
				profile.contacts[rng.random_range(0..profile.contacts.len())]
			} else {
				rng.random_range(0..wallets)
			};
			let amount = (profile.log_amount + noise.sample(&mut rng)).exp();
			txs.push(Transaction { time, from, to, amount, pattern: Pattern::Normal });
		}
	}
	txs
}

#[derive(Default, Clone)]
struct WalletState {
	first_seen: Option<u64>,
	sent: u32,
	received: u32,
	// Welford running mean and sum of squares of ln(1 + amount) sent.
	mean: f64,
	m2: f64,
	receivers: HashSet<u32>,
	recent: VecDeque<(u64, u32)>,
	last_sent: Option<u64>,
	last_received: Option<(u64, f64)>,
	funder: Option<u32>,
	funded: u32,
}

const HOUR: u64 = 3_600;
const NEVER: f64 = 86_400.0;

/// The features of a stream of transfers, one transfer at a time, in order: what
/// [`featurize`] computes, for wallets of any key (the chain's accounts as well as the
/// generator's numbers). The same transfers in the same order always give the same bits.
#[derive(Clone, Default)]
pub struct WalletFeaturizer<K> {
	ids: HashMap<K, u32>,
	state: Vec<WalletState>,
}

impl<K: Hash + Eq + Clone> WalletFeaturizer<K> {
	/// A featurizer that has seen nothing.
	pub fn new() -> Self {
		Self { ids: HashMap::new(), state: Vec::new() }
	}

	/// Wallets seen so far.
	pub fn wallets(&self) -> usize {
		self.state.len()
	}

	fn id(&mut self, wallet: &K) -> u32 {
		if let Some(&id) = self.ids.get(wallet) {
			return id;
		}
		let id = self.state.len() as u32;
		self.ids.insert(wallet.clone(), id);
		self.state.push(WalletState::default());
		id
	}

	/// The features of a transfer of `amount` from `from` to `to` at `time` (seconds; never
	/// earlier than the transfers before it), computed from the transfers before it; then
	/// takes it into the wallets' history.
	pub fn next(&mut self, from: &K, to: &K, time: u64, amount: f64) -> [f32; FEATURES] {
		let (from, to) = (self.id(from), self.id(to));
		let state = &mut self.state;
		let t = time;
		let log_amount = amount.ln_1p();
		{
			let s = &mut state[from as usize];
			s.first_seen.get_or_insert(t);
			while s.recent.front().is_some_and(|&(when, _)| when + HOUR < t) {
				s.recent.pop_front();
			}
		}
		let s = &state[from as usize];
		let r = &state[to as usize];
		let std = if s.sent >= 2 { (s.m2 / f64::from(s.sent - 1)).sqrt().max(0.1) } else { 1.0 };
		let zscore = if s.sent >= 2 { ((log_amount - s.mean) / std).clamp(-10.0, 10.0) } else { 0.0 };
		let mut recent_receivers: Vec<u32> = s.recent.iter().map(|&(_, r)| r).collect();
		recent_receivers.sort_unstable();
		recent_receivers.dedup();
		let since = |when: Option<u64>| when.map_or(NEVER, |w| t.saturating_sub(w) as f64).ln_1p();
		let funder_fanout = s.funder.map_or(0.0, |f| f64::from(state[f as usize].funded).ln_1p());
		let hour = (t / HOUR) % 24;
		let angle = 2.0 * std::f64::consts::PI * hour as f64 / 24.0;
		let row = [
			log_amount,
			zscore,
			f64::from(s.sent).ln_1p(),
			(s.receivers.len() as f64).ln_1p(),
			(s.recent.len() as f64).ln_1p(),
			(recent_receivers.len() as f64).ln_1p(),
			f64::from(!s.receivers.contains(&to) as u8),
			f64::from(r.received).ln_1p(),
			since(s.last_sent),
			since(s.first_seen),
			s.last_received.map_or(0.0, |(_, a)| (amount / a).min(10.0)),
			since(s.last_received.map(|(w, _)| w)),
			r.first_seen.map_or(0.0, |w| (t.saturating_sub(w) as f64).ln_1p()),
			funder_fanout,
			angle.sin(),
			angle.cos(),
		];

		// Update the sender, then the receiver.
		let s = &mut state[from as usize];
		s.sent += 1;
		let delta = log_amount - s.mean;
		s.mean += delta / f64::from(s.sent);
		s.m2 += delta * (log_amount - s.mean);
		s.receivers.insert(to);
		s.recent.push_back((t, to));
		s.last_sent = Some(t);
		let first_funding = state[to as usize].first_seen.is_none();
		let r = &mut state[to as usize];
		r.first_seen.get_or_insert(t);
		r.received += 1;
		r.last_received = Some((t, amount));
		if first_funding {
			r.funder = Some(from);
			state[from as usize].funded += 1;
		}
		row.map(|v| v as f32)
	}
}

/// Features, labels (`pattern != Normal`) and groups (the sender) of `txs`, in order.
pub fn featurize(txs: &[Transaction]) -> Dataset {
	let mut featurizer = WalletFeaturizer::<u32>::new();
	let mut features = Vec::with_capacity(txs.len() * FEATURES);
	for tx in txs {
		features.extend(featurizer.next(&tx.from, &tx.to, tx.time, tx.amount));
	}
	Dataset {
		names: FEATURE_NAMES.iter().map(|n| n.to_string()).collect(),
		features,
		labels: txs.iter().map(|t| t.pattern != Pattern::Normal).collect(),
		groups: txs.iter().map(|t| u64::from(t.from)).collect(),
	}
}

/// [`generate_transactions`] then [`featurize`].
pub fn generate(cfg: &WalletConfig) -> Dataset {
	featurize(&generate_transactions(cfg))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn small() -> WalletConfig {
		WalletConfig { wallets: 300, transactions: 6_000, fraud_share: 0.08, seed: 11 }
	}

	#[test]
	fn seeded_and_deterministic() {
		let a = generate(&small());
		assert_eq!(a, generate(&small()));
		assert_ne!(a, generate(&WalletConfig { seed: 12, ..small() }));
		assert_eq!(a.dim(), FEATURES);
		assert!(a.len() >= 6_000 && a.len() < 6_100);
		assert!(a.features.iter().all(|v| v.is_finite()));
	}

	#[test]
	fn plants_every_pattern_near_the_target_share() {
		let txs = generate_transactions(&small());
		let share = txs.iter().filter(|t| t.pattern != Pattern::Normal).count() as f64 / txs.len() as f64;
		assert!((share - 0.08).abs() < 0.01, "fraud share {share}");
		for p in [Pattern::FanOut, Pattern::PeelChain, Pattern::AmountOutlier, Pattern::Sybil] {
			assert!(txs.iter().any(|t| t.pattern == p), "{p:?} missing");
		}
		assert!(txs.windows(2).all(|w| w[0].time <= w[1].time), "time ordered");
	}

	#[test]
	fn the_features_do_not_depend_on_how_wallets_are_named() {
		let txs = generate_transactions(&WalletConfig { transactions: 2_000, ..small() });
		let by_number = featurize(&txs);
		let mut by_name = WalletFeaturizer::<String>::new();
		for (i, tx) in txs.iter().enumerate() {
			let row = by_name.next(&format!("w{}", tx.from * 7 + 3), &format!("w{}", tx.to * 7 + 3), tx.time, tx.amount);
			assert_eq!(row.as_slice(), by_number.row(i), "transaction {i}");
		}
	}

	#[test]
	fn features_separate_the_patterns_they_target() {
		let txs = generate_transactions(&small());
		let data = featurize(&txs);
		let col = |name: &str| FEATURE_NAMES.iter().position(|n| *n == name).unwrap();
		let mean = |p: Pattern, c: usize| {
			let rows: Vec<usize> = (0..txs.len()).filter(|&i| txs[i].pattern == p).collect();
			rows.iter().map(|&i| f64::from(data.row(i)[c])).sum::<f64>() / rows.len() as f64
		};
		let burst = col("log_sender_distinct_receivers_last_hour");
		assert!(mean(Pattern::FanOut, burst) > mean(Pattern::Normal, burst) + 1.0);
		let z = col("amount_zscore_vs_sender");
		assert!(mean(Pattern::AmountOutlier, z) > mean(Pattern::Normal, z) + 3.0);
		// Each hop of a peel chain (fresh wallets) forwards 90–99 % of what it just received.
		let ratio = col("amount_over_last_received");
		let hops: Vec<usize> = (0..txs.len()).filter(|&i| txs[i].pattern == Pattern::PeelChain && txs[i].from >= small().wallets).collect();
		let hop_ratio = hops.iter().map(|&i| f64::from(data.row(i)[ratio])).sum::<f64>() / hops.len() as f64;
		assert!((hop_ratio - 0.945).abs() < 0.03, "peel ratio {hop_ratio}");
		let funded = col("log_wallets_funded_by_senders_funder");
		assert!(mean(Pattern::Sybil, funded) > mean(Pattern::Normal, funded));
	}
}
