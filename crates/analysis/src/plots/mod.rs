//! Plots of a setting's runs, drawn with plotters into PNG and SVG. Text uses the bundled
//! DejaVu Sans (assets/, Bitstream Vera licence), so no system font is needed.
mod channels;
mod curves;
mod scatter;
mod tradeoff;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{write_atomic, AnalysisError, Result};

pub use channels::ChannelsPerLayer;
pub use curves::TrainingCurves;
pub use scatter::{LabelledPoint, Scatter};
pub use tradeoff::{CurvePoint, PublishedPoint, Series, Tradeoff};

/// Font family name every plot uses (registered from the bundled file).
pub(crate) const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err("the bundled font assets/DejaVuSans.ttf does not parse".into())
    }
}

/// Drawing failures, as text (plotters' errors are generic over the backend).
pub(crate) type DrawResult = std::result::Result<(), String>;

pub(crate) fn de<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// A plot that can draw itself on any plotters backend.
pub trait Figure {
    /// Pixel size (width, height).
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Renders `fig` to `<stem>.png` and `<stem>.svg` (each written atomically) and returns
/// both paths.
pub fn render(fig: &impl Figure, stem: &Path) -> Result<Vec<PathBuf>> {
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let plot_err = |path: &Path, message: String| AnalysisError::Plot {
        path: path.to_path_buf(),
        message,
    };
    ensure_font().map_err(|m| plot_err(&png, m))?;
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| AnalysisError::io(dir, e))?;
    }
    // PNG: plotters picks the encoder from the extension, so the temporary name keeps it.
    let tmp_png = stem.with_extension("tmp.png");
    {
        let root = BitMapBackend::new(&tmp_png, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|m| plot_err(&png, m))?;
        root.present().map_err(|e| plot_err(&png, de(e)))?;
    }
    std::fs::rename(&tmp_png, &png).map_err(|e| AnalysisError::io(&png, e))?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|m| plot_err(&svg, m))?;
        root.present().map_err(|e| plot_err(&svg, de(e)))?;
    }
    write_atomic(&svg, text.as_bytes())?;
    Ok(vec![png, svg])
}

/// Colours: measured series, published series, a neutral reference, a second measure.
pub(crate) const MEASURED: RGBColor = RGBColor(31, 119, 180);
pub(crate) const PUBLISHED: RGBColor = RGBColor(214, 39, 40);
pub(crate) const NEUTRAL: RGBColor = RGBColor(190, 190, 190);
pub(crate) const SECOND: RGBColor = RGBColor(255, 127, 14);

/// A value range padded by 8% on each side (and never empty).
pub(crate) fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let pad = 0.08 * (hi - lo);
    (lo - pad)..(hi + pad)
}

/// The legend every two-axis figure here draws: lower left, over a translucent white box.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    font_size: u32,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, font_size))
        .draw()
        .map_err(de)?;
    Ok(())
}

/// Decimals an axis tick needs so that neighbouring ticks of an axis spanning `span`
/// units read apart (plotters draws about ten).
fn tick_decimals(span: f64) -> usize {
    match span.abs() {
        s if s >= 20.0 => 0,
        s if s >= 1.0 => 1,
        s if s >= 0.1 => 2,
        _ => 3,
    }
}

/// An axis tick with `decimals` decimals; a value that rounds to zero prints as "0", not
/// "-0.0" (a tick a hair below zero would otherwise read as negative zero).
fn tick(v: f64, decimals: usize) -> String {
    let half_step = 0.5 * 10f64.powi(-(decimals as i32));
    let v = if v.abs() < half_step { 0.0 } else { v };
    format!("{v:.decimals$}")
}

/// Titles and axis labels of a two-axis figure.
pub(crate) struct Axes<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
}

/// A captioned chart over `x` x `y` with its mesh and axis labels drawn: the frame every
/// two-axis figure here shares.
pub(crate) fn xy_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    axes: &Axes,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    String,
> {
    let mut chart = ChartBuilder::on(root)
        .caption(axes.title, (FONT, 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(x.clone(), y.clone())
        .map_err(de)?;
    let (dx, dy) = (
        tick_decimals(x.end - x.start),
        tick_decimals(y.end - y.start),
    );
    chart
        .configure_mesh()
        .x_desc(axes.x_label)
        .y_desc(axes.y_label)
        .x_label_formatter(&|v| tick(*v, dx))
        .y_label_formatter(&|v| tick(*v, dy))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(de)?;
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::{tick, tick_decimals};

    #[test]
    fn a_tick_just_below_zero_reads_as_zero_and_decimals_follow_the_span() {
        assert_eq!(tick(-1e-12, 1), "0.0");
        assert_eq!(tick(-0.04, 1), "0.0");
        assert_eq!(tick(-0.06, 1), "-0.1");
        assert_eq!(tick(42.2, tick_decimals(60.0)), "42");
        assert_eq!(tick(0.35, tick_decimals(0.5)), "0.35");
    }
}
