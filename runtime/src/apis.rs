//! The runtime APIs: what the node (block production, finality, transaction pool, RPC) and
//! clients (polkadot.js: metadata, fees, nonces) call into the runtime for.

use alloc::vec::Vec;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	weights::Weight,
};
use sp_api::impl_runtime_apis;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

use crate::{
	AccountId, Babe, Balance, Block, BlockNumber, BuilderMarket, ComputeMarket, DataMarket, Executive, Grandpa, InherentDataExt, Nonce, Rewards,
	Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys, StakeReputation, System, TransactionPayment, WeightedVoting, BABE_GENESIS_EPOCH_CONFIG,
	VERSION,
};

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_babe::BabeApi<Block> for Runtime {
		fn configuration() -> sp_consensus_babe::BabeConfiguration {
			let epoch_config = Babe::epoch_config().unwrap_or(BABE_GENESIS_EPOCH_CONFIG);
			sp_consensus_babe::BabeConfiguration {
				slot_duration: Babe::slot_duration(),
				epoch_length: crate::EPOCH_DURATION_IN_SLOTS,
				c: epoch_config.c,
				authorities: Babe::authorities().to_vec(),
				randomness: Babe::randomness(),
				allowed_slots: epoch_config.allowed_slots,
			}
		}

		fn current_epoch_start() -> sp_consensus_babe::Slot {
			Babe::current_epoch_start()
		}

		fn current_epoch() -> sp_consensus_babe::Epoch {
			Babe::current_epoch()
		}

		fn next_epoch() -> sp_consensus_babe::Epoch {
			Babe::next_epoch()
		}

		fn generate_key_ownership_proof(
			_slot: sp_consensus_babe::Slot,
			authority_id: sp_consensus_babe::AuthorityId,
		) -> Option<sp_consensus_babe::OpaqueKeyOwnershipProof> {
			use codec::Encode;
			use frame_support::traits::KeyOwnerProofSystem;
			crate::Historical::prove((sp_consensus_babe::KEY_TYPE, authority_id))
				.map(|p| p.encode())
				.map(sp_consensus_babe::OpaqueKeyOwnershipProof::new)
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_babe::EquivocationProof<<Block as BlockT>::Header>,
			key_owner_proof: sp_consensus_babe::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			// A header without its seal proves nothing (the seal is the offender's signature):
			// sc-consensus-babe 0.60 sends such proofs, which would only fail on chain. The node's
			// own detector (`node/src/babe_equivocation.rs`) sends sealed ones.
			use sp_consensus_babe::digests::CompatibleDigestItem;
			use sp_runtime::traits::Header as _;
			let sealed = |h: &<Block as BlockT>::Header| h.digest().logs().last().is_some_and(|l| l.as_babe_seal().is_some());
			if !sealed(&equivocation_proof.first_header) || !sealed(&equivocation_proof.second_header) {
				return None;
			}
			let key_owner_proof = key_owner_proof.decode()?;
			Babe::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			let key_owner_proof = key_owner_proof.decode()?;
			Grandpa::submit_unsigned_equivocation_report(equivocation_proof, key_owner_proof)
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			authority_id: sp_consensus_grandpa::AuthorityId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			use codec::Encode;
			use frame_support::traits::KeyOwnerProofSystem;
			crate::Historical::prove((sp_consensus_grandpa::KEY_TYPE, authority_id))
				.map(|p| p.encode())
				.map(sp_consensus_grandpa::OpaqueKeyOwnershipProof::new)
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}
		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}
		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_stake_reputation::runtime_api::StakeReputationApi<Block, AccountId, Balance> for Runtime {
		fn reputation(who: AccountId) -> u32 {
			StakeReputation::reputation_of(&who)
		}

		fn weight(who: AccountId) -> pallet_stake_reputation::ElectedValidator<AccountId> {
			StakeReputation::weight_in_session(&who, StakeReputation::current_session())
		}

		fn current_validators() -> Vec<pallet_stake_reputation::ElectedValidator<AccountId>> {
			StakeReputation::weights_of_session(StakeReputation::current_session())
		}

		fn next_validators() -> Vec<pallet_stake_reputation::ElectedValidator<AccountId>> {
			StakeReputation::weights_of_session(StakeReputation::current_session().saturating_add(1))
		}

		fn candidates() -> Vec<pallet_stake_reputation::runtime_api::CandidateInfo<AccountId, Balance>> {
			StakeReputation::candidate_infos()
		}
	}

	impl pallet_weighted_voting::runtime_api::WeightedVotingApi<Block, AccountId, BlockNumber> for Runtime {
		fn claims_for_voter(who: AccountId) -> Vec<pallet_weighted_voting::runtime_api::VotableClaim<BlockNumber>> {
			WeightedVoting::claims_for_voter(&who)
		}

		fn claim(id: loopx_primitives::ClaimId) -> Option<pallet_weighted_voting::Claim<AccountId, BlockNumber>> {
			pallet_weighted_voting::Claims::<Runtime>::get(id)
		}

		fn tally(id: loopx_primitives::ClaimId) -> Option<pallet_weighted_voting::runtime_api::TallyInfo> {
			WeightedVoting::tally_of(id)
		}

		fn vote_commitment(
			claim: loopx_primitives::ClaimId,
			voter: AccountId,
			verdict: loopx_primitives::Verdict,
			salt: [u8; 32],
		) -> sp_core::H256 {
			pallet_weighted_voting::vote_commitment(claim, &voter, &verdict, &salt)
		}

		fn score_seal(claimant: AccountId, score: u32, salt: [u8; 32]) -> sp_core::H256 {
			pallet_weighted_voting::score_seal(&claimant, score, &salt)
		}

		fn scores_to_reveal(claimant: AccountId) -> Vec<loopx_primitives::ClaimId> {
			WeightedVoting::scores_to_reveal(&claimant)
		}
	}

	impl pallet_data_market::runtime_api::DataMarketApi<Block, AccountId, Balance, BlockNumber, pallet_data_market::TagOf<Runtime>> for Runtime {
		fn best_orders(
			tag: Vec<u8>,
			side: pallet_data_market::Side,
			n: u32,
		) -> Vec<pallet_data_market::runtime_api::OrderView<AccountId, Balance, BlockNumber>> {
			DataMarket::best_orders(tag, side, n)
		}

		fn deals_of(
			who: AccountId,
		) -> Vec<pallet_data_market::runtime_api::AccountDeal<AccountId, Balance, BlockNumber, pallet_data_market::TagOf<Runtime>>> {
			DataMarket::deals_of(who)
		}

		fn encryption_key(who: AccountId) -> Option<pallet_data_market::EncryptionKey> {
			pallet_data_market::EncryptionKeys::<Runtime>::get(who)
		}

		fn disputed_deal(
			claim: loopx_primitives::ClaimId,
		) -> Option<(pallet_data_market::DealId, pallet_data_market::Deal<AccountId, Balance, BlockNumber, pallet_data_market::TagOf<Runtime>>)> {
			DataMarket::disputed_deal(claim)
		}
	}

	impl pallet_builder_market::runtime_api::BuilderMarketApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn active_tasks() -> Vec<pallet_builder_market::runtime_api::TaskView<AccountId, Balance, BlockNumber>> {
			BuilderMarket::active_tasks()
		}

		fn task(id: pallet_builder_market::TaskId) -> Option<pallet_builder_market::Task<AccountId, Balance, BlockNumber>> {
			pallet_builder_market::Tasks::<Runtime>::get(id)
		}

		fn versions(id: pallet_builder_market::TaskId) -> Vec<(u32, sp_core::H256, u32, Vec<AccountId>)> {
			BuilderMarket::versions_of(id)
		}

		fn open_rounds(id: pallet_builder_market::TaskId) -> Vec<pallet_builder_market::runtime_api::OpenRound<AccountId>> {
			BuilderMarket::open_rounds(id)
		}

		fn update_claim(claim: loopx_primitives::ClaimId) -> Option<pallet_builder_market::UpdateClaim<AccountId>> {
			pallet_builder_market::UpdateClaims::<Runtime>::get(claim)
		}
	}

	impl pallet_compute_market::runtime_api::ComputeMarketApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn assigned_queries(validator: AccountId) -> Vec<pallet_compute_market::runtime_api::AssignedQuery<BlockNumber>> {
			ComputeMarket::assigned_queries(&validator)
		}

		fn queries_of(client: AccountId) -> Vec<pallet_compute_market::runtime_api::QueryView<AccountId, Balance, BlockNumber>> {
			ComputeMarket::queries_of(&client)
		}

		fn answer_commitment(query: pallet_compute_market::QueryId, who: AccountId, result: Vec<u8>, salt: [u8; 32]) -> sp_core::H256 {
			ComputeMarket::answer_commitment(query, &who, &result, &salt)
		}

		fn pass(who: AccountId) -> Option<pallet_compute_market::runtime_api::PassView<Balance, BlockNumber>> {
			ComputeMarket::pass_view(&who)
		}

		fn disputed_answer(claim: loopx_primitives::ClaimId) -> Option<(pallet_compute_market::QueryId, AccountId, pallet_compute_market::KindInput, Vec<u8>)> {
			ComputeMarket::disputed_answer(claim)
		}

		fn capabilities(who: AccountId) -> Option<pallet_compute_market::Capability<Vec<Vec<u8>>, Vec<(u32, u32)>, Balance>> {
			ComputeMarket::capabilities_of(&who)
		}
	}

	#[api_version(2)]
	impl loopx_worker_api::WorkerApi<Block, AccountId, Nonce, Balance> for Runtime {
		fn worker_account() -> Option<AccountId> {
			crate::worker::worker_account()
		}

		fn submit(
			action: loopx_worker_api::WorkerAction<Balance>,
			nonce: Nonce,
			acting_for: Option<AccountId>,
		) -> Result<(), loopx_worker_api::SubmitError> {
			crate::worker::submit(action, nonce, acting_for)
		}
	}

	impl pallet_rewards::runtime_api::RewardsApi<Block, AccountId, Balance> for Runtime {
		fn pending_rewards(who: AccountId) -> Vec<(pallet_rewards::EraIndex, Balance)> {
			Rewards::pending_rewards(&who)
		}

		fn current_points(who: AccountId) -> pallet_rewards::Points {
			let era = pallet_rewards::CurrentEra::<Runtime>::get();
			pallet_rewards::AccountPoints::<Runtime>::get(era, &who).unwrap_or_default()
		}

		fn current_era() -> pallet_rewards::EraIndex {
			pallet_rewards::CurrentEra::<Runtime>::get()
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis_config_presets::preset_names()
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use frame_system_benchmarking::Pallet as SystemBench;
			use crate::benchmarks::*;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);

			let storage_info = crate::AllPalletsWithSystem::storage_info();
			(list, storage_info)
		}

		#[allow(non_local_definitions)]
		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::BenchmarkBatch;
			use frame_support::traits::WhitelistedStorageKeys;
			use frame_system_benchmarking::Pallet as SystemBench;
			use crate::benchmarks::*;

			impl frame_system_benchmarking::Config for Runtime {}

			let whitelist = crate::AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
			// Panics on a failed migration check: that is what the try-runtime tool reports.
			let weight = Executive::try_runtime_upgrade(checks).unwrap();
			(weight, crate::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect,
		) -> Weight {
			Executive::try_execute_block(block, state_root_check, signature_check, select).expect("execute-block failed")
		}
	}
}
