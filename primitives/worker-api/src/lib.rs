//! # LoopX worker API
//!
//! The node's native workers never encode extrinsics themselves (see `shared/design.md`, "How
//! the parts talk"). They say *what* to do as a [`WorkerAction`]; the runtime turns it into its
//! call, builds the signed transaction with its own transaction extensions, signs it with the
//! worker key in the node's keystore ([`WORKER_KEY_TYPE`], sr25519: the key *is* the
//! validator's account) and puts it into the transaction pool. The node calls [`WorkerApi`]
//! with the keystore and the offchain transaction pool registered as extensions.
//!
//! Operators put the key into the keystore once:
//!
//! ```text
//! loopx-node key insert --base-path <PATH> --chain <CHAIN> --key-type lpxw --scheme sr25519 --suri "<secret>"
//! ```
//!
//! Dev and local chains started with `--alice`, `--bob`, ... (and `--dev`) get the matching
//! dev key inserted by the node.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
pub use loopx_primitives::{Verdict, VoteCommit, VoteReveal};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::KeyTypeId;

/// The key type of the worker key: `lpxw`.
pub const WORKER_KEY_TYPE: KeyTypeId = KeyTypeId(*b"lpxw");

/// The worker key's application crypto (sr25519, so its public key is an account id).
pub mod crypto {
	use super::WORKER_KEY_TYPE;
	use sp_runtime::app_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, WORKER_KEY_TYPE);
}

/// Something a worker asks the runtime to sign and submit as its account.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub enum WorkerAction<Balance> {
	/// Compute market: advertise the dataset tags and model versions served, at `price` a query.
	Advertise {
		/// Dataset tags.
		tags: Vec<Vec<u8>>,
		/// (model, version) pairs served for inference.
		models: Vec<(u32, u32)>,
		/// Price asked per query.
		price: Balance,
	},
	/// Compute market: commit to an answer of `query`.
	CommitAnswer {
		/// The query.
		query: u64,
		/// The hash of what the query asks (`pallet_compute_market::question_hash` of its kind):
		/// the answer was worked out for this question, whatever the number names on this fork.
		question: H256,
		/// The commitment (see `computeMarketApi.answerCommitment`).
		commitment: H256,
	},
	/// Compute market: reveal the committed answer of `query`.
	RevealAnswer {
		/// The query.
		query: u64,
		/// The answer.
		result: Vec<u8>,
		/// The salt of the commitment.
		salt: [u8; 32],
	},
	/// Weighted voting: commit a vote on `claim`.
	CommitVote {
		/// The claim.
		claim: u64,
		/// The claim's own commitment: the claim the vote was worked out for.
		claim_commitment: H256,
		/// The commitment (see `weightedVotingApi.voteCommitment`).
		commitment: H256,
	},
	/// Weighted voting: reveal the committed vote on `claim`.
	RevealVote {
		/// The claim.
		claim: u64,
		/// The verdict.
		verdict: Verdict,
		/// The salt of the commitment.
		salt: [u8; 32],
	},
	/// Builder market: claim a model update in the running round of `task` (a `ModelUpdate`
	/// claim for the validators to verify).
	SubmitUpdate {
		/// The learning task.
		task: loopx_primitives::TaskId,
		/// The version trained from (zero for the first).
		parent: H256,
		/// Hash of the new model's wire payload (served by the node's model protocol).
		new_hash: H256,
		/// The seal on the metric it reaches on the task's evaluation set, in parts per million
		/// (`weightedVotingApi.scoreSeal`); revealed with [`WorkerAction::RevealClaimedScore`].
		sealed_metric: H256,
	},
	/// Data market: register the X25519 public key that deal payloads are sealed to.
	RegisterKey {
		/// The key.
		key: [u8; 32],
	},
	/// Data market: offer `quantity` units of a local dataset or local model.
	PostOffer {
		/// The market.
		tag: Vec<u8>,
		/// A locally trained model's parameters (otherwise raw samples).
		local_model: bool,
		/// Hash of the plaintext payload.
		content_hash: H256,
		/// Size of the payload in bytes.
		size: u64,
		/// Samples in (or behind) the payload.
		samples: u64,
		/// Hash of the schema (raw data) or the model tag.
		schema: H256,
		/// Price per unit.
		price: Balance,
		/// Units.
		quantity: u32,
		/// Expiry block.
		expires: u32,
	},
	/// Data market: bid for `quantity` units of `tag` at most `price` each.
	PostBid {
		/// The market.
		tag: Vec<u8>,
		/// Highest price per unit.
		price: Balance,
		/// Units.
		quantity: u32,
		/// Expiry block.
		expires: u32,
	},
	/// Data market: the sealed payload of `deal` is ready for the buyer; its blake2-256 hash.
	Deliver {
		/// The deal.
		deal: u64,
		/// Hash of the sealed payload.
		ciphertext: H256,
		/// Commitment to the deal key the payload is sealed with
		/// (`pallet_data_market::deal_key_commitment`).
		key_commitment: H256,
	},
	/// Data market: the payload of `deal` opened and matched the offer's commitment.
	Confirm {
		/// The deal.
		deal: u64,
	},
	/// Data market: the payload of `deal` did not check out; `evidence` commits to why.
	Dispute {
		/// The deal.
		deal: u64,
		/// Hash of the evidence.
		evidence: H256,
		/// The deal key, when this node could derive one that matches the seller's commitment
		/// (the vote then opens at once); otherwise the seller must reveal it.
		key: Option<[u8; 32]>,
	},
	/// Weighted voting: reveal the score sealed in this node's claim `claim`.
	RevealClaimedScore {
		/// The claim.
		claim: u64,
		/// The score.
		score: u32,
		/// The salt of the seal.
		salt: [u8; 32],
	},
	/// Data market: reveal the deal key of disputed `deal` (as its seller) so the voters can
	/// open the payload.
	RevealDealKey {
		/// The deal.
		deal: u64,
		/// The deal key.
		key: [u8; 32],
	},
	/// Weighted voting: commit votes on several claims in one transaction
	/// (`weightedVoting.commit_votes`: each applied or failed on its own).
	CommitVotes {
		/// The votes (at most the runtime's `MaxVotesPerCall`).
		votes: Vec<VoteCommit>,
	},
	/// Weighted voting: reveal votes on several claims in one transaction
	/// (`weightedVoting.reveal_votes`).
	RevealVotes {
		/// The votes (at most the runtime's `MaxVotesPerCall`).
		votes: Vec<VoteReveal>,
	},
}

