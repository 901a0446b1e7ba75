//! A deterministic simulation of verification at scale (issue 29, item 6), over this pallet's own
//! pieces: the committee draw of the chain (`loopx_primitives::draw::weighted_draw`), the share
//! cap ([`tally::cap_weights`]) and the tally ([`tally::decide`]), with the runtime's rules
//! (quorum 50 %, approval 50 %, at least 2 voters, 40 % share cap) and its escalation (a
//! committee without a quorum is followed by one of 2k + 1, then by every validator).
//!
//! Every validator claims one model update per round; dishonest validators (a share of the
//! weight) forge theirs and vote together: their own claims valid, honest claims invalid, on
//! every committee they are drawn into. Every drawn validator stays away with a fixed
//! probability. Measured over seeds: how often a forged claim is accepted (with a 95 % Wilson
//! interval), how often an honest one is rejected, how many claims a validator scores per round,
//! what a round moves over the network, and how many blocks the tallies of a round take in the
//! runtime's tally budget (a quarter of a 2 s block, each tally charged its measured worst case).
//!
//! The quick test below checks what the simulation must show; the full grid (n = 10, 100, 1,000)
//! is an ignored test that writes its raw output:
//! `scripts/bench/scale-sim.sh` (`cargo test --release -p pallet-weighted-voting scale_grid --
//! --ignored`).

use crate::{tally, Ballot, CommitteeRound, VoteMode};
use loopx_primitives::{draw::weighted_draw, Outcome, Verdict};
use sp_runtime::{
	traits::{BlakeTwo256, Hash as _},
	Perbill,
};

/// The runtime's `TallyBudget`: a quarter of its 2 s block (ref time, picoseconds).
const TALLY_BUDGET_PS: u64 = 500_000_000_000;

/// Model-update claims of `voters` voters (of `validators`) tallied in one block of the runtime's budget: each
/// charged what the pallet's hook charges ([`crate::Pallet::tally_bound`]: the measured tally,
/// the builder market's handler, the next committee if it can escalate), with RocksDB weights
/// as in the runtime, and every validator's settlement of the block ([`crate::settlement`]).
fn tallies_per_block(validators: usize, voters: usize, next_committee: Option<usize>) -> u64 {
	use crate::weights::WeightInfo;
	let db = frame_support::weights::constants::RocksDbWeight::get();
	// pallets/builder-market/src/weights.rs `update_decided` (every update paying a round: the worst case).
	let handler = frame_support::weights::Weight::from_parts(945_342_000, 0).saturating_add(db.reads_writes(28, 27));
	let mut one = <() as WeightInfo>::tally(voters as u32).saturating_add(handler).saturating_add(db.reads(3));
	if let Some(next) = next_committee {
		// As `Pallet::draw_bound`: every validator read, the next committee's ballots written.
		let draw = <() as WeightInfo>::open_claim(validators as u32).saturating_sub(db.writes(validators.saturating_sub(next) as u64));
		one = one.saturating_add(draw);
	}
	// Each validator's reputation and points are written once a block, whatever it voted on.
	let settling = <() as WeightInfo>::settle_voter().saturating_mul(validators as u64).ref_time();
	(TALLY_BUDGET_PS.saturating_sub(settling) / one.ref_time().max(1)).max(1)
}

/// One point of the grid.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
	/// Validators (each claims once per round).
	pub validators: usize,
	/// Committee size; `None`: every eligible validator votes.
	pub committee: Option<usize>,
	/// Share of the validators (equal weights) that is dishonest.
	pub dishonest: f64,
	/// Probability that a drawn validator casts nothing.
	pub no_show: f64,
	/// Seeds (one round each).
	pub seeds: u64,
	/// Bytes a scorer fetches per claim (the claimed model).
	pub payload_bytes: u64,
	/// A committee verdict with less of the revealed weight behind it escalates (the runtime's
	/// `DecisiveShare`; zero: only a missing quorum escalates).
	pub decisive: Perbill,
}

