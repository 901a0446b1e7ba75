//! Proxies (`pallet-proxy`), with a proxy type for a validator's worker key: the node signs its
//! workers' calls with a hot key that acts for the stash through `proxy.proxy`, so the stash key
//! can stay offline and a stolen node key cannot unbond, transfer or change proxies.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{parameter_types, traits::InstanceFilter};
use scale_info::TypeInfo;

use crate::{Balance, Balances, Runtime, RuntimeCall, RuntimeEvent, System, MILLI_UNITS};

/// What a proxy may do for the account it acts for.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Encode, Decode, DecodeWithMemTracking, Debug, MaxEncodedLen, TypeInfo, Default)]
pub enum ProxyType {
	/// Anything the account could do.
	#[default]
	Any,
	/// A validator's worker: the calls its node's workers make (advertising, answering
	/// queries, voting, learning claims, and the data market's orders and deliveries), nothing
	/// else. Never a transfer, a bond change, a session-key change or a proxy change: what the
	/// stash has bonded stays out of reach of a stolen worker key. Market orders can hold the
	/// stash's *free* balance, so an operator keeps little of it free.
	Worker,
}

/// Whether `call` is one that a validator's workers make ([`ProxyType::Worker`]).
pub fn is_worker_call(call: &RuntimeCall) -> bool {
	use pallet_builder_market::Call as Builder;
	use pallet_compute_market::Call as Compute;
	use pallet_data_market::Call as Data;
	use pallet_weighted_voting::Call as Voting;
	matches!(
		call,
		RuntimeCall::ComputeMarket(Compute::advertise { .. } | Compute::commit_answer { .. } | Compute::reveal_answer { .. })
			| RuntimeCall::WeightedVoting(
				Voting::commit_vote { .. }
					| Voting::reveal_vote { .. }
					| Voting::commit_votes { .. }
					| Voting::reveal_votes { .. }
					| Voting::reveal_claimed_score { .. }
			) | RuntimeCall::BuilderMarket(Builder::submit_update { .. })
			| RuntimeCall::DataMarket(
				Data::register_key { .. }
					| Data::post_offer { .. }
					| Data::post_bid { .. }
					| Data::deliver { .. }
					| Data::confirm { .. }
					| Data::dispute { .. }
					| Data::reveal_deal_key { .. }
			)
	)
}

impl InstanceFilter<RuntimeCall> for ProxyType {
	fn filter(&self, call: &RuntimeCall) -> bool {
		match self {
			ProxyType::Any => true,
			ProxyType::Worker => is_worker_call(call),
		}
	}

	fn is_superset(&self, other: &Self) -> bool {
		match (self, other) {
			(ProxyType::Any, _) => true,
			(ProxyType::Worker, ProxyType::Worker) => true,
			(ProxyType::Worker, ProxyType::Any) => false,
		}
	}
}

parameter_types! {
	// A proxy entry: 8 bytes of balance and 32 of account (deposits as kitchensink's, at
	// 1 mLPX per item plus 10 µLPX per byte).
	pub const ProxyDepositBase: Balance = MILLI_UNITS + 8 * 10 * crate::MICRO_UNITS;
	pub const ProxyDepositFactor: Balance = 33 * 10 * crate::MICRO_UNITS;
	pub const AnnouncementDepositBase: Balance = MILLI_UNITS + 8 * 10 * crate::MICRO_UNITS;
	pub const AnnouncementDepositFactor: Balance = 68 * 10 * crate::MICRO_UNITS;
}

impl pallet_proxy::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type ProxyType = ProxyType;
	type ProxyDepositBase = ProxyDepositBase;
	type ProxyDepositFactor = ProxyDepositFactor;
	type MaxProxies = frame_support::traits::ConstU32<32>;
	type WeightInfo = pallet_proxy::weights::SubstrateWeight<Runtime>;
	type MaxPending = frame_support::traits::ConstU32<32>;
	type CallHasher = sp_runtime::traits::BlakeTwo256;
	type AnnouncementDepositBase = AnnouncementDepositBase;
	type AnnouncementDepositFactor = AnnouncementDepositFactor;
	type BlockNumberProvider = System;
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_worker_proxy_may_make_worker_calls_only() {
		let vote = RuntimeCall::WeightedVoting(pallet_weighted_voting::Call::commit_vote {
			claim: 0,
			claim_commitment: Default::default(),
			commitment: Default::default(),
		});
		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: sp_runtime::MultiAddress::Id(crate::AccountId::from([0u8; 32])),
			value: 1,
		});
		let unbond = RuntimeCall::StakeReputation(pallet_stake_reputation::Call::unbond { value: 1 });
		let add_proxy = RuntimeCall::Proxy(pallet_proxy::Call::add_proxy {
			delegate: sp_runtime::MultiAddress::Id(crate::AccountId::from([0u8; 32])),
			proxy_type: ProxyType::Any,
			delay: 0,
		});
		let batch = RuntimeCall::WeightedVoting(pallet_weighted_voting::Call::reveal_votes { votes: Default::default() });
		assert!(ProxyType::Worker.filter(&vote));
		assert!(ProxyType::Worker.filter(&batch));
		for call in [&transfer, &unbond, &add_proxy] {
			assert!(!ProxyType::Worker.filter(call), "{call:?}");
			assert!(ProxyType::Any.filter(call));
		}
		assert!(ProxyType::Any.is_superset(&ProxyType::Worker));
		assert!(!ProxyType::Worker.is_superset(&ProxyType::Any));
	}
}
