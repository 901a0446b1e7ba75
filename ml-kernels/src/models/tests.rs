use super::{
	mlp::{Mlp, MlpSpec},
	state::{aggregate, merge_pair, ModelState, StateError},
	train::{bce_with_logits, classifier_step, evaluate, evaluate_recommender, evaluate_trained, predict, recommender_step},
	two_tower::{TwoTower, TwoTowerSpec},
};
use crate::{
	data::{movielens::Ratings, split_in_time_standardized, wallet, Dataset},
	quant::{ErrorFeedback, Precision},
	robust::Aggregator,
	wire,
};
use burn::{
	backend::{Autodiff, Flex},
	optim::{AdamConfig, SgdConfig},
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Cpu = Flex;
type Train = Autodiff<Flex>;

fn device() -> burn::backend::flex::FlexDevice {
	Default::default()
}

fn wallet_split(seed: u64) -> (Dataset, Dataset) {
	let cfg = wallet::WalletConfig { wallets: 600, transactions: 12_000, fraud_share: 0.08, seed };
	split_in_time_standardized(&wallet::generate(&cfg), 0.75)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
	assert_eq!(a.len(), b.len());
	a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn spec_parameter_counts_match_the_built_models() {
	let spec = MlpSpec::fraud([8, 8], 3);
	assert!(spec.is_valid() && spec.dense().is_valid());
	let dev = device();
	assert_eq!(Mlp::<Cpu>::new(&spec, 1, &dev).state().num_params(), spec.num_params());
	assert_eq!(Mlp::<Cpu>::new(&spec.dense(), 1, &dev).state().num_params(), spec.dense().num_params());
	assert_eq!(spec.dense().num_params(), 16 * 64 + 64 + 64 * 64 + 64 + 64 + 1);
	let broken = MlpSpec { layers: vec![spec.layers[0].clone(), spec.layers[0].clone(), spec.layers[2].clone()] };
	assert!(!broken.is_valid());
}

#[test]
fn tt_and_dense_fraud_models_learn_the_planted_fraud() {
	let (train, test) = wallet_split(3);
	let dev = device();
	for spec in [MlpSpec::fraud([8, 8], 4), MlpSpec::fraud([8, 8], 4).dense()] {
		let mut model = Mlp::<Train>::new(&spec, 7, &dev);
		let before = evaluate_trained(&model, &test).unwrap().auc;
		let mut optim = AdamConfig::new().init();
		let mut rng = ChaCha8Rng::seed_from_u64(1);
		for _ in 0..600 {
			let rows: Vec<usize> = (0..64).map(|_| rng.random_range(0..train.len())).collect();
			model = classifier_step(model, &mut optim, &train, &rows, 3e-3, 1.0).0;
		}
		let after = evaluate_trained(&model, &test).unwrap();
		assert!(after.auc > 0.9 && after.auc > before + 0.1, "{spec:?}: AUC {before} -> {}", after.auc);
	}
}

#[test]
fn trimmed_loss_is_the_mean_of_the_lowest_losses() {
	let (train, _) = wallet_split(4);
	let dev = device();
	let model = Mlp::<Train>::new(&MlpSpec::fraud([4, 4], 2), 2, &dev);
	let rows: Vec<usize> = (0..32).collect();
	let logits = model.forward(super::train::features(&train, &rows, &dev));
	let per: Vec<f32> = bce_with_logits(logits, super::train::labels(&train, &rows, &dev)).into_data().to_vec().unwrap();
	let mut sorted = per.clone();
	sorted.sort_by(f32::total_cmp);
	let want = sorted[..16].iter().map(|&v| f64::from(v)).sum::<f64>() / 16.0;
	let mut optim = SgdConfig::new().init();
	let (_, got) = classifier_step(model, &mut optim, &train, &rows, 0.0, 0.5);
	assert!((got - want).abs() < 1e-5, "{got} vs {want}");
}

#[test]
fn evaluation_is_bit_for_bit_reproducible() {
	let (_, test) = wallet_split(5);
	let dev = device();
	let model = Mlp::<Cpu>::new(&MlpSpec::fraud([8, 8], 3), 9, &dev);
	let first = evaluate(&model, &test, &dev).unwrap();
	let rebuilt = Mlp::<Cpu>::from_state(&model.state(), &dev);
	for m in [&model, &rebuilt] {
		let again = evaluate(m, &test, &dev).unwrap();
		assert_eq!(first.auc.to_bits(), again.auc.to_bits());
		assert_eq!(first.log_loss.to_bits(), again.log_loss.to_bits());
		assert_eq!(first.accuracy.to_bits(), again.accuracy.to_bits());
	}
}

#[test]
fn state_round_trips_through_the_wire_format() {
	let (_, test) = wallet_split(6);
	let dev = device();
	let model = Mlp::<Cpu>::new(&MlpSpec::fraud([8, 8], 3), 4, &dev);
	let state = model.state();
	assert_eq!(ModelState::from_parts(&state.shapes(), &state.flatten()).unwrap(), state);
	let mut rng = ChaCha8Rng::seed_from_u64(0);
	for (precision, tolerance) in [(Precision::F32, 0.0), (Precision::Int8, 0.02), (Precision::Int4, 0.3)] {
		let mut feedback = ErrorFeedback::default();
		let msg = state.to_message([1; 32], 2, 5, precision, 64, &mut feedback, &mut rng);
		let bytes = wire::encode(&msg).unwrap();
		let back = state.from_message(&wire::decode(&bytes).unwrap()).unwrap();
		let err = max_abs_diff(&back.flatten(), &state.flatten());
		assert!(err <= tolerance, "{precision:?}: {err}");
		if precision == Precision::F32 {
			let p = predict(&Mlp::<Cpu>::from_state(&back, &dev), &test, &dev);
			assert_eq!(p, predict(&model, &test, &dev));
		}
	}
}

#[test]
fn messages_of_another_architecture_are_refused() {
	let dev = device();
	let ours = Mlp::<Cpu>::new(&MlpSpec::fraud([8, 8], 3), 4, &dev).state();
	let theirs = Mlp::<Cpu>::new(&MlpSpec::fraud([8, 8], 2), 4, &dev).state();
	let other_modes = Mlp::<Cpu>::new(&MlpSpec::fraud([4, 4], 3), 4, &dev).state();
	let mut rng = ChaCha8Rng::seed_from_u64(0);
	let msg = other_modes.to_message([1; 32], 1, 1, Precision::F32, 64, &mut ErrorFeedback::default(), &mut rng);
	assert_eq!(ours.from_message(&msg), Err(StateError::DifferentArchitectures));
	// Same modes, another rank: accepted.
	let msg = theirs.to_message([1; 32], 1, 1, Precision::F32, 64, &mut ErrorFeedback::default(), &mut rng);
	assert_eq!(ours.from_message(&msg), Ok(theirs.clone()));
	let mut partial = ours.to_message([1; 32], 1, 1, Precision::F32, 64, &mut ErrorFeedback::default(), &mut rng);
	partial.partition.count = 2;
	assert_eq!(ours.from_message(&partial), Err(StateError::Partial { index: 0, count: 2 }));
	assert_eq!(merge_pair(&ours, 1, &other_modes, 1).map(|_| ()), Err(StateError::DifferentArchitectures));
	// Same modes, different ranks: a sound merge (the sum's ranks add up, then get rounded).
	assert!(merge_pair(&ours, 1, &theirs, 1).is_ok());
	assert!(ModelState::from_parts(&ours.shapes(), &ours.flatten()[1..]).is_err());
}

#[test]
fn merging_a_model_with_itself_keeps_it_and_ages_take_the_max() {
	let dev = device();
	let a = Mlp::<Cpu>::new(&MlpSpec::fraud([8, 8], 3), 4, &dev).state();
	let (merged, age) = merge_pair(&a, 2, &a, 7).unwrap();
	assert_eq!(age, 7);
	assert!(max_abs_diff(&merged.dense_flatten(), &a.dense_flatten()) < 1e-4);
}

#[test]
fn pair_merge_is_the_age_weighted_average_of_the_dense_models() {
	let dev = device();
	// One-core (dense) layers: the average is representable exactly, nothing is truncated.
	let spec = MlpSpec::fraud([4, 4], 1).dense();
	let a = Mlp::<Cpu>::new(&spec, 1, &dev).state();
	let b = Mlp::<Cpu>::new(&spec, 2, &dev).state();
	let (merged, _) = merge_pair(&a, 1, &b, 3).unwrap();
	let want: Vec<f32> = a.dense_flatten().iter().zip(b.dense_flatten()).map(|(x, y)| 0.25 * x + 0.75 * y).collect();
	assert!(max_abs_diff(&merged.dense_flatten(), &want) < 1e-5);
}

#[test]
fn median_aggregation_ignores_a_wild_model() {
	let dev = device();
	let spec = MlpSpec::fraud([8, 8], 3);
	let a = Mlp::<Cpu>::new(&spec, 1, &dev).state();
	let mut wild = a.clone();
	for layer in &mut wild.layers {
		layer.bias.iter_mut().for_each(|b| *b = 1e6);
		layer.weight = crate::layers::random_tt(&layer.weight.row_modes(), &layer.weight.col_modes(), 3, 1e4, 3);
	}
	let agg = aggregate(&[&a, &a, &wild], &Aggregator::Median).unwrap();
	assert!(max_abs_diff(&agg.dense_flatten(), &a.dense_flatten()) < 1e-3);
	let mean = aggregate(&[&a, &a, &wild], &Aggregator::Mean).unwrap();
	assert!(max_abs_diff(&mean.dense_flatten(), &a.dense_flatten()) > 1.0);
	assert!(aggregate(&[], &Aggregator::Median).is_err());
}

fn toy_ratings(seed: u64) -> Ratings {
	// 60 users × 50 items with a planted rank-2 taste structure.
	let mut rng = ChaCha8Rng::seed_from_u64(seed);
	let uf: Vec<[f32; 2]> = (0..60).map(|_| [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)]).collect();
	let vf: Vec<[f32; 2]> = (0..50).map(|_| [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)]).collect();
	let mut r = Ratings { users: 60, items: 50, ..Default::default() };
	for _ in 0..2_500 {
		let (u, i) = (rng.random_range(0..60usize), rng.random_range(0..50usize));
		let score = 3.0 + 1.5 * (uf[u][0] * vf[i][0] + uf[u][1] * vf[i][1]) * 2.0;
		r.user.push(u as u32);
		r.item.push(i as u32);
		r.rating.push(score.clamp(1.0, 5.0));
	}
	r
}

