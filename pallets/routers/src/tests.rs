//! The registry's calls: bond held and released, fee capped, one entry an account, events,
//! and what the markets read through [`RouterRegistry`].

use crate::{mock::*, Error, Event, HoldReason, RouterInfo, Routers as RouterStorage};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::InspectHold, tokens::fungible::Inspect},
};
use loopx_primitives::RouterRegistry;
use sp_runtime::{Perbill, TokenError};

fn held(who: AccountId) -> Balance {
	<Balances as InspectHold<AccountId>>::balance_on_hold(&RuntimeHoldReason::Routers(HoldReason::RouterBond), &who)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

#[test]
fn a_router_registers_with_a_bond_and_leaves_with_it_released() {
	new_test_ext().execute_with(|| {
		let issuance = Balances::total_issuance();
		let fee = Perbill::from_percent(3);
		assert_ok!(Routers::register_router(RuntimeOrigin::signed(ROUTER), fee));
		assert_eq!(held(ROUTER), BOND);
		assert_eq!(RouterStorage::<Test>::get(ROUTER), Some(RouterInfo { fee, bond: BOND }));
		assert_eq!(last_event(), RuntimeEvent::Routers(Event::RouterRegistered { router: ROUTER, fee, bond: BOND }));
		assert_eq!(<Routers as RouterRegistry<AccountId>>::router_fee(&ROUTER), Some(fee));
		assert_eq!(<Routers as RouterRegistry<AccountId>>::router_fee(&OTHER), None);
		assert_ok!(Routers::do_try_state());
		// A recorded bond that is not what is held is caught.
		RouterStorage::<Test>::mutate(ROUTER, |r| r.as_mut().unwrap().bond += 1);
		assert!(Routers::do_try_state().is_err());
		RouterStorage::<Test>::mutate(ROUTER, |r| r.as_mut().unwrap().bond -= 1);

		assert_ok!(Routers::unregister_router(RuntimeOrigin::signed(ROUTER)));
		assert_eq!(held(ROUTER), 0);
		assert_eq!(Balances::balance(&ROUTER), INITIAL, "the whole bond came back");
		assert_eq!(RouterStorage::<Test>::get(ROUTER), None);
		assert_eq!(last_event(), RuntimeEvent::Routers(Event::RouterUnregistered { router: ROUTER, released: BOND }));
		assert_eq!(<Routers as RouterRegistry<AccountId>>::router_fee(&ROUTER), None);
		assert_eq!(Balances::total_issuance(), issuance, "nothing minted or burned");
	});
}

#[test]
fn bad_registrations_are_refused_and_change_nothing() {
	new_test_ext().execute_with(|| {
		assert_eq!(<Routers as RouterRegistry<AccountId>>::max_router_fee(), Perbill::from_percent(5));
		assert_noop!(Routers::register_router(RuntimeOrigin::signed(ROUTER), Perbill::from_percent(6)), Error::<Test>::RouterFeeTooHigh);
		assert_noop!(Routers::register_router(RuntimeOrigin::signed(POOR), Perbill::zero()), TokenError::FundsUnavailable);
		assert_noop!(Routers::unregister_router(RuntimeOrigin::signed(OTHER)), Error::<Test>::NotRouter);
		assert_noop!(Routers::register_router(RuntimeOrigin::none(), Perbill::zero()), sp_runtime::DispatchError::BadOrigin);
		assert_ok!(Routers::register_router(RuntimeOrigin::signed(ROUTER), Perbill::from_percent(5)));
		// One entry an account: a second registration (say, to change the fee) is refused.
		assert_noop!(Routers::register_router(RuntimeOrigin::signed(ROUTER), Perbill::from_percent(1)), Error::<Test>::AlreadyRouter);
		assert_eq!(held(ROUTER), BOND, "one bond, not two");
	});
}

#[test]
fn a_router_cannot_unregister_someone_else() {
	new_test_ext().execute_with(|| {
		assert_ok!(Routers::register_router(RuntimeOrigin::signed(ROUTER), Perbill::zero()));
		assert_noop!(Routers::unregister_router(RuntimeOrigin::signed(OTHER)), Error::<Test>::NotRouter);
		assert_eq!(held(ROUTER), BOND);
	});
}
