//! The chain index's costs, for the benchmark report: the batch backfill rate (decode a block's
//! extrinsics and events with the runtime's metadata, write its rows, 256 blocks a
//! transaction, the next batch decoded while one is written and the secondary indexes built at
//! the end, as the indexer does) for blocks of ~100 transfers each, and query latency over 10⁶ indexed
//! transfers for the whitepaper's kind of questions. What it leaves out: reading blocks and
//! state from the node's database (RocksDB), which the indexer does too.
//!
//! `cargo bench -p loopx-worker --bench chain_index [-- --out FILE]` prints a Markdown section.

use std::{
	collections::VecDeque,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use codec::Encode;
use frame_system::{EventRecord, Phase};
use loopx_query_engine::chain::{ChainReader, ChainStore};
use loopx_runtime::{Runtime, RuntimeCall, RuntimeEvent, UncheckedExtrinsic};
use loopx_worker::chain_index::{
	decode::{BlockHead, Decoder, METADATA_VERSION},
	decode_all, index_plan,
	scores::{InForce, TransferScorer},
	IndexPlan, Prefetch, RawBlock, BATCH,
};
use loopx_worker::training::TaskModel;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sp_core::{crypto::AccountId32, H256};

const TRANSFERS_PER_BLOCK: usize = 100;
const ACCOUNTS: u32 = 1_000;
const BACKFILL_BLOCKS: u64 = 4_096;
const SEEDS: [u64; 3] = [1, 2, 3];
/// Blocks of the store the queries run on: 10⁶ transfers.
const QUERY_BLOCKS: u64 = 10_000;

fn account(i: u32) -> AccountId32 {
	AccountId32::from(sp_crypto_hashing::blake2_256(&i.to_le_bytes()))
}

/// Block `n`'s body and events: a timestamp and `TRANSFERS_PER_BLOCK` signed-looking transfers
/// (bare here: the signature does not change what the indexer decodes), each with the events a
/// real transfer emits.
fn block(rng: &mut ChaCha8Rng, n: u64) -> (BlockHead, Vec<Vec<u8>>, Vec<u8>) {
	let mut extrinsics = vec![UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set { now: n * 6_000 })).encode()];
	let record = |phase, event| EventRecord::<RuntimeEvent, H256> { phase, event, topics: vec![] };
	let success = || RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { dispatch_info: Default::default() });
	let mut events = vec![record(Phase::ApplyExtrinsic(0), success())];
	for i in 1..=TRANSFERS_PER_BLOCK as u32 {
		let (from, to) = (account(rng.random_range(0..ACCOUNTS)), account(rng.random_range(0..ACCOUNTS)));
		let amount: u128 = rng.random_range(1..1_000_000_000_000_000);
		extrinsics.push(
			UncheckedExtrinsic::new_bare(RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
				dest: to.clone().into(),
				value: amount,
			}))
			.encode(),
		);
		let phase = || Phase::ApplyExtrinsic(i);
		events.push(record(phase(), RuntimeEvent::Balances(pallet_balances::Event::Withdraw { who: from.clone(), amount: 1_000_000 })));
		events.push(record(phase(), RuntimeEvent::Balances(pallet_balances::Event::Transfer { from: from.clone(), to, amount })));
		events.push(record(
			phase(),
			RuntimeEvent::TransactionPayment(pallet_transaction_payment::Event::TransactionFeePaid { who: from, actual_fee: 1_000_000, tip: 0 }),
		));
		events.push(record(phase(), success()));
	}
	let head = BlockHead {
		number: n,
		hash: format!("{:?}", H256::from_low_u64_be(n + 1)),
		parent_hash: format!("{:?}", H256::from_low_u64_be(n)),
		author: Some(account(n as u32 % 4)),
		timestamp_ms: Some(1_700_000_000_000 + n * 6_000),
	};
	(head, extrinsics, events.encode())
}

struct TempFile(std::path::PathBuf);

impl TempFile {
	fn new(name: &str) -> Self {
		let path = std::env::temp_dir().join(format!("loopx-bench-{name}-{}.sqlite", std::process::id()));
		let me = Self(path);
		me.remove();
		me
	}

	fn remove(&self) {
		for suffix in ["", "-wal", "-shm"] {
			let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
		}
	}
}

impl Drop for TempFile {
	fn drop(&mut self) {
		self.remove();
	}
}

/// A fraud model in force (the e2e task's shape; its initial weights score as fast as trained
/// ones).
fn fraud_model() -> InForce {
	use loopx_model_spec::Precision;
	use pallet_builder_market::{HyperParams, Metric};
	let architecture = loopx_worker::training::fraud_classifier(1);
	let hyper = HyperParams { learning_rate_ppm: 100_000, batch_size: 64, local_steps: 10, seed: 7 };
	let model = TaskModel::new(0, &architecture, Precision::Int8, Metric::Auc, hyper).expect("a fraud model");
	let state = model.initial().clone();
	InForce::new(0, 1, model, state)
}

