//! # LoopX runtime
//!
//! The state-transition function of the LoopX chain: FRAME system pallets, BABE block production,
//! GRANDPA finality, sessions, balances (token LPX, 12 decimals), fees, utility, proxies,
//! offences, governance ([`governance`]: OpenGov, a technical committee, a treasury; sudo on the
//! development presets), and the LoopX pallets: stake & reputation, weighted voting, rewards and
//! the data, builder and compute markets.
//!
//! Layout: [`configs`] holds each pallet's configuration, [`apis`] the runtime APIs the node and
//! clients call, [`genesis_config_presets`] the `development` and `local_testnet` genesis presets
//! (read from the editable files in `chain-spec/`).
#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!` does a lot of recursion and requires us to increase the limit.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

// Declared before `apis`, which uses the `list_benchmarks!`/`add_benchmarks!` it defines.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod constants;
pub mod genesis_config_presets;
pub mod governance;
mod weighted_authorities;
pub mod weights;
mod worker;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use apis::RuntimeApi;
pub use configs::{MaxAuthorities, TreasuryAccount};
pub use constants::*;
pub use frame_support::{construct_runtime, parameter_types};
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;

/// Opaque types: what the node needs to know about blocks without knowing the runtime's calls.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::{BlakeTwo256 as Hasher, Hash as HashT};

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, Hasher>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <Hasher as HashT>::Output;
}

impl_opaque_keys! {
	/// The session keys a validator registers with `session.setKeys`: one for BABE block
	/// production, one for GRANDPA finality votes.
	pub struct SessionKeys {
		pub babe: Babe,
		pub grandpa: Grandpa,
	}
}

/// The runtime's version. polkadot.js and the node read it to decide how to encode calls.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("loopx"),
	impl_name: alloc::borrow::Cow::Borrowed("loopx-node"),
	authoring_version: 1,
	// Bump on every change of the runtime's logic; bump `transaction_version` when call indices or
	// argument encodings change.
	spec_version: 129,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 5,
	system_version: 1,
};

/// The BABE epoch configuration at genesis: a primary slot is won with probability 1/4 (for
/// all authorities together), and empty slots are filled by secondary VRF slots so that a block
/// is produced every slot.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration { c: PRIMARY_PROBABILITY, allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots };

/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;
/// Some way of identifying an account on the chain (a 32-byte public key).
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in Plancks of LPX (10^-12 LPX).
pub type Balance = u128;
/// Index of a transaction in the chain.
pub type Nonce = u32;
/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;
/// An index to a block.
pub type BlockNumber = u32;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A Block signed with a Justification.
pub type SignedBlock = generic::SignedBlock<Block>;
/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions checked on every signed transaction (polkadot.js knows them all).
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic = generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run on runtime upgrade, each once by its pallet's storage version (on a
/// new chain every pallet starts at its current version and none runs).
type Migrations = (
	pallet_data_market::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_data_market::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_rewards::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_compute_market::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_compute_market::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_compute_market::migrations::v3::MigrateV2ToV3<Runtime>,
	pallet_builder_market::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_builder_market::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_weighted_voting::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_weighted_voting::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_weighted_voting::migrations::v3::MigrateV2ToV3<Runtime>,
	pallet_weighted_voting::migrations::v4::MigrateV3ToV4<Runtime>,
	pallet_weighted_voting::migrations::v5::MigrateV4ToV5<Runtime>,
	pallet_weighted_voting::migrations::v6::MigrateV5ToV6<Runtime>,
	pallet_stake_reputation::migrations::v1::MigrateV0ToV1<Runtime>,
);

/// Executive: handles dispatch to the various pallets.
pub type Executive = frame_executive::Executive<Runtime, Block, frame_system::ChainContext<Runtime>, Runtime, AllPalletsWithSystem, Migrations>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(3)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;
	// Before Session: its genesis (stakes) must exist when Session asks for the first set.
	#[runtime::pallet_index(6)]
	pub type StakeReputation = pallet_stake_reputation;
	#[runtime::pallet_index(7)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(8)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(9)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(10)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(11)]
	pub type WeightedVoting = pallet_weighted_voting;
	#[runtime::pallet_index(12)]
	pub type Rewards = pallet_rewards;
	#[runtime::pallet_index(13)]
	pub type DataMarket = pallet_data_market;
	#[runtime::pallet_index(14)]
	pub type BuilderMarket = pallet_builder_market;
	#[runtime::pallet_index(15)]
	pub type ComputeMarket = pallet_compute_market;
	#[runtime::pallet_index(16)]
	pub type Routers = pallet_routers;
	#[runtime::pallet_index(17)]
	pub type Proxy = pallet_proxy;
	#[runtime::pallet_index(18)]
	pub type Historical = pallet_session::historical;
	#[runtime::pallet_index(19)]
	pub type Offences = pallet_offences;

	// Governance (`governance`): OpenGov, the technical committee and the treasury.
	#[runtime::pallet_index(20)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(21)]
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(22)]
	pub type Origins = governance::origins::pallet_loopx_origins;
	#[runtime::pallet_index(23)]
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(24)]
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(25)]
	pub type TechnicalCommittee = pallet_collective<Instance1>;
	#[runtime::pallet_index(26)]
	pub type Whitelist = pallet_whitelist;
	#[runtime::pallet_index(27)]
	pub type Treasury = pallet_treasury;
}