/// Why an action was not submitted.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, TypeInfo)]
pub enum SubmitError {
	/// The keystore holds no worker key (or no keystore was registered).
	NoWorkerKey,
	/// An argument does not fit the runtime's bounds.
	TooLarge,
	/// The keystore did not sign.
	SigningFailed,
	/// The transaction pool refused the transaction (stale nonce, cannot pay fees, ...).
	PoolRejected,
}

sp_api::decl_runtime_apis! {
	/// Signing and submitting of workers' actions. Call it with a keystore
	/// (`sp_keystore::KeystoreExt`) and the offchain transaction pool registered.
	///
	/// Version 2: `submit` takes the account the worker key acts for as its proxy.
	#[api_version(2)]
	pub trait WorkerApi<AccountId, Nonce, Balance>
	where
		AccountId: Codec,
		Nonce: Codec,
		Balance: Codec,
	{
		/// The account of the worker key in the keystore, if there is one.
		fn worker_account() -> Option<AccountId>;
		/// Signs `action` with the worker key as the transaction of index `nonce` of its account
		/// and submits it to the pool. With `acting_for`, the worker key is a proxy of that
		/// account (a stash whose key stays offline): the action is wrapped in the runtime's
		/// proxy call, limited to worker calls, and dispatched as `acting_for`.
		fn submit(action: WorkerAction<Balance>, nonce: Nonce, acting_for: Option<AccountId>) -> Result<(), SubmitError>;
	}
}