/// What a backfill took (block generation excluded).
struct Took {
	/// From the first batch to the indexes built.
	wall: Duration,
	/// Decoding, summed over batches (it overlaps writing).
	decoding: Duration,
	scoring: Duration,
	/// Writing rows, and dropping and building the secondary indexes as the indexer does.
	writing: Duration,
	/// Of `writing`, building the indexes.
	indexing: Duration,
}

/// Decodes, scores (with `scoring`'s model in force, if any) and writes `blocks` blocks as the
/// indexer does: batches of [`BATCH`], the next batch decoded ([`Prefetch`]) while this one is
/// written, the indexes dropped and built as [`index_plan`] says. The blocks are made before the
/// clock starts (the indexer reads them from the node's database).
fn backfill(decoder: &Arc<Decoder>, store: &mut ChainStore, seed: u64, first: u64, blocks: u64, scoring: Option<&InForce>) -> Took {
	let mut rng = ChaCha8Rng::seed_from_u64(seed);
	let last = first + blocks - 1;
	let mut pending: VecDeque<(u64, Vec<RawBlock>)> = (first..=last)
		.step_by(BATCH as usize)
		.map(|n| {
			let batch = (n..=last.min(n + BATCH - 1))
				.map(|b| {
					let (head, extrinsics, events) = block(&mut rng, b);
					RawBlock { block_hash: H256::zero(), head, extrinsics, events: Some(events), decoder: decoder.clone() }
				})
				.collect();
			(n, batch)
		})
		.collect();
	let decoding = Arc::new(Mutex::new(Duration::ZERO));
	let job = |batch: Vec<RawBlock>| {
		let decoding = decoding.clone();
		move || {
			let started = Instant::now();
			let rows = decode_all(batch).expect("decodes");
			*decoding.lock().expect("a clock") += started.elapsed();
			rows
		}
	};
	let mut prefetch = Prefetch::default();
	let mut scorer = TransferScorer::new(Default::default(), None, Default::default());
	let (mut scoring_time, mut writing, mut indexing) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
	let began = Instant::now();
	let mut n = first;
	loop {
		let started = Instant::now();
		match index_plan(n, last, store.indexes_built().expect("indexes"), BATCH) {
			IndexPlan::Drop => store.drop_indexes().expect("drops"),
			IndexPlan::Build => {
				store.build_indexes().expect("builds");
				indexing += started.elapsed();
			},
			IndexPlan::Keep => {},
		}
		writing += started.elapsed();
		if n > last {
			break;
		}
		let mut rows = prefetch.take(n).unwrap_or_else(|| {
			let (from, batch) = pending.pop_front().expect("a batch");
			assert_eq!(from, n);
			job(batch)()
		});
		if let Some((from, batch)) = pending.pop_front() {
			prefetch.start(from, job(batch));
		}
		if let Some(model) = scoring {
			let started = Instant::now();
			let models: Vec<Vec<InForce>> = rows.iter().map(|_| vec![model.clone()]).collect();
			scorer.score(&mut rows, &models);
			scoring_time += started.elapsed();
		}
		let started = Instant::now();
		store.write(&rows).expect("writes");
		writing += started.elapsed();
		n += rows.len() as u64;
	}
	let decoding = *decoding.lock().expect("a clock");
	Took { wall: began.elapsed(), decoding, scoring: scoring_time, writing, indexing }
}

