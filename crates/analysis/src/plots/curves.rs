//! Training / fine-tuning curves of one run: loss and accuracy per epoch, train and
//! validation, side by side.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{de, padded, DrawResult, Figure, FONT, MEASURED, SECOND};
use crate::record::EpochMetrics;

/// The curves of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingCurves {
    pub title: String,
    pub epochs: Vec<EpochMetrics>,
}

type Curve = Vec<(f64, f64)>;

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    y_label: &str,
    train: Curve,
    val: Curve,
    legend_at: SeriesLabelPosition,
) -> DrawResult {
    let all = train.iter().chain(val.iter());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let last = train.iter().map(|p| p.0).fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5..last + 0.5, padded(lo, hi))
        .map_err(de)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc(y_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(de)?;
    chart
        .draw_series(LineSeries::new(train, MEASURED.stroke_width(2)))
        .map_err(de)?
        .label("train")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], MEASURED.stroke_width(2)));
    if !val.is_empty() {
        chart
            .draw_series(LineSeries::new(val, SECOND.stroke_width(2)))
            .map_err(de)?
            .label("validation")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], SECOND.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(legend_at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()
        .map_err(de)
}

impl Figure for TrainingCurves {
    fn size(&self) -> (u32, u32) {
        (1100, 460)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(de)?;
        let root = root.titled(&self.title, (FONT, 22)).map_err(de)?;
        let panels = root.split_evenly((1, 2));
        let e = |m: &EpochMetrics| m.epoch as f64;
        let pick = |f: fn(&EpochMetrics) -> Option<f64>| -> Curve {
            self.epochs
                .iter()
                .filter_map(|m| f(m).map(|v| (e(m), v)))
                .collect()
        };
        panel(
            &panels[0],
            "cross-entropy loss",
            "loss (nats per image)",
            pick(|m| Some(m.train_loss)),
            pick(|m| m.val_loss),
            SeriesLabelPosition::UpperRight,
        )?;
        panel(
            &panels[1],
            "top-1 accuracy",
            "top-1 accuracy (%)",
            pick(|m| Some(m.train_top1)),
            pick(|m| m.val_top1),
            SeriesLabelPosition::LowerRight,
        )
    }
}
