//! Labelled scatter plots: accuracy vs MACs pruned (measured and published marked
//! differently) and latency vs MACs.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{de, padded, DrawResult, Figure, FONT, MEASURED, PUBLISHED};

/// One point with the method it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledPoint {
    pub label: String,
    pub x: f64,
    pub y: f64,
    /// Measured here (filled circle) or published (triangle).
    pub measured: bool,
}

/// A scatter plot of labelled points.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    pub title: String,
    /// Axis labels, with units.
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<LabelledPoint>,
}

impl Figure for Scatter {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(de)?;
        let xs = self.points.iter().map(|p| p.x);
        let ys = self.points.iter().map(|p| p.y);
        let x = padded(
            xs.clone().fold(f64::INFINITY, f64::min).min(0.0),
            xs.fold(f64::NEG_INFINITY, f64::max).max(1.0),
        );
        let y = padded(
            ys.clone().fold(f64::INFINITY, f64::min),
            ys.fold(f64::NEG_INFINITY, f64::max),
        );
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(de)?;
        let label_style = TextStyle::from((FONT, 13)).color(&BLACK);
        let measured: Vec<&LabelledPoint> = self.points.iter().filter(|p| p.measured).collect();
        let published: Vec<&LabelledPoint> = self.points.iter().filter(|p| !p.measured).collect();
        if !measured.is_empty() {
            chart
                .draw_series(measured.iter().map(|p| {
                    EmptyElement::at((p.x, p.y))
                        + Circle::new((0, 0), 6, MEASURED.filled())
                        + Text::new(p.label.clone(), (9, -16), label_style.clone())
                }))
                .map_err(de)?
                .label("measured (this project)")
                .legend(|(x, y)| Circle::new((x + 8, y), 5, MEASURED.filled()));
        }
        if !published.is_empty() {
            chart
                .draw_series(published.iter().map(|p| {
                    EmptyElement::at((p.x, p.y))
                        + TriangleMarker::new((0, 0), 8, PUBLISHED.filled())
                        + Text::new(p.label.clone(), (9, -16), label_style.clone())
                }))
                .map_err(de)?
                .label("published")
                .legend(|(x, y)| TriangleMarker::new((x + 8, y), 7, PUBLISHED.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 14))
            .draw()
            .map_err(de)?;
        Ok(())
    }
}
