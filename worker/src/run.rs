//! The block loop: at every new best block, each worker takes its turn. Votes go first, before
//! training and fetching can hold the loop up (commit and reveal periods are short); they get a
//! second pass after learning and the deal worker fetched the models and deliveries some
//! verdicts need. A loop that fell behind skips to the newest best block:
//! every duty is worked out from the chain's state there, so nothing is lost by skipping.

use futures::{FutureExt, StreamExt};
use loopx_runtime::opaque::Block;
use sc_client_api::BlockchainEvents;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_core::offchain::OffchainStorage;

use crate::{
	answers,
	chain::{Chain, WorkerRuntimeApis},
	chain_index, deals, demo_data, learning, outbox, queries, secret, sql_datasets, votes, Faults, Params, DEFAULT_ANSWER_PRICE, LOG_TARGET,
};

/// The datasets this node holds: the embedded demo table, the operator's own, and the chain
/// tables if it indexes the chain.
fn answerer(
	chain_index: &Option<(std::path::PathBuf, chain_index::IndexStatus)>,
	own: &[sql_datasets::SqlDataset],
) -> Result<answers::Answerer, loopx_query_engine::QueryError> {
	let mut datasets = vec![(demo_data::DEMO_TAG.to_vec(), vec![demo_data::demo_table()])];
	datasets.extend(own.iter().map(|d| (d.tag.clone(), vec![d.table.clone()])));
	let answerer = answers::Answerer::new(datasets)?;
	Ok(match chain_index {
		Some((path, status)) => answerer.with_chain(loopx_query_engine::chain::ChainReader::open(path)?, status.clone())?,
		None => answerer,
	})
}

