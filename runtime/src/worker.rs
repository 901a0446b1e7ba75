//! The runtime side of [`loopx_worker_api`]: a worker's action becomes this runtime's call,
//! wrapped in a transaction with this runtime's extensions, signed by the worker key in the
//! node's keystore and submitted to the pool. The node never encodes a call.

use crate::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::BoundedVec;
use loopx_worker_api::{crypto, SubmitError, WorkerAction};
use sp_runtime::{
	generic::Era,
	traits::{IdentifyAccount, SaturatedConversion},
	MultiSignature, MultiSigner, RuntimeAppPublic,
};

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

/// Transactions of workers stay valid for this many blocks.
const MORTALITY: u64 = 64;

/// The worker key in the keystore (the first, if several).
fn worker_key() -> Option<crypto::Public> {
	crypto::Public::all().into_iter().next()
}

/// The account of a worker key.
fn account_of(key: &crypto::Public) -> AccountId {
	MultiSigner::from(sp_core::sr25519::Public::from(key.clone())).into_account()
}

/// See [`loopx_worker_api::WorkerApi::worker_account`].
pub fn worker_account() -> Option<AccountId> {
	worker_key().as_ref().map(account_of)
}

/// This runtime's call for `action`.
fn call_of(action: WorkerAction<Balance>) -> Result<RuntimeCall, SubmitError> {
	use pallet_compute_market::Call as Compute;
	use pallet_data_market::Call as Data;
	Ok(match action {
		WorkerAction::Advertise { tags, models, price } => {
			let tags = tags.into_iter().map(BoundedVec::try_from).collect::<Result<Vec<_>, _>>().map_err(|_| SubmitError::TooLarge)?;
			let tags = BoundedVec::try_from(tags).map_err(|_| SubmitError::TooLarge)?;
			let models = BoundedVec::try_from(models).map_err(|_| SubmitError::TooLarge)?;
			Compute::advertise { tags, models, price }.into()
		},
		WorkerAction::CommitAnswer { query, question, commitment } => Compute::commit_answer { query, question, commitment }.into(),
		WorkerAction::RevealAnswer { query, result, salt } => Compute::reveal_answer { query, result, salt }.into(),
		WorkerAction::CommitVote { claim, claim_commitment, commitment } => {
			pallet_weighted_voting::Call::commit_vote { claim, claim_commitment, commitment }.into()
		},
		WorkerAction::RevealVote { claim, verdict, salt } => pallet_weighted_voting::Call::reveal_vote { claim, verdict, salt }.into(),
		WorkerAction::CommitVotes { votes } => {
			pallet_weighted_voting::Call::commit_votes { votes: BoundedVec::try_from(votes).map_err(|_| SubmitError::TooLarge)? }.into()
		},
		WorkerAction::RevealVotes { votes } => {
			pallet_weighted_voting::Call::reveal_votes { votes: BoundedVec::try_from(votes).map_err(|_| SubmitError::TooLarge)? }.into()
		},
		WorkerAction::SubmitUpdate { task, parent, new_hash, sealed_metric } => {
			pallet_builder_market::Call::submit_update { task, parent, new_hash, sealed_metric }.into()
		},
		WorkerAction::RevealClaimedScore { claim, score, salt } => pallet_weighted_voting::Call::reveal_claimed_score { claim, score, salt }.into(),
		WorkerAction::RegisterKey { key } => Data::register_key { key }.into(),
		WorkerAction::PostOffer { tag, local_model, content_hash, size, samples, schema, price, quantity, expires } => {
			use pallet_data_market::{Commitment, Goods, GoodsKind};
			let kind = if local_model { GoodsKind::LocalModel } else { GoodsKind::RawData };
			let goods = Goods { kind, commitment: Commitment { content_hash, size, samples, schema } };
			Data::post_offer { tag, goods, price, quantity, expires, router: None }.into()
		},
		WorkerAction::PostBid { tag, price, quantity, expires } => Data::post_bid { tag, max_price: price, quantity, expires, router: None }.into(),
		WorkerAction::Deliver { deal, ciphertext, key_commitment } => Data::deliver { deal, ciphertext, key_commitment }.into(),
		WorkerAction::Confirm { deal } => Data::confirm { deal }.into(),
		WorkerAction::Dispute { deal, evidence, key } => Data::dispute { deal, evidence, key }.into(),
		WorkerAction::RevealDealKey { deal, key } => Data::reveal_deal_key { deal, key }.into(),
	})
}

/// See [`loopx_worker_api::WorkerApi::submit`].
pub fn submit(action: WorkerAction<Balance>, nonce: Nonce, acting_for: Option<AccountId>) -> Result<(), SubmitError> {
	let call = call_of(action)?;
	// As a proxy of the stash: only worker calls pass the proxy type's filter.
	let call = match acting_for {
		Some(real) => RuntimeCall::Proxy(pallet_proxy::Call::proxy {
			real: Address::Id(real),
			force_proxy_type: Some(crate::configs::proxy::ProxyType::Worker),
			call: alloc::boxed::Box::new(call),
		}),
		None => call,
	};
	let key = worker_key().ok_or(SubmitError::NoWorkerKey)?;
	let account = account_of(&key);
	// The state is that after the best block, whose own hash is not stored yet: anchor the
	// era at its parent (as the kitchensink runtime does).
	let current = System::block_number().saturated_into::<u64>().saturating_sub(1);
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::mortal(MORTALITY, current)),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	let payload = SignedPayload::new(call, extension).map_err(|_| SubmitError::SigningFailed)?;
	let signature = payload.using_encoded(|bytes| key.sign(&bytes)).ok_or(SubmitError::SigningFailed)?;
	let (call, extension, _) = payload.deconstruct();
	let signature = MultiSignature::Sr25519(signature.into());
	let xt = UncheckedExtrinsic::new_signed(call, Address::Id(account), signature, extension);
	frame_system::offchain::SubmitTransaction::<Runtime, RuntimeCall>::submit_transaction(xt).map_err(|()| SubmitError::PoolRejected)
}
