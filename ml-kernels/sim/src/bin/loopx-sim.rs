//! `loopx-sim`: gossip-learning simulation of LoopX's learning protocol (see the crate docs).
//!
//! ```text
//! loopx-sim run --out sim-out [--nodes 64 --rounds 60 --rank 4 --precision int8 …]
//! loopx-sim plot --series plain=a/rounds.csv --series median=b/rounds.csv --out cmp
//! ```

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use loopx_ml_sim::{
	config::SimConfig,
	report::{self, XAxis},
	scenario::Scenario,
	sim,
};
use std::{fs, path::PathBuf, time::Instant};

#[derive(Parser)]
#[command(name = "loopx-sim", about = "Gossip-learning simulator for LoopX's compressed learning kernels")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Run one simulation: writes rounds.csv, auc-by-round.png, auc-by-bytes.png and
	/// summary.txt into --out.
	Run {
		#[command(flatten)]
		cfg: SimConfig,
		/// Output directory.
		#[arg(long, default_value = "sim-out")]
		out: PathBuf,
		/// SGD steps of the central baseline (0: skip it).
		#[arg(long, default_value_t = 4000)]
		central_steps: usize,
		/// No PNG plots (CSV and summary only).
		#[arg(long)]
		no_plots: bool,
	},
	/// Plot several runs' CSVs together: <out>-rounds.png and <out>-bytes.png.
	Plot {
		/// `label=path/to/rounds.csv`, repeatable.
		#[arg(long, required = true)]
		series: Vec<String>,
		/// Output path prefix.
		#[arg(long)]
		out: PathBuf,
		/// Chart title.
		#[arg(long, default_value = "LoopX gossip learning")]
		title: String,
		/// `label=value`: a horizontal reference line (e.g. the central AUC).
		#[arg(long)]
		reference: Option<String>,
	},
}

fn split_pair(s: &str) -> Result<(String, String), String> {
	s.split_once('=').map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(|| format!("{s:?}: expected label=value"))
}

fn main() {
	if let Err(e) = real_main() {
		eprintln!("error: {e}");
		std::process::exit(1);
	}
}

fn real_main() -> Result<(), Box<dyn std::error::Error>> {
	match Cli::parse().command {
		Command::Run { cfg, out, central_steps, no_plots } => run(cfg, out, central_steps, no_plots),
		Command::Plot { series, out, title, reference } => {
			let mut loaded = Vec::new();
			for s in &series {
				let (label, path) = split_pair(s)?;
				loaded.push((label, report::read_csv(path.as_ref())?));
			}
			let reference = match reference {
				Some(r) => {
					let (label, value) = split_pair(&r)?;
					Some((label, value.parse::<f64>().map_err(|_| format!("{value:?} is not a number"))?))
				},
				None => None,
			};
			let with_suffix = |suffix: &str| PathBuf::from(format!("{}-{suffix}.png", out.display()));
			report::plot(&with_suffix("rounds"), &title, &loaded, XAxis::Round, reference.clone())?;
			report::plot(&with_suffix("bytes"), &title, &loaded, XAxis::Megabytes, reference)?;
			println!("wrote {} and {}", with_suffix("rounds").display(), with_suffix("bytes").display());
			Ok(())
		},
	}
}

fn run(cfg: SimConfig, out: PathBuf, central_steps: usize, no_plots: bool) -> Result<(), Box<dyn std::error::Error>> {
	fs::create_dir_all(&out)?;
	let started = Instant::now();
	let scenario = Scenario::new(&cfg);
	let central = if central_steps > 0 { Some(sim::central_auc(&cfg, &scenario, central_steps)?) } else { None };
	let bar = ProgressBar::new(cfg.rounds as u64);
	bar.set_style(ProgressStyle::with_template("{elapsed_precise} [{bar:40}] round {pos}/{len} {msg}")?.progress_chars("=> "));
	let stats = sim::run(&cfg, &scenario, |s| {
		bar.set_position(s.round as u64);
		bar.set_message(format!("AUC {:.4} (min {:.4}) · {:.2} MB", s.mean_auc, s.min_auc, s.bytes as f64 / 1e6));
	})?;
	bar.finish();
	let csv = out.join("rounds.csv");
	report::write_csv(&csv, &stats)?;
	let series = vec![("gossip".to_string(), stats.clone())];
	let reference = central.map(|c| ("central".to_string(), c));
	if !no_plots {
		let title = format!("{} nodes, rank {}, {:?}", cfg.nodes, cfg.rank, cfg.precision);
		report::plot(&out.join("auc-by-round.png"), &title, &series, XAxis::Round, reference.clone())?;
		report::plot(&out.join("auc-by-bytes.png"), &title, &series, XAxis::Megabytes, reference)?;
	}
	let last = stats.last().ok_or("no rounds")?;
	let model = loopx_ml_kernels::models::mlp::MlpSpec::num_params(&sim::spec(&cfg));
	let dense = sim::spec(&cfg).dense().num_params();
	let mut summary = vec![
		format!("config = {cfg:?}"),
		format!("params = {model}"),
		format!("dense_params = {dense}"),
		format!("final_mean_auc = {:.6}", last.mean_auc),
		format!("final_min_auc = {:.6}", last.min_auc),
		format!("best_mean_auc = {:.6}", stats.iter().map(|s| s.mean_auc).fold(0.0, f64::max)),
		format!("bytes = {}", last.bytes),
		format!("messages = {}", last.messages),
		format!("bytes_per_message = {:.1}", last.bytes as f64 / last.messages.max(1) as f64),
		format!("fallbacks = {}", last.fallbacks),
		format!("diverged_updates = {}", last.diverged),
		format!("wall_seconds = {:.1}", started.elapsed().as_secs_f64()),
	];
	if let Some(c) = central {
		summary.push(format!("central_auc = {c:.6}"));
		let target = 0.99 * c;
		summary.push(format!("rounds_to_99pct_of_central = {}", sim::rounds_to(&stats, target).map_or("not reached".into(), |r| r.to_string())));
	}
	if let Some(eps) = sim::privacy_spent(&cfg) {
		summary.push(format!("dp_epsilon_at_delta_1e-5 = {eps:.3}"));
	}
	if let Some(kib) = sim::peak_rss_kib() {
		summary.push(format!("peak_rss_mib = {:.1}", kib as f64 / 1024.0));
	}
	let text = summary.join("\n") + "\n";
	fs::write(out.join("summary.txt"), &text)?;
	print!("{text}");
	println!("wrote {}", out.display());
	Ok(())
}
