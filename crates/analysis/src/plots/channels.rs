//! Channels kept per layer (the appendices as pictures): for each prunable layer, the
//! original width and the pruned width as a pair of bars.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{de, DrawResult, Figure, FONT, MEASURED, NEUTRAL};

/// Original and kept channels of every prunable layer of one pruned model.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelsPerLayer {
    pub title: String,
    /// (layer name, original channels, kept channels), in network order.
    pub layers: Vec<(String, i64, i64)>,
}

impl Figure for ChannelsPerLayer {
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(de)?;
        let n = self.layers.len().max(1);
        let top = self.layers.iter().map(|l| l.1).max().unwrap_or(1) as f64 * 1.12;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 22))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(64)
            // A segmented range a..b has b - a + 1 segments.
            .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0.0..top)
            .map_err(de)?;
        let names: Vec<String> = self.layers.iter().map(|l| l.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_style((FONT, 12))
            .y_desc("output channels")
            .x_desc("prunable layer")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(de)?;
        // Each layer's segment holds two bars: the left half original, the right half kept
        // (margins in pixels, from the segment's width).
        let seg = chart.plotting_area().dim_in_pixel().0 as f64 / n as f64;
        let (outer, inner) = ((seg * 0.1) as u32, (seg * 0.5) as u32);
        let bar = |i: usize, h: i64, c: RGBColor, left: bool| {
            let (l, r) = if left { (outer, inner) } else { (inner, outer) };
            let mut rect = Rectangle::new(
                [
                    (SegmentValue::Exact(i as i32), 0.0),
                    (SegmentValue::Exact(i as i32 + 1), h as f64),
                ],
                c.filled(),
            );
            rect.set_margin(0, 0, l, r);
            rect
        };
        chart
            .draw_series(
                self.layers
                    .iter()
                    .enumerate()
                    .map(|(i, l)| bar(i, l.1, NEUTRAL, true)),
            )
            .map_err(de)?
            .label("original")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], NEUTRAL.filled()));
        chart
            .draw_series(
                self.layers
                    .iter()
                    .enumerate()
                    .map(|(i, l)| bar(i, l.2, MEASURED, false)),
            )
            .map_err(de)?
            .label("kept")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], MEASURED.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 14))
            .draw()
            .map_err(de)
    }
}
