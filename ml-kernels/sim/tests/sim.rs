//! The simulator end to end on a small network: byte accounting, determinism, learning,
//! attacks, and the CSV/plot outputs.

use loopx_ml_sim::{
	config::{parse_modes, AttackKind, MergeRule, SimConfig, WirePrecision},
	report::{plot, read_csv, write_csv, XAxis},
	scenario::Scenario,
	sim::{self, rounds_to},
};

fn small() -> SimConfig {
	SimConfig { nodes: 12, rounds: 12, transactions: 12_000, eval_nodes: 4, ..SimConfig::default() }
}

#[test]
fn defaults_are_the_documented_ones() {
	let cfg = SimConfig::default();
	assert_eq!((cfg.nodes, cfg.fanin, cfg.rank, cfg.hidden, cfg.precision), (64, 1, 4, [8, 8], WirePrecision::Int8));
	assert_eq!(parse_modes("16x4"), Ok([16, 4]));
	assert!(parse_modes("16").is_err() && parse_modes("0x4").is_err() && parse_modes("ax4").is_err());
}

#[test]
fn bad_settings_are_refused() {
	let scenario = Scenario::new(&small());
	for cfg in [
		SimConfig { nodes: 1, ..small() },
		SimConfig { churn: 1.0, ..small() },
		SimConfig { keep: 0.0, ..small() },
		SimConfig { label_flip: 0.7, ..small() },
		SimConfig { fanin: 0, ..small() },
		SimConfig { clip_radius: 0.0, ..small() },
	] {
		assert!(matches!(sim::run(&cfg, &scenario, |_| {}), Err(sim::SimError::Config(_))), "{cfg:?}");
	}
}

#[test]
fn gossip_learns_and_counts_every_byte_it_sends() {
	let cfg = small();
	let scenario = Scenario::new(&cfg);
	assert_eq!(scenario.shards.iter().map(|s| s.len()).sum::<usize>(), scenario.train.len());
	let mut seen = 0;
	let stats = sim::run(&cfg, &scenario, |_| seen += 1).unwrap();
	assert_eq!(seen, cfg.rounds + 1);
	let last = stats.last().unwrap();
	// No churn or loss: every node pulls once per round, every message has the same length.
	assert_eq!(last.messages, (cfg.nodes * cfg.rounds) as u64);
	assert_eq!(last.bytes % last.messages, 0);
	assert!(last.mean_auc > stats[0].mean_auc + 0.2 && last.mean_auc > 0.85, "{:?}", (stats[0].mean_auc, last.mean_auc));
	// Same seed, same run.
	assert_eq!(sim::run(&cfg, &scenario, |_| {}).unwrap(), stats);
	assert_eq!(rounds_to(&stats, 2.0), None);
	assert_eq!(rounds_to(&stats, 0.0), Some(0));
}

#[test]
fn compression_shrinks_messages() {
	let base = SimConfig { rounds: 1, ..small() };
	let scenario = Scenario::new(&base);
	let bytes = |rank, precision| {
		let cfg = SimConfig { rank, precision, ..base.clone() };
		let s = sim::run(&cfg, &scenario, |_| {}).unwrap();
		s.last().unwrap().bytes / s.last().unwrap().messages
	};
	let dense = bytes(0, WirePrecision::F32);
	let tt8 = bytes(4, WirePrecision::Int8);
	let tt4 = bytes(4, WirePrecision::Int4);
	assert!(dense > 5 * tt8 && tt8 > tt4, "{dense} {tt8} {tt4}");
}

#[test]
fn churn_and_loss_send_fewer_messages_and_robust_rules_run() {
	let cfg = SimConfig { churn: 0.3, loss: 0.2, fanin: 3, merge: MergeRule::Median, rounds: 4, ..small() };
	let scenario = Scenario::new(&cfg);
	let stats = sim::run(&cfg, &scenario, |_| {}).unwrap();
	let last = stats.last().unwrap();
	assert!(last.messages < (cfg.nodes * cfg.rounds * cfg.fanin) as u64);
	assert!(stats[1..].iter().any(|s| s.online < cfg.nodes));
}

#[test]
fn sign_flipping_peers_break_plain_averaging_but_not_the_robust_rules() {
	let base = SimConfig { nodes: 16, fanin: 5, byzantine: 0.25, attack: AttackKind::SignFlip, rounds: 10, ..small() };
	let scenario = Scenario::new(&base);
	let final_auc = |merge| sim::run(&SimConfig { merge, ..base.clone() }, &scenario, |_| {}).unwrap().last().unwrap().mean_auc;
	let (mean, median, centered) = (final_auc(MergeRule::Mean), final_auc(MergeRule::Median), final_auc(MergeRule::CenteredClip));
	assert!(median > mean + 0.2, "median {median}, mean {mean}");
	assert!(centered > mean + 0.2, "centered clipping {centered}, mean {mean}");
}

#[test]
fn reports_round_trip_and_plot() {
	let cfg = SimConfig { rounds: 2, ..small() };
	let stats = sim::run(&cfg, &Scenario::new(&cfg), |_| {}).unwrap();
	let dir = std::env::temp_dir().join(format!("loopx-sim-test-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let csv = dir.join("rounds.csv");
	write_csv(&csv, &stats).unwrap();
	let back = read_csv(&csv).unwrap();
	assert_eq!(back.len(), stats.len());
	assert_eq!(back.last().unwrap().bytes, stats.last().unwrap().bytes);
	assert!((back.last().unwrap().mean_auc - stats.last().unwrap().mean_auc).abs() < 1e-6);
	std::fs::write(dir.join("bad.csv"), "round,mean_auc\n1,x\n").unwrap();
	assert!(read_csv(&dir.join("bad.csv")).is_err());
	// PNGs need a TTF font (fonts-dejavu-core, installed by the README's commands).
	let png = dir.join("auc.png");
	plot(&png, "test", &[("run".into(), back)], XAxis::Megabytes, Some(("ref".into(), 0.9))).unwrap();
	assert!(std::fs::metadata(&png).unwrap().len() > 1_000);
	std::fs::remove_dir_all(&dir).ok();
}
