//! The one router registry both markets route through: a router registers once (bonded, with
//! one fee) and may then match data-market orders and assign compute-market queries.

use sp_runtime::Perbill;

/// Who is a registered router, and at what fee.
pub trait RouterRegistry<AccountId> {
	/// The fee `who` asks of what it routes, if it is a registered router.
	fn router_fee(who: &AccountId) -> Option<Perbill>;

	/// The largest fee any router may ask (a market checks its fee split against it).
	fn max_router_fee() -> Perbill;

	/// Makes `who` a router at the largest fee, bonded like any router (for the benchmarks of
	/// the markets' routed calls).
	#[cfg(feature = "runtime-benchmarks")]
	fn register_for_benchmarks(who: &AccountId) -> sp_runtime::DispatchResult;
}

/// A market's migration to the one registry: removes the market's own router map from before
/// it (`<Pallet>::Routers`: account → fee and bond) and releases each bond, held by `Currency`
/// under `Reason`, to its router, who registers again in the registry. Routers are few (each
/// holds a bond), so the whole map goes in one block. Wrap it in a `VersionedMigration`.
pub struct ReleaseOldRouterBonds<Pallet, AccountId, Currency, Reason, DbWeight>(
	core::marker::PhantomData<(Pallet, AccountId, Currency, Reason, DbWeight)>,
);

impl<Pallet, AccountId, Currency, Reason, DbWeight> frame_support::traits::UncheckedOnRuntimeUpgrade
	for ReleaseOldRouterBonds<Pallet, AccountId, Currency, Reason, DbWeight>
where
	Pallet: frame_support::traits::PalletInfoAccess,
	AccountId: codec::Decode,
	Currency: frame_support::traits::fungible::MutateHold<AccountId>,
	Reason: frame_support::traits::Get<Currency::Reason>,
	DbWeight: frame_support::traits::Get<frame_support::weights::RuntimeDbWeight>,
{
	fn on_runtime_upgrade() -> frame_support::weights::Weight {
		use frame_support::{storage::migration::storage_key_iter, traits::tokens::Precision, Blake2_128Concat};
		let old = storage_key_iter::<AccountId, (Perbill, Currency::Balance), Blake2_128Concat>(Pallet::name().as_bytes(), b"Routers").drain();
		let mut routers = 0u64;
		for (who, (_fee, bond)) in old {
			// Best effort: whatever is still held under the old reason goes back.
			let _ = Currency::release(&Reason::get(), &who, bond, Precision::BestEffort);
			routers += 1;
		}
		// Each router: its entry, its account and its holds, read and written.
		DbWeight::get().reads_writes(3 * routers + 1, 3 * routers)
	}
}