fn main() {
	let out = std::env::args().skip_while(|a| a != "--out").nth(1);
	let metadata = Runtime::metadata_at_version(METADATA_VERSION).expect("metadata v15");
	let decoder = Arc::new(Decoder::new(&metadata).expect("decoder"));
	let mut report = String::from("## Chain index (`cargo bench -p loopx-worker --bench chain_index`)\n\n");

	// Backfill rate, over several seeds.
	let (mut rates, mut shares) = (Vec::new(), Vec::new());
	for seed in SEEDS {
		let file = TempFile::new(&format!("backfill-{seed}"));
		let mut store = ChainStore::open(&file.0).expect("store");
		let Took { wall, decoding, writing, indexing, .. } = backfill(&decoder, &mut store, seed, 0, BACKFILL_BLOCKS, None);
		let rate = BACKFILL_BLOCKS as f64 / wall.as_secs_f64();
		println!(
			"seed {seed}: {BACKFILL_BLOCKS} blocks of {TRANSFERS_PER_BLOCK} transfers in {wall:?}: decoding {decoding:?} alongside writing {writing:?} (of which building the indexes {indexing:?}): {rate:.0} blocks/s"
		);
		rates.push(rate);
		shares.push(indexing.as_secs_f64() / wall.as_secs_f64());
	}
	// The same with a fraud model in force: each transfer featurized and scored.
	let model = fraud_model();
	let mut scored = Vec::new();
	for seed in SEEDS {
		let file = TempFile::new(&format!("scored-{seed}"));
		let mut store = ChainStore::open(&file.0).expect("store");
		let Took { wall, scoring, .. } = backfill(&decoder, &mut store, seed, 0, BACKFILL_BLOCKS, Some(&model));
		let transfers_per_s = (BACKFILL_BLOCKS as usize * TRANSFERS_PER_BLOCK) as f64 / scoring.as_secs_f64();
		let rate = BACKFILL_BLOCKS as f64 / wall.as_secs_f64();
		println!("seed {seed}: with a fraud model in force: scoring {scoring:?} ({transfers_per_s:.0} transfers/s), {rate:.0} blocks/s in all");
		scored.push((rate, transfers_per_s));
	}
	let mean = rates.iter().sum::<f64>() / rates.len() as f64;
	let (lo, hi) = rates.iter().fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
	report.push_str(&format!(
		"- Batch backfill, blocks of {TRANSFERS_PER_BLOCK} transfers (401 events, 101 extrinsics), decode alongside write, 256 blocks a transaction, \
		 indexes built at the end: **{mean:.0} blocks/s** (seeds {SEEDS:?}: {lo:.0}–{hi:.0}; {BACKFILL_BLOCKS} blocks each from an empty store; goal ≥ 500), \
		 {:.0} % of the time building the indexes. \
		 Reading blocks and state from the node's database is not included.\n",
		100.0 * shares.iter().sum::<f64>() / shares.len() as f64
	));

	let n = scored.len() as f64;
	report.push_str(&format!(
		"- With one fraud model in force (features of each transfer from its accounts' history, then the TT classifier): \
		 **{:.0} blocks/s** in all, scoring alone {:.0} transfers/s (seeds {SEEDS:?}).\n",
		scored.iter().map(|s| s.0).sum::<f64>() / n,
		scored.iter().map(|s| s.1).sum::<f64>() / n
	));

	// Query latency at 10⁶ transfers.
	let file = TempFile::new("queries");
	let mut store = ChainStore::open(&file.0).expect("store");
	let Took { wall, .. } = backfill(&decoder, &mut store, 9, 0, QUERY_BLOCKS, None);
	println!("filled {QUERY_BLOCKS} blocks ({} transfers) in {wall:?}", QUERY_BLOCKS as usize * TRANSFERS_PER_BLOCK);
	let mut reader = ChainReader::open(&file.0).expect("reader");
	let limits = loopx_worker::answers::chain_limits();
	let mut other = ChainReader::open(&file.0).expect("second reader");
	let someone = sp_core::crypto::Ss58Codec::to_ss58check(&account(7));
	let at = QUERY_BLOCKS - 1;
	let queries = [
		("daily volume", "SELECT b.timestamp_ms / 86400000 AS day, COUNT(*), TOTAL(t.amount) FROM transfers t JOIN blocks b ON b.number = t.block GROUP BY day ORDER BY day".to_string()),
		("top senders", "SELECT sender, SUM(amount) AS v FROM transfers GROUP BY sender ORDER BY v DESC LIMIT 10".to_string()),
		("count by hour", "SELECT b.timestamp_ms / 3600000 AS hour, COUNT(*) FROM transfers t JOIN blocks b ON b.number = t.block GROUP BY hour ORDER BY hour".to_string()),
		("an account's history", format!("SELECT block, idx, receiver, amount FROM transfers WHERE sender = '{someone}' ORDER BY block, idx LIMIT 20")),
		// SUM over 10⁶ amounts of up to 1,000 LPX overflows 64 bits (an error answer, alike on
		// every node); TOTAL sums as a float.
		("count and total at a block", format!("SELECT COUNT(*), TOTAL(amount) FROM transfers WHERE block <= {}", at / 2)),
	];
	report.push_str(&format!("- Query latency over {} indexed transfers ({QUERY_BLOCKS} blocks), median of 5 runs; \"agree\": a second reader gives the same bytes:\n\n| question | median | answer | agree |\n|---|---|---|---|\n", QUERY_BLOCKS as usize * TRANSFERS_PER_BLOCK));
	for (name, sql) in queries {
		let mut times = Vec::new();
		let mut answer = Vec::new();
		for _ in 0..5 {
			let started = Instant::now();
			answer = match reader.run(&sql, at, &limits) {
				Ok(a) => a.encode(),
				Err(e) => format!("{e:?}").into_bytes(),
			};
			times.push(started.elapsed());
		}
		times.sort();
		let again = match other.run(&sql, at, &limits) {
			Ok(a) => a.encode(),
			Err(e) => format!("{e:?}").into_bytes(),
		};
		let summary = String::from_utf8_lossy(&answer).lines().count().saturating_sub(1);
		let first = String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string();
		println!("{name}: {:?} ({summary} rows; {first})", times[2]);
		report.push_str(&format!(
			"| {name} | {:.1} ms | {summary} rows | {} |\n",
			times[2].as_secs_f64() * 1e3,
			if again == answer { "yes" } else { "NO" }
		));
	}
	report.push('\n');
	print!("{report}");
	if let Some(path) = out {
		std::fs::write(&path, &report).expect("write the report section");
	}
}
