//! Accuracy-cost curves: one coloured line per method through its operating points,
//! error bars over seeds, the published points as distinct markers in the same axes,
//! and a legend instead of a label on every point.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{de, draw_legend, padded, xy_chart, Axes, DrawResult, Figure, NEUTRAL};

/// One point of a curve: x, y and the sample sd of y over seeds (`None`: one seed).
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub x: f64,
    pub y: f64,
    pub y_sd: Option<f64>,
}

/// A method's points (drawn as a line in x order when it has more than one).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<CurvePoint>,
}

/// A published point (its own delta against its paper's unpruned model).
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedPoint {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

/// A figure of accuracy change against a cost reduction.
#[derive(Debug, Clone, PartialEq)]
pub struct Tradeoff {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub published: Vec<PublishedPoint>,
    /// Where the unpruned model sits on the x axis (0% removed, or speed-up 1).
    pub x_origin: f64,
}

/// Distinct colours for up to ten measured series (then repeated).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(31, 31, 31),
];
const PUBLISHED: RGBColor = RGBColor(214, 39, 40);

impl Figure for Tradeoff {
    fn size(&self) -> (u32, u32) {
        (1000, 620)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(de)?;
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.x))
            .chain(self.published.iter().map(|p| p.x))
            .chain([self.x_origin]);
        let ys = self
            .series
            .iter()
            .flat_map(|s| {
                s.points.iter().flat_map(|p| {
                    let e = p.y_sd.unwrap_or(0.0);
                    [p.y - e, p.y + e]
                })
            })
            .chain(self.published.iter().map(|p| p.y))
            .chain([0.0]);
        let x = padded(
            xs.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
        );
        let y = padded(
            ys.clone().fold(f64::INFINITY, f64::min),
            ys.fold(f64::NEG_INFINITY, f64::max),
        );
        let axes = Axes {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
        };
        let mut chart = xy_chart(root, &axes, x.clone(), y)?;
        // The unpruned model's accuracy: no change.
        chart
            .draw_series(LineSeries::new(
                [(x.start, 0.0), (x.end, 0.0)],
                NEUTRAL.stroke_width(1),
            ))
            .map_err(de)?;
        for (i, s) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let mut pts = s.points.clone();
            pts.sort_by(|a, b| a.x.total_cmp(&b.x));
            chart
                .draw_series(pts.iter().filter_map(|p| {
                    let e = p.y_sd?;
                    Some(ErrorBar::new_vertical(
                        p.x,
                        p.y - e,
                        p.y,
                        p.y + e,
                        colour.stroke_width(1),
                        8,
                    ))
                }))
                .map_err(de)?;
            if pts.len() > 1 {
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.x, p.y)),
                        colour.stroke_width(2),
                    ))
                    .map_err(de)?;
            }
            chart
                .draw_series(
                    pts.iter()
                        .map(|p| Circle::new((p.x, p.y), 5, colour.filled())),
                )
                .map_err(de)?
                .label(s.label.clone())
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, colour.filled()));
        }
        // Published points: one marker shape each, all in one colour.
        for (i, p) in self.published.iter().enumerate() {
            let at = (p.x, p.y);
            let label = format!("{} (published)", p.label);
            match i % 3 {
                0 => {
                    chart
                        .draw_series([TriangleMarker::new(at, 8, PUBLISHED.filled())])
                        .map_err(de)?
                        .label(label)
                        .legend(|(x, y)| TriangleMarker::new((x + 8, y), 7, PUBLISHED.filled()));
                }
                1 => {
                    chart
                        .draw_series([Cross::new(at, 7, PUBLISHED.stroke_width(3))])
                        .map_err(de)?
                        .label(label)
                        .legend(|(x, y)| Cross::new((x + 8, y), 6, PUBLISHED.stroke_width(3)));
                }
                _ => {
                    chart
                        .draw_series([EmptyElement::at(at)
                            + Rectangle::new([(-6, -6), (6, 6)], PUBLISHED.filled())])
                        .map_err(de)?
                        .label(label)
                        .legend(|(x, y)| {
                            Rectangle::new([(x + 3, y - 5), (x + 13, y + 5)], PUBLISHED.filled())
                        });
                }
            }
        }
        draw_legend(&mut chart, 13)
    }
}