/// What a scenario measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Measured {
	pub forged: u64,
	pub forged_accepted: u64,
	pub honest: u64,
	pub honest_rejected: u64,
	pub undecided: u64,
	pub escalations: u64,
	/// Scorings (revealed votes) per validator per round: mean and maximum.
	pub scorings_mean: f64,
	pub scorings_max: u64,
	/// Bytes fetched per round by all scorers.
	pub bytes_per_round: f64,
	/// Blocks after the reveal period that the round's tallies take.
	pub tally_blocks: u64,
}

impl Measured {
	/// The share of forged claims accepted, with its 95 % Wilson interval.
	pub fn cheat_acceptance(&self) -> (f64, f64, f64) {
		wilson(self.forged_accepted, self.forged)
	}
}

/// The 95 % Wilson score interval of `k` successes in `n` trials: (estimate, low, high).
pub fn wilson(k: u64, n: u64) -> (f64, f64, f64) {
	if n == 0 {
		return (0.0, 0.0, 1.0);
	}
	let (z, n, p) = (1.96f64, n as f64, k as f64 / n as f64);
	let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
	let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
	(p, (centre - half).max(0.0), (centre + half).min(1.0))
}

fn hash(parts: &[&[u8]]) -> [u8; 32] {
	BlakeTwo256::hash(&parts.concat()).0
}

/// A number in [0, 1) from a hash.
fn unit(parts: &[&[u8]]) -> f64 {
	let h = hash(parts);
	u64::from_le_bytes(h[..8].try_into().expect("8 bytes")) as f64 / (u64::MAX as f64 + 1.0)
}

