//! **Test facility**: fault injection, to show that the chain catches a cheating validator.
//! Off unless the node is started with `--worker-fault …`; never enable it on a real network
//! (the validator will be slashed).

/// Which cheats this node's workers commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
	/// Reveal a forged answer to every compute-market query instead of the real one.
	pub forge_answers: bool,
	/// Claim a metric the model does not reach in every learning round
	/// ([`crate::learning::forge`]).
	pub forge_claims: bool,
	/// Send peers model-protocol requests that do not decode, every block.
	pub garbage_requests: bool,
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

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_forged_answer_always_differs() {
		for answer in [&b""[..], b"n\n5000\n", &[b'x'; crate::answers::MAX_RESULT_BYTES]] {
			assert_ne!(forge(answer), answer);
			assert!(forge(answer).len() <= crate::answers::MAX_RESULT_BYTES);
		}
	}
}
