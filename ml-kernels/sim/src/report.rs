//! Per-round CSV and PNG plots (metric against round, metric against bytes sent).

use crate::sim::RoundStats;
use plotters::prelude::*;
use std::path::Path;

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
	/// CSV reading or writing failed.
	#[error("CSV: {0}")]
	Csv(#[from] csv::Error),
	/// A file operation failed.
	#[error("{0}")]
	Io(#[from] std::io::Error),
	/// A CSV row is malformed.
	#[error("{path}: row {row}: {reason}")]
	Row {
		/// The file.
		path: String,
		/// 1-based data row.
		row: usize,
		/// What is wrong.
		reason: String,
	},
	/// No TTF font to draw text with.
	#[error("no font: set LOOPX_PLOT_FONT to a .ttf file or install fonts-dejavu-core")]
	NoFont,
	/// Drawing failed.
	#[error("plotting: {0}")]
	Plot(String),
}

const HEADER: [&str; 10] = ["round", "mean_auc", "min_auc", "max_auc", "mean_log_loss", "bytes", "messages", "online", "fallbacks", "diverged"];

/// Writes `stats` as CSV (header [`HEADER`]).
pub fn write_csv(path: &Path, stats: &[RoundStats]) -> Result<(), ReportError> {
	let mut w = csv::Writer::from_path(path)?;
	w.write_record(HEADER)?;
	for s in stats {
		w.write_record([
			s.round.to_string(),
			format!("{:.6}", s.mean_auc),
			format!("{:.6}", s.min_auc),
			format!("{:.6}", s.max_auc),
			format!("{:.6}", s.mean_log_loss),
			s.bytes.to_string(),
			s.messages.to_string(),
			s.online.to_string(),
			s.fallbacks.to_string(),
			s.diverged.to_string(),
		])?;
	}
	w.flush()?;
	Ok(())
}

/// Reads a CSV written by [`write_csv`].
pub fn read_csv(path: &Path) -> Result<Vec<RoundStats>, ReportError> {
	let name = path.display().to_string();
	let mut out = Vec::new();
	for (k, record) in csv::Reader::from_path(path)?.records().enumerate() {
		let r = record?;
		let bad = |reason: String| ReportError::Row { path: name.clone(), row: k + 1, reason };
		let field = |i: usize| r.get(i).ok_or_else(|| bad(format!("column {} missing", HEADER[i])));
		let float = |i: usize| field(i)?.parse::<f64>().map_err(|_| bad(format!("{} is not a number", HEADER[i])));
		let int = |i: usize| field(i)?.parse::<u64>().map_err(|_| bad(format!("{} is not an integer", HEADER[i])));
		out.push(RoundStats {
			round: int(0)? as usize,
			mean_auc: float(1)?,
			min_auc: float(2)?,
			max_auc: float(3)?,
			mean_log_loss: float(4)?,
			bytes: int(5)?,
			messages: int(6)?,
			online: int(7)? as usize,
			fallbacks: int(8)?,
			// Absent in CSVs written before the column existed.
			diverged: if r.len() > 9 { int(9)? } else { 0 },
		});
	}
	Ok(out)
}

fn register_font() -> Result<(), ReportError> {
	let candidates = [
		std::env::var("LOOPX_PLOT_FONT").unwrap_or_default(),
		"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf".into(),
		"/usr/share/fonts/TTF/DejaVuSans.ttf".into(),
	];
	let bytes = candidates.iter().filter(|p| !p.is_empty()).find_map(|p| std::fs::read(p).ok()).ok_or(ReportError::NoFont)?;
	// plotters keeps the font for the life of the process.
	let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
	plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).map_err(|_| ReportError::NoFont)
}

/// What to put on the x axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XAxis {
	/// Round number.
	Round,
	/// Megabytes sent by all nodes.
	Megabytes,
}

/// Plots mean AUC of each labelled series against `x` into a PNG at `path`, with an optional
/// horizontal reference line (e.g. the central model's AUC).
pub fn plot(path: &Path, title: &str, series: &[(String, Vec<RoundStats>)], x: XAxis, reference: Option<(String, f64)>) -> Result<(), ReportError> {
	register_font()?;
	let plot_err = |e: &dyn std::fmt::Display| ReportError::Plot(e.to_string());
	let xs = |s: &RoundStats| match x {
		XAxis::Round => s.round as f64,
		XAxis::Megabytes => s.bytes as f64 / 1e6,
	};
	let points = || series.iter().flat_map(|(_, rows)| rows.iter());
	let x_max = points().map(xs).fold(1e-9, f64::max);
	let mut y_min = points().map(|s| s.mean_auc).fold(1.0, f64::min);
	let mut y_max = points().map(|s| s.mean_auc).fold(0.0, f64::max);
	if let Some((_, r)) = &reference {
		y_min = y_min.min(*r);
		y_max = y_max.max(*r);
	}
	let pad = ((y_max - y_min) * 0.05).max(0.005);
	let root = BitMapBackend::new(path, (960, 600)).into_drawing_area();
	root.fill(&WHITE).map_err(|e| plot_err(&e))?;
	let mut chart = ChartBuilder::on(&root)
		.caption(title, ("sans-serif", 22))
		.margin(12)
		.x_label_area_size(44)
		.y_label_area_size(60)
		.build_cartesian_2d(0.0..x_max, (y_min - pad).max(0.0)..(y_max + pad).min(1.0))
		.map_err(|e| plot_err(&e))?;
	chart
		.configure_mesh()
		.x_desc(match x {
			XAxis::Round => "round",
			XAxis::Megabytes => "MB sent (all nodes)",
		})
		.y_desc("mean test AUC")
		.draw()
		.map_err(|e| plot_err(&e))?;
	for (k, (label, rows)) in series.iter().enumerate() {
		let color = Palette99::pick(k).to_rgba();
		chart
			.draw_series(LineSeries::new(rows.iter().map(|s| (xs(s), s.mean_auc)), color.stroke_width(2)))
			.map_err(|e| plot_err(&e))?
			.label(label.clone())
			.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
	}
	if let Some((label, value)) = reference {
		chart
			.draw_series(LineSeries::new([(0.0, value), (x_max, value)], BLACK.stroke_width(1)))
			.map_err(|e| plot_err(&e))?
			.label(label)
			.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
	}
	chart
		.configure_series_labels()
		.position(SeriesLabelPosition::LowerRight)
		.background_style(WHITE.mix(0.8))
		.border_style(BLACK)
		.draw()
		.map_err(|e| plot_err(&e))?;
	root.present().map_err(|e| plot_err(&e))?;
	Ok(())
}