/// Runs `s` over its seeds.
pub fn run(s: &Scenario) -> Measured {
	let n = s.validators;
	let rules =
		tally::Rules { mode: VoteMode::Binary, quorum: Perbill::from_percent(50), approval: Perbill::from_percent(50), tolerance: 0, min_voters: 2 };
	let mut m = Measured::default();
	let mut scorings_total = 0u64;
	for seed in 0..s.seeds {
		let seed_bytes = seed.to_le_bytes();
		// Equal weights; the dishonest validators are a seeded draw of round(f · n) of them.
		let everyone: Vec<(usize, u128)> = (0..n).map(|v| (v, 1_000_000u128)).collect();
		let bad_count = (s.dishonest * n as f64).round() as usize;
		let dishonest = weighted_draw(&everyone, bad_count, hash(&[b"dishonest", &seed_bytes]));
		let mut is_bad = vec![false; n];
		dishonest.iter().for_each(|v| is_bad[*v] = true);
		let mut scorings = vec![0u64; n];
		let mut rounds_of_tallies = 0u64;
		for claimant in 0..n {
			let forged = is_bad[claimant];
			let others: Vec<(usize, u128)> = everyone.iter().copied().filter(|(v, _)| *v != claimant).collect();
			let mut size = s.committee;
			let mut level = 0u8;
			let outcome = loop {
				let draw_seed = hash(&[b"committee", &seed_bytes, &(claimant as u64).to_le_bytes(), &[level]]);
				let members: Vec<usize> = match size {
					Some(k) if k < others.len() => weighted_draw(&others, k, draw_seed),
					_ => others.iter().map(|(v, _)| *v).collect(),
				};
				let mut weights: Vec<u128> = members.iter().map(|_| 1_000_000u128).collect();
				tally::cap_weights(&mut weights, Perbill::from_percent(40));
				let eligible: u128 = weights.iter().sum();
				let ballots: Vec<Ballot<usize>> = members
					.iter()
					.zip(weights)
					.map(|(&v, weight)| {
						let away = unit(&[b"away", &seed_bytes, &(claimant as u64).to_le_bytes(), &[level], &(v as u64).to_le_bytes()]) < s.no_show;
						let verdict = (!away).then(|| match (is_bad[v], forged) {
							// Colluders pass each other's forgeries and fail honest work.
							(true, true) | (false, false) => Verdict::Valid,
							(true, false) | (false, true) => Verdict::Invalid,
						});
						if verdict.is_some() {
							scorings[v] += 1;
						}
						Ballot { who: v, weight, commitment: verdict.map(|_| Default::default()), verdict }
					})
					.collect();
				let decision = tally::decide(&ballots, eligible, &rules, None);
				let everyone_voted = size.is_none_or(|k| k >= others.len());
				let close = tally::is_close(&decision, s.decisive);
				// `everyone_voted` covers a committee of everyone (`size` None): nothing larger.
				let next = size.and_then(|k| CommitteeRound { size: k as u32, level }.escalation());
				if let (Some((next_level, next_size)), true) = (next, (decision.outcome == Outcome::NoQuorum || close) && !everyone_voted) {
					m.escalations += 1;
					level = next_level;
					size = next_size.map(|k| k as usize);
					continue;
				}
				rounds_of_tallies = rounds_of_tallies.max(u64::from(level) + 1);
				break decision.outcome;
			};
			match (forged, outcome) {
				(_, Outcome::NoQuorum) => m.undecided += 1,
				(true, Outcome::Accepted) => m.forged_accepted += 1,
				(false, Outcome::Rejected) => m.honest_rejected += 1,
				_ => {},
			}
			if forged {
				m.forged += 1;
			} else {
				m.honest += 1;
			}
		}
		let round_scorings: u64 = scorings.iter().sum();
		scorings_total += round_scorings;
		m.scorings_max = m.scorings_max.max(scorings.iter().copied().max().unwrap_or(0));
		// All of a round's claims end their periods together; each escalation level adds a
		// batch of tallies, as many a block as the budget holds for that level's committee.
		let mut blocks = 0;
		let mut size = s.committee;
		for level in 0..rounds_of_tallies as u8 {
			let voters = size.map_or(n, |k| k.min(n));
			// A committee of everyone cannot escalate; a drawn one draws the next.
			let escalation = size.and_then(|k| CommitteeRound { size: k as u32, level }.escalation());
			let next = escalation.map(|(_, next)| next.map_or(n, |k| (k as usize).min(n)));
			blocks += (n as u64).div_ceil(tallies_per_block(n, voters, next));
			size = escalation.and_then(|(_, next)| next.map(|k| k as usize));
		}
		m.tally_blocks = m.tally_blocks.max(blocks);
	}
	m.scorings_mean = scorings_total as f64 / (s.seeds as f64 * n as f64);
	m.bytes_per_round = scorings_total as f64 / s.seeds as f64 * s.payload_bytes as f64;
	m
}

fn scenario(validators: usize, committee: Option<usize>, dishonest: f64) -> Scenario {
	Scenario { validators, committee, dishonest, no_show: 0.05, seeds: 20, payload_bytes: 48 * 1024, decisive: Perbill::from_percent(67) }
}