/// Runs the workers until the node stops.
pub async fn run<C, P, S>(params: Params<C, P, S>)
where
	C: ProvideRuntimeApi<Block> + BlockchainEvents<Block> + sp_blockchain::HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: WorkerRuntimeApis,
	P: TransactionPool<Block = Block> + 'static,
	S: OffchainStorage,
{
	let Params {
		client,
		pool,
		offchain_pool,
		keystore,
		acting_for,
		mut offchain_storage,
		metrics,
		faults,
		models,
		fetcher,
		validator,
		selling,
		buying,
		deal_store,
		bought_store,
		deal_fetcher,
		chain_index,
		sql_datasets,
	} = params;
	for d in &sql_datasets {
		log::info!(
			target: LOG_TARGET,
			"📚 SQL dataset {:?}: table {} ({} rows; columns {:?}), file blake2-256 0x{}",
			String::from_utf8_lossy(&d.tag),
			d.table.name,
			d.table.rows.len(),
			d.table.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
			d.commitment.iter().map(|b| format!("{b:02x}")).collect::<String>()
		);
	}
	let (for_queries, for_votes) = match (answerer(&chain_index, &sql_datasets), answerer(&chain_index, &sql_datasets)) {
		(Ok(a), Ok(b)) => (a, b),
		(Err(e), _) | (_, Err(e)) => {
			return log::error!(target: LOG_TARGET, "workers not started: the demo tables or the chain tables did not load: {e}")
		},
	};
	if faults != Faults::default() {
		log::warn!(target: LOG_TARGET, "🎭 FAULT INJECTION ON ({faults:?}): this validator will cheat and be slashed. Test networks only.");
	}
	let secret = secret::load_or_create(offchain_storage.as_mut());
	let mut queries = queries::QueryWorker::new(for_queries, secret, DEFAULT_ANSWER_PRICE, faults);
	let mut votes = votes::VoteWorker::new(for_votes, secret);
	let garbage = fetcher.clone().filter(|_| faults.garbage_requests);
	// Models kept from an earlier run are served again: say so.
	if let Some(fetcher) = &fetcher {
		for hash in models.hashes() {
			fetcher.announce(hash);
		}
	}
	let mut learning = learning::Learning::new(models, fetcher, faults, secret);
	let buying = validator.then_some(buying);
	let (mut deals, bought) = deals::DealWorker::new(&secret, selling.clone(), buying, deal_store, bought_store, deal_fetcher);
	if faults.sell_garbage {
		deals.sell_garbage();
	}
	for kept in bought {
		match kept {
			deals::Bought::Data(data) => learning.add_training_data(data),
			deals::Bought::Model(task, payload) => learning.add_bought_model(task, payload),
			deals::Bought::Version(_) => {},
		}
	}
	if let Some(stash) = &acting_for {
		log::info!(target: LOG_TARGET, "🔑 workers act for {stash} as its Worker proxy: the lpxw key signs and pays the fees");
	}
	let chain = Chain::new(client.clone(), pool, offchain_pool, keystore, acting_for);
	let mut warned_no_key = false;
	if validator {
		log::info!(
			target: LOG_TARGET,
			"🛠️ workers started (compute market over {:?}, learning tasks scored on the demo evaluation set {:?}, votes, buying data on {:?})",
			String::from_utf8_lossy(demo_data::DEMO_TAG),
			demo_data::DEMO_EVAL_SET,
			String::from_utf8_lossy(deals::DATA_TAG),
		);
	}
	if let Some(plan) = &selling {
		log::info!(
			target: LOG_TARGET,
			"🛠️ data node: selling {} on {:?} at {} a unit{}",
			plan.data.as_ref().map_or("this node's demo shard".to_owned(), |d| format!("{} rows", d.len())),
			String::from_utf8_lossy(&plan.tag),
			plan.price,
			plan.model.as_ref().map_or(String::new(), |(tag, price)| format!(
				", and a local model trained on it on {:?} at {price} once a learning task is on chain",
				String::from_utf8_lossy(tag)
			)),
		);
	}

	let mut imports = client.import_notification_stream();
	while let Some(first) = imports.next().await {
		let (block, skipped) = newest(first, || imports.next().now_or_never().flatten(), |b| b.is_new_best);
		if skipped > 0 {
			log::debug!(target: LOG_TARGET, "workers behind: skipped {skipped} block notifications to #{}", block.header.number);
		}
		// Blocks of a major sync (a restarted or new node catching up) are history: acting on
		// them would send votes and answers against old state, and resend them every
		// RETRY_AFTER blocks of history while the real chain has them already.
		if !block.is_new_best || block.origin == sp_consensus::BlockOrigin::NetworkInitialSync {
			continue;
		}
		let me = match chain.worker_account(block.hash) {
			Ok(Some(me)) => me,
			Ok(None) => {
				if !warned_no_key {
					warned_no_key = true;
					log::warn!(target: LOG_TARGET, "no worker key (type lpxw) in the keystore: workers idle; see `loopx-node key insert --key-type lpxw`");
				}
				continue;
			},
			Err(e) => {
				log::warn!(target: LOG_TARGET, "cannot read the worker account: {e}");
				continue;
			},
		};
		let finalized = client.info().finalized_hash;
		let at = outbox::At { chain: &chain, hash: block.hash, finalized, now: block.header.number, me: &me, metrics: &metrics };
		if validator {
			// What needs nothing fetched first: votes on SQL answers, on models held already
			// and on deliveries judged already.
			votes.on_block(&at, &mut learning, deals.dispute_verdicts(), false);
		}
		deals.on_block(&at, &mut learning).await;
		if !validator {
			continue;
		}
		// Then fetching and training (it also decides which models are served, so queries,
		// inference ones among them, are answered after it); the votes that waited for a
		// fetched model or delivery are cast in a second pass (the outbox sends each vote once).
		learning.on_block(&at).await;
		queries.on_block(&at, &mut learning);
		deals.judge_disputes(&at, &mut learning).await;
		votes.on_block(&at, &mut learning, deals.dispute_verdicts(), true);
		if let Some(fetcher) = &garbage {
			fetcher.send_garbage(block.header.number).await;
		}
	}
}

/// The newest of `first` and the notifications already waiting (`next_ready` returns them
/// without waiting) that `wanted` accepts, and how many were passed over. `first` is kept when
/// nothing newer is wanted.
fn newest<T>(first: T, mut next_ready: impl FnMut() -> Option<T>, wanted: impl Fn(&T) -> bool) -> (T, usize) {
	let (mut newest, mut skipped) = (first, 0);
	while let Some(next) = next_ready() {
		if wanted(&next) {
			newest = next;
			skipped += 1;
		}
	}
	(newest, skipped)
}

#[cfg(test)]
mod tests {
	use super::newest;

	#[test]
	fn a_loop_behind_jumps_to_the_newest_wanted_block() {
		// (number, is new best): #5 and #7 are not new best (a fork's blocks); #6 is the newest.
		let mut waiting = vec![(4, true), (5, false), (6, true), (7, false)].into_iter();
		let (block, skipped) = newest((3, true), || waiting.next(), |b| b.1);
		assert_eq!((block, skipped), ((6, true), 2));
		// Nothing waiting: the first is the one.
		assert_eq!(newest((3, true), || None, |b: &(u32, bool)| b.1), ((3, true), 0));
	}
}