#[test]
fn two_tower_scores_are_head_weighted_dot_products_plus_biases() {
	let dev = device();
	let spec = TwoTowerSpec { users: 60, items: 50, user_modes: vec![8, 8], item_modes: vec![8, 8], dim_modes: vec![2, 4], rank: 3 };
	assert!(spec.is_valid() && spec.dense().is_valid());
	let model = TwoTower::<Cpu>::new(&spec, 3.5, 1, &dev);
	let (u, v) = (model.users.to_tt().to_dense(), model.items.to_tt().to_dense());
	let got: Vec<f32> = model.forward(&[3, 59], &[7, 0], &dev).into_data().to_vec().unwrap();
	for (k, (user, item)) in [(3usize, 7usize), (59, 0)].into_iter().enumerate() {
		let dot: f32 = (0..8).map(|j| u[[user, j]] * v[[item, j]]).sum();
		assert!((got[k] - (3.5 + dot)).abs() < 1e-5);
	}
}

#[test]
fn tt_recommender_learns_planted_tastes() {
	let dev = device();
	let ratings = toy_ratings(2);
	let (train, _, test) = ratings.split(0.8, 0.0, 3);
	let spec = TwoTowerSpec { users: 60, items: 50, user_modes: vec![8, 8], item_modes: vec![8, 8], dim_modes: vec![2, 4], rank: 4 };
	let mut model = TwoTower::<Train>::new(&spec, train.mean() as f32, 5, &dev);
	let mut optim = AdamConfig::new().init();
	let mut rng = ChaCha8Rng::seed_from_u64(9);
	for _ in 0..800 {
		let rows: Vec<usize> = (0..64).map(|_| rng.random_range(0..train.len())).collect();
		model = recommender_step(model, &mut optim, &train, &rows, 1e-2, 1e-3).0;
	}
	use burn::module::AutodiffModule;
	let rmse = evaluate_recommender(&model.valid(), &test, &dev).unwrap();
	let baseline = evaluate_recommender(&TwoTower::<Cpu>::new(&spec, train.mean() as f32, 5, &dev), &test, &dev).unwrap();
	assert!(rmse < 0.7 * baseline, "RMSE {rmse} vs mean predictor {baseline}");
}