#[test]
fn committees_keep_each_validators_work_flat_and_forgeries_out() {
	// Small enough to run with the unit tests.
	let small = run(&Scenario { seeds: 4, ..scenario(40, Some(8), 0.1) });
	let large = run(&Scenario { seeds: 4, ..scenario(160, Some(8), 0.1) });
	// With committees a validator scores about k claims a round, whatever the network's size
	// (a little more for escalations and no-shows' replacements).
	assert!(small.scorings_mean < 10.0 && large.scorings_mean < 10.0, "{small:?} {large:?}");
	assert!((large.scorings_mean - small.scorings_mean).abs() < 1.5, "{small:?} {large:?}");
	// Without them it grows with the network.
	let everyone = run(&Scenario { seeds: 2, ..scenario(160, None, 0.1) });
	assert!(everyone.scorings_mean > 140.0, "{everyone:?}");
	// 10 % colluding weight passes no forgery; in committees of 8 it fails an honest update
	// now and then (4 of 8 drawn: a tie, and a tie rejects), rarely.
	for m in [small, large] {
		assert_eq!(m.forged_accepted, 0, "{m:?}");
		assert!(m.honest_rejected * 100 <= m.honest, "{m:?}");
	}
	// At 30 % colluding weight, committees of 16 whose close verdicts stand let forgeries
	// through and reject honest updates; escalating close verdicts takes most of that away.
	let standing = run(&Scenario { seeds: 3, decisive: Perbill::zero(), ..scenario(100, Some(16), 0.3) });
	let escalating = run(&Scenario { seeds: 3, ..scenario(100, Some(16), 0.3) });
	assert!(standing.honest_rejected > 0 && standing.forged_accepted > 0, "{standing:?}");
	assert!(escalating.honest_rejected * 4 <= standing.honest_rejected, "{standing:?} {escalating:?}");
	assert!(escalating.forged_accepted * 4 <= standing.forged_accepted, "{standing:?} {escalating:?}");
	// A colluding majority does pass its forgeries: the simulation can tell.
	let captured = run(&Scenario { seeds: 2, ..scenario(40, Some(8), 0.6) });
	assert!(captured.forged_accepted > 0, "{captured:?}");
}

/// The full grid; writes its raw output as JSON lines to `$SCALE_SIM_OUT` (default
/// `scale-sim.jsonl` in the working directory) and prints a table.
#[test]
#[ignore]
fn scale_grid() {
	use std::io::Write;
	let out = std::env::var("SCALE_SIM_OUT").unwrap_or_else(|_| "scale-sim.jsonl".into());
	let mut file = std::fs::File::create(&out).expect("output file");
	// The test harness prints the test's name without a line break: start the table on a line.
	println!();
	for n in [10usize, 100, 1_000] {
		for (committee, decisive) in [(None, 67u32), (Some(16usize), 0), (Some(16), 67)] {
			for dishonest in [0.1f64, 0.3] {
				let seeds = if n == 1_000 && committee.is_none() { 5 } else { 20 };
				let s = Scenario { seeds, decisive: Perbill::from_percent(decisive), ..scenario(n, committee, dishonest) };
				let m = run(&s);
				let (p, lo, hi) = m.cheat_acceptance();
				let k = match committee {
					None => "all".to_string(),
					Some(k) if decisive == 0 => format!("{k}, close verdicts stand"),
					Some(k) => format!("{k}, close verdicts escalate"),
				};
				println!(
					"| {n} | {k} | {:.0} % | {:.4} ({:.4}–{:.4}) of {} | {} of {} | {} | {} | {:.1} ({}) | {:.2} | {} |",
					dishonest * 100.0,
					p,
					lo,
					hi,
					m.forged,
					m.honest_rejected,
					m.honest,
					m.undecided,
					m.escalations,
					m.scorings_mean,
					m.scorings_max,
					m.bytes_per_round / (1024.0 * 1024.0),
					m.tally_blocks
				);
				writeln!(
					file,
					"{{\"validators\":{n},\"committee\":\"{k}\",\"dishonest\":{dishonest},\"no_show\":{},\"seeds\":{},\"payload_bytes\":{},\"forged\":{},\"forged_accepted\":{},\"cheat_acceptance\":[{p},{lo},{hi}],\"honest\":{},\"honest_rejected\":{},\"undecided\":{},\"escalations\":{},\"scorings_mean\":{},\"scorings_max\":{},\"bytes_per_round\":{},\"tally_blocks\":{}}}",
					s.no_show,
					s.seeds,
					s.payload_bytes,
					m.forged,
					m.forged_accepted,
					m.honest,
					m.honest_rejected,
					m.undecided,
					m.escalations,
					m.scorings_mean,
					m.scorings_max,
					m.bytes_per_round,
					m.tally_blocks
				)
				.expect("write");
			}
		}
	}
}
