//! Order statistics of timings (ms per pass, images per second): the median and
//! quartiles that latency tables and benchmarks report.

/// The `q`-quantile (0 <= `q` <= 1) of `sorted` (ascending), interpolated linearly
/// between the two nearest values; NaN when `sorted` is empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// `values` sorted ascending (NaN last).
pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The middle value (the mean of the two middle ones for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    quantile(&sorted(values), 0.5)
}

/// Inter-quartile range over the median: how much repeated measurements of one thing
/// vary, independent of its size; 0 when the median is not positive.
pub fn relative_iqr(values: &[f64]) -> f64 {
    let v = sorted(values);
    let mid = quantile(&v, 0.5);
    if mid > 0.0 {
        (quantile(&v, 0.75) - quantile(&v, 0.25)) / mid
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_neighbours() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn median_and_spread_ignore_input_order() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(relative_iqr(&[1.0, 1.0, 1.0, 1.0, 1.0]), 0.0);
        // Quartiles 2 and 4 of 1..=5 around the median 3.
        assert!((relative_iqr(&[5.0, 1.0, 3.0, 2.0, 4.0]) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(relative_iqr(&[0.0, 0.0]), 0.0);
    }
}
