//! THIS FILE WAS AUTO-GENERATED USING THE SUBSTRATE BENCHMARK CLI VERSION 64.0.0
//! DATE: 2026-12-07 (Y/M/D)
//! HOSTNAME: `vm`, CPU: `Intel(R) Xeon(R) Processor`
//!
//! DATABASE: `ParityDb`, RUNTIME: `LoopX Local Testnet`
//! BLOCK-NUM: `Number(0)`
//! SKIP-WRITE: `false`, SKIP-READ: `false`, WARMUPS: `1`
//! STATE-VERSION: `V1`, STATE-CACHE-SIZE: ``
//! WEIGHT-PATH: `/work/main/runtime/src/weights`
//! METRIC: `Average`, WEIGHT-MUL: `1.0`, WEIGHT-ADD: `0`

// Executed Command:
//   /root/.cache/loopx/target-bench/release/loopx-node
//   benchmark
//   storage
//   --chain
//   local
//   --base-path
//   /tmp/tmp.YQt4gAAfxa/storage
//   --state-version
//   1
//   --batch-size
//   10
//   --weight-path
//   /work/main/runtime/src/weights

/// Storage DB weights for the `LoopX Local Testnet` runtime and `ParityDb`.
pub mod constants {
	use frame_support::weights::constants;
	use frame_support::weights::RuntimeDbWeight;
	use sp_core::parameter_types;

	parameter_types! {
		/// `ParityDB` can be enabled with a feature flag, but is still experimental. These weights
		/// are available for brave runtime engineers who may want to try this out as default.
		pub const ParityDbWeight: RuntimeDbWeight = RuntimeDbWeight {
			/// Time to read one storage item.
			/// Calculated by multiplying the *Average* of all values with `1.0` and adding `0`.
			///
			/// Stats nanoseconds:
			///   Min, Max: 855, 1_588_019
			///   Average:  17_487
			///   Median:   1_888
			///   Std-Dev:  155510.76
			///
			/// Percentiles nanoseconds:
			///   99th: 9_531
			///   95th: 3_500
			///   75th: 2_417
			read: 17_487 * constants::WEIGHT_REF_TIME_PER_NANOS,

			/// Time to write one storage item.
			/// Calculated by multiplying the *Average* of all values with `1.0` and adding `0`.
			///
			/// Stats nanoseconds:
			///   Min, Max: 6_097, 1_128_230
			///   Average:  121_941
			///   Median:   9_739
			///   Std-Dev:  335453.52
			///
			/// Percentiles nanoseconds:
			///   99th: 1_128_230
			///   95th: 1_128_230
			///   75th: 11_600
			write: 121_941 * constants::WEIGHT_REF_TIME_PER_NANOS,
		};
	}

	#[cfg(test)]
	mod test_db_weights {
		use super::constants::ParityDbWeight as W;
		use frame_support::weights::constants;

		/// Checks that all weights exist and have sane values.
		// NOTE: If this test fails but you are sure that the generated values are fine,
		// you can delete it.
		#[test]
		fn bound() {
			// At least 1 µs.
			assert!(W::get().reads(1).ref_time() >= constants::WEIGHT_REF_TIME_PER_MICROS, "Read weight should be at least 1 µs.");
			assert!(W::get().writes(1).ref_time() >= constants::WEIGHT_REF_TIME_PER_MICROS, "Write weight should be at least 1 µs.");
			// At most 1 ms.
			assert!(W::get().reads(1).ref_time() <= constants::WEIGHT_REF_TIME_PER_MILLIS, "Read weight should be at most 1 ms.");
			assert!(W::get().writes(1).ref_time() <= constants::WEIGHT_REF_TIME_PER_MILLIS, "Write weight should be at most 1 ms.");
		}
	}
}
