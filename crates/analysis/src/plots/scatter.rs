//! Labelled scatter plots: accuracy vs MACs pruned (measured and published marked
//! differently) and latency vs MACs.
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    de, draw_legend, padded, xy_chart, Axes, DrawResult, Figure, FONT, MEASURED, PUBLISHED,
};

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
        // The x axis (MACs, MACs pruned %) starts at 0, not at a padded negative value,
        // unless a point lies left of 0.
        let x_lo = xs.clone().fold(f64::INFINITY, f64::min).min(0.0);
        let x = padded(x_lo, xs.fold(f64::NEG_INFINITY, f64::max).max(1.0));
        let x = if x_lo < 0.0 { x } else { 0.0..x.end };
        let y = padded(
            ys.clone().fold(f64::INFINITY, f64::min),
            ys.fold(f64::NEG_INFINITY, f64::max),
        );
        let axes = Axes {
            title: &self.title,
            x_label: &self.x_label,
            y_label: &self.y_label,
        };
        let mut chart = xy_chart(root, &axes, x, y)?;
        let label_style = TextStyle::from((FONT, 13)).color(&BLACK);
        // Labels of points at (nearly) the same place would print over each other or over
        // the markers: each is moved down below what it would cover, and a label that
        // would run past the plot's right edge is pulled left to end there.
        let right_edge = chart.plotting_area().get_pixel_range().0.end;
        let anchors: Vec<(i32, i32)> = self
            .points
            .iter()
            .map(|p| chart.backend_coord(&(p.x, p.y)))
            .collect();
        let markers: Vec<LabelBox> = anchors
            .iter()
            .map(|&(px, py)| LabelBox {
                x: px - MARKER_R,
                y: py - MARKER_R,
                w: 2 * MARKER_R,
                h: 2 * MARKER_R,
            })
            .collect();
        let boxes: Vec<LabelBox> = self
            .points
            .iter()
            .zip(&anchors)
            .map(|(p, &(px, py))| {
                let (w, h) = root
                    .estimate_text_size(&p.label, &label_style)
                    .unwrap_or((8 * p.label.len() as u32, 14));
                let (w, h) = (w as i32, h as i32);
                // Pulled left just enough to end at the edge (not past the point's left).
                let x = (px + LABEL_DX).min(right_edge - w).max(px - w);
                LabelBox {
                    x,
                    y: py + LABEL_DY,
                    w,
                    h,
                }
            })
            .collect();
        let shifts = label_shifts(&boxes, &markers);
        // Each label's offset from its point, after the moves.
        let offsets: Vec<(i32, i32)> = boxes
            .iter()
            .zip(&shifts)
            .zip(&anchors)
            .map(|((b, dy), &(px, py))| (b.x - px, b.y + dy - py))
            .collect();
        // A label that had to move gets a thin line to its point, so it is not read as
        // another point's.
        let leaders: Vec<(usize, (i32, i32))> = boxes
            .iter()
            .zip(&offsets)
            .enumerate()
            .filter(|(i, (_, &(dx, _)))| shifts[*i] != 0 || dx != LABEL_DX)
            // To the point of the label's box nearest to the marker.
            .map(|(i, (b, &(dx, dy)))| (i, (0.clamp(dx, dx + b.w), 0.clamp(dy, dy + b.h))))
            .collect();
        chart
            .draw_series(leaders.iter().map(|&(i, end)| {
                let p = &self.points[i];
                EmptyElement::at((p.x, p.y)) + PathElement::new(vec![(0, 0), end], LEADER)
            }))
            .map_err(de)?;
        let (measured, published): (Vec<_>, Vec<_>) = self
            .points
            .iter()
            .enumerate()
            .partition(|(_, p)| p.measured);
        if !measured.is_empty() {
            chart
                .draw_series(measured.iter().map(|&(i, p)| {
                    EmptyElement::at((p.x, p.y))
                        + Circle::new((0, 0), MARKER_R - 1, MEASURED.filled())
                        + Text::new(p.label.clone(), offsets[i], label_style.clone())
                }))
                .map_err(de)?
                .label("measured (this project)")
                .legend(|(x, y)| Circle::new((x + 8, y), 5, MEASURED.filled()));
        }
        if !published.is_empty() {
            chart
                .draw_series(published.iter().map(|&(i, p)| {
                    EmptyElement::at((p.x, p.y))
                        + TriangleMarker::new((0, 0), MARKER_R + 1, PUBLISHED.filled())
                        + Text::new(p.label.clone(), offsets[i], label_style.clone())
                }))
                .map_err(de)?
                .label("published")
                .legend(|(x, y)| TriangleMarker::new((x + 8, y), 7, PUBLISHED.filled()));
        }
        draw_legend(&mut chart, 14)
    }
}

/// Where a point's label starts, in pixels from the point: right of and above it.
const LABEL_DX: i32 = 9;
const LABEL_DY: i32 = -16;
/// Leader lines from moved labels to their points.
const LEADER: RGBColor = RGBColor(110, 110, 110);
/// Half the size of a marker's box, in pixels (circles have radius 6, triangles size 8).
const MARKER_R: i32 = 7;

/// A label's box in pixels: top-left corner, width and height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LabelBox {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
}

impl LabelBox {
    fn overlaps(&self, o: &LabelBox) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
}

/// Vertical shift (pixels, down) of each label so that no two overlap and none covers an
/// obstacle (the markers): labels are placed in order of their wanted position (top
/// first, then left), each moved down just below whatever it would cover.
fn label_shifts(boxes: &[LabelBox], obstacles: &[LabelBox]) -> Vec<i32> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by_key(|&i| (boxes[i].y, boxes[i].x, i));
    let mut taken: Vec<LabelBox> = obstacles.to_vec();
    let mut shifts = vec![0; boxes.len()];
    for i in order {
        let mut b = boxes[i];
        // Each move puts b's top below a taken box's bottom, and boxes only move down,
        // so this ends after at most taken.len() moves.
        while let Some(o) = taken.iter().find(|o| o.overlaps(&b)) {
            b.y = o.y + o.h + 1;
        }
        shifts[i] = b.y - boxes[i].y;
        taken.push(b);
    }
    shifts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(x: i32, y: i32) -> LabelBox {
        LabelBox { x, y, w: 60, h: 14 }
    }

    #[test]
    fn labels_at_one_place_are_stacked() {
        // Three labels at the same spot, one far away.
        let shifts = label_shifts(&[bx(100, 50), bx(100, 50), bx(400, 50), bx(102, 52)], &[]);
        assert_eq!(shifts[0], 0);
        assert_eq!(shifts[2], 0, "a label with room keeps its place");
        assert_eq!(shifts[1], 15, "the second goes just below the first");
        assert_eq!(
            shifts[3], 28,
            "the third below both (50 + 15 + 15 = 80 = 52 + 28)"
        );
    }

    #[test]
    fn separate_labels_do_not_move() {
        let shifts = label_shifts(&[bx(0, 0), bx(0, 14), bx(60, 0)], &[]);
        assert_eq!(shifts, vec![0, 0, 0]);
    }

    #[test]
    fn labels_move_off_markers() {
        // A marker (14 x 14 at 120, 55) under the label's wanted place.
        let marker = LabelBox {
            x: 120,
            y: 55,
            w: 14,
            h: 14,
        };
        let shifts = label_shifts(&[bx(100, 50)], &[marker]);
        assert_eq!(shifts, vec![20], "just below the marker: 55 + 14 + 1 = 70");
    }
}
