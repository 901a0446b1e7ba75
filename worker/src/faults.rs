//! **Test facility**: fault injection, to show that the chain catches a cheating validator.
//! Off unless the node is started with `--worker-fault …`; never enable it on a real network
//! (the validator will be slashed).

/// Which cheats this node's workers commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
	/// Reveal a forged answer to every compute-market query instead of the real one.
	pub forge_answers: bool,
	/// Claim a metric the model does not reach in every learning round
	/// ([`forge_claim`]).
	pub forge_claims: bool,
	/// Send peers model-protocol requests that do not decode, every block.
	pub garbage_requests: bool,
	/// As a data node, deliver garbage ([`garble`]) sealed under the committed deal key instead
	/// of the rows offered: the buyer disputes and the voters decide for it.
	pub sell_garbage: bool,
	/// Train as a very slow machine would: each round's local update waits [`SLOW_TRAINING`]
	/// before it starts (not a cheat: it shows that votes and answers do not wait for training).
	pub slow_training: bool,
}

/// How much longer a round's local update takes with [`Faults::slow_training`].
pub const SLOW_TRAINING: std::time::Duration = std::time::Duration::from_secs(60);

/// What a garbage-selling data node delivers instead of `plain`: the same number of bytes,
/// every one changed, so it opens with the deal key but matches nothing the offer committed to.
pub fn garble(plain: &[u8]) -> Vec<u8> {
	plain.iter().map(|b| b ^ 0x5a).collect()
}

/// A forged answer: the real one with a made-up row, so it still looks like an answer.
pub fn forge(answer: &[u8]) -> Vec<u8> {
	let mut forged = answer.to_vec();
	forged.extend_from_slice(b"forged\t42\n");
	forged.truncate(crate::answers::MAX_RESULT_BYTES);
	if forged == answer {
		// A full-size answer: change its last byte instead.
		if let Some(last) = forged.last_mut() {
			*last ^= 1;
		}
	}
	forged
}

/// How far a forging validator's claimed metric is from the one it really reached (ppm).
pub const FORGED_METRIC_BONUS: u32 = 100_000;

/// What a forging validator claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgery {
	/// Its trained model, with this metric.
	Metric(u32),
	/// The untrained initial model, with this (best possible) metric.
	UntrainedModel(u32),
}

/// The forgery of a validator whose model reached `real` (ppm): the metric overstated by
/// [`FORGED_METRIC_BONUS`]; where the scale has no room for that (an AUC near 1, a loss near 0),
/// the best possible metric claimed for the untrained model. Either way a claim its model is far
/// from meeting, that still beats the current version (as the runtime requires of a claim).
pub fn forge_claim(real: u32, higher_is_better: bool) -> Forgery {
	const BEST_AUC: u32 = 1_000_000;
	if higher_is_better {
		match real.checked_add(FORGED_METRIC_BONUS) {
			Some(up) if up <= BEST_AUC => Forgery::Metric(up),
			_ => Forgery::UntrainedModel(BEST_AUC),
		}
	} else {
		match real.checked_sub(FORGED_METRIC_BONUS) {
			Some(down) => Forgery::Metric(down),
			None => Forgery::UntrainedModel(0),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_forgery_claims_what_the_model_does_not_reach() {
		assert_eq!(forge_claim(700_000, true), Forgery::Metric(800_000), "overstated where there is room");
		assert_eq!(forge_claim(900_000, true), Forgery::Metric(1_000_000));
		assert_eq!(forge_claim(986_631, true), Forgery::UntrainedModel(1_000_000), "near 1: the untrained model claimed as perfect");
		assert_eq!(forge_claim(1_000_000, true), Forgery::UntrainedModel(1_000_000));
		assert_eq!(forge_claim(300_000, false), Forgery::Metric(200_000), "a loss understated");
		assert_eq!(forge_claim(50_000, false), Forgery::UntrainedModel(0), "a loss near 0: the untrained model claimed as perfect");
	}

	#[test]
	fn garbage_keeps_the_size_and_changes_every_byte() {
		let plain = b"label,f0\n1,0.5\n";
		let garbage = garble(plain);
		assert_eq!(garbage.len(), plain.len());
		assert!(garbage.iter().zip(plain).all(|(g, p)| g != p));
	}

	#[test]
	fn a_forged_answer_always_differs() {
		for answer in [&b""[..], b"n\n5000\n", &[b'x'; crate::answers::MAX_RESULT_BYTES]] {
			assert_ne!(forge(answer), answer);
			assert!(forge(answer).len() <= crate::answers::MAX_RESULT_BYTES);
		}
	}
}
