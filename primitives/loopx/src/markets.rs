//! How the Builder Market sells trained model versions through the Data Market's one
//! order/escrow/delivery engine (a trained model is "model parameters traded in the Data
//! Market", as the LoopX whitepaper puts it).

use sp_core::H256;
use sp_runtime::DispatchError;

/// The data-market books of trained model versions start with this (`model/<task>/<version>`).
/// Only [`ModelMarket::list_model`] offers there, so that nobody can pass a fake model off as
/// a builder-market version.
pub const MODEL_TAG_PREFIX: &[u8] = b"model/";

/// What a listed model version commits to; becomes the offer's commitment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ModelListing<Balance, BlockNumber> {
	/// Hash of the model's parameters (the accepted version's hash).
	pub model_hash: H256,
	/// Size of the encoded parameters, in bytes.
	pub size: u64,
	/// Hash of the architecture the parameters belong to.
	pub architecture: H256,
	/// Price of one copy.
	pub price: Balance,
	/// Copies for sale.
	pub quantity: u32,
	/// Block the offer expires at.
	pub expires: BlockNumber,
}

/// Posts sell offers of trained models in a market book.
pub trait ModelMarket<AccountId, Balance, BlockNumber> {
	/// Offers copies of a model in book `tag` as `seller`; returns the order id.
	fn list_model(seller: AccountId, tag: &[u8], listing: ModelListing<Balance, BlockNumber>) -> Result<u64, DispatchError>;
}

/// The Builder Market's registry of accepted model versions (inference queries name one).
pub trait ModelRegistry {
	/// Whether version `version` of the model of task `model` was accepted.
	fn has_version(model: crate::TaskId, version: u32) -> bool;
}
