//! The accuracy guard's walk over lambda for one group of layers.
//!
//! Each group starts at its cost-aware lambdas (scale 1). A rejected selection halves the
//! scale, up to `max_retries` times. Halving is coarse: one step can go from a selection
//! that loses too much accuracy to one that removes nothing (ResNet-20's residual
//! groups did: 13 of 16 channels kept at scale x, all 16 at x / 2). With
//! `refine_steps` > 0, once a scale is accepted after a rejection, the search bisects
//! (geometrically) between the lowest rejected and the highest accepted scale that many
//! times. Of all accepted selections, the one leaving the least cost is kept
//! ([`better`]).

/// Where the search stands: the scale to try next and what the guard said so far.
#[derive(Debug, Clone)]
pub(crate) struct LambdaSearch {
    scale: f64,
    retries_left: usize,
    refine_left: usize,
    /// Lowest rejected scale (the bisection's upper end).
    rejected: Option<f64>,
    /// Highest accepted scale (the bisection's lower end).
    accepted: Option<f64>,
}

impl LambdaSearch {
    pub(crate) fn new(max_retries: usize, refine_steps: usize) -> Self {
        Self {
            scale: 1.0,
            retries_left: max_retries,
            refine_left: refine_steps,
            rejected: None,
            accepted: None,
        }
    }

    /// Factor on the group's base lambdas for the next selection.
    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    /// Records the guard's verdict on the current scale and moves to the next one.
    /// Returns false when the search is over.
    pub(crate) fn advance(&mut self, accepted: bool) -> bool {
        if accepted {
            self.accepted = Some(self.accepted.map_or(self.scale, |a| a.max(self.scale)));
        } else {
            self.rejected = Some(self.rejected.map_or(self.scale, |r| r.min(self.scale)));
        }
        match (self.accepted, self.rejected) {
            (None, _) if self.retries_left > 0 => {
                self.retries_left -= 1;
                self.scale /= 2.0;
                true
            }
            (Some(lo), Some(hi)) if self.refine_left > 0 && lo < hi => {
                self.refine_left -= 1;
                self.scale = (lo * hi).sqrt();
                true
            }
            _ => false,
        }
    }
}

/// Whether an accepted selection leaving `cost` (the kept channels weighted by their
/// cost shares) at validation top-1 `val` beats the best so far: less cost first,
/// then higher accuracy.
pub(crate) fn better(cost: f64, val: f64, best: Option<(f64, f64)>) -> bool {
    match best {
        None => true,
        Some((c, v)) => cost < c || (cost == c && val > v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the search against a guard that accepts scales at or below `limit`.
    fn walk(max_retries: usize, refine: usize, limit: f64) -> Vec<(f64, bool)> {
        let mut s = LambdaSearch::new(max_retries, refine);
        let mut tried = Vec::new();
        loop {
            let ok = s.scale() <= limit;
            tried.push((s.scale(), ok));
            if !s.advance(ok) {
                return tried;
            }
        }
    }

    #[test]
    fn accepted_first_try_stops() {
        assert_eq!(walk(4, 3, 2.0), vec![(1.0, true)]);
    }

    #[test]
    fn without_refinement_it_halves_until_accepted() {
        assert_eq!(
            walk(4, 0, 0.3),
            vec![(1.0, false), (0.5, false), (0.25, true)]
        );
    }

    #[test]
    fn gives_up_after_max_retries() {
        let t = walk(2, 3, 0.01);
        assert_eq!(t.len(), 3);
        assert!(t.iter().all(|&(_, ok)| !ok));
    }

    #[test]
    fn refinement_bisects_between_rejected_and_accepted() {
        // Guard accepts <= 0.4: halving gives 1 (no), 0.5 (no), 0.25 (yes); the
        // bisection then tries sqrt(0.25 * 0.5) = 0.354 (yes), sqrt(0.354 * 0.5) = 0.42 (no).
        let t = walk(4, 2, 0.4);
        assert_eq!(t.len(), 5);
        assert!((t[3].0 - (0.125f64).sqrt()).abs() < 1e-12 && t[3].1);
        assert!((t[4].0 - (0.125f64.sqrt() * 0.5).sqrt()).abs() < 1e-12 && !t[4].1);
        // Every refined scale lies between the last rejected and first accepted scales.
        assert!(t[3..].iter().all(|&(s, _)| s > 0.25 && s < 0.5));
    }

    #[test]
    fn best_is_least_cost_then_highest_accuracy() {
        assert!(better(3.0, 80.0, None));
        assert!(better(2.0, 70.0, Some((3.0, 90.0))));
        assert!(!better(4.0, 95.0, Some((3.0, 90.0))));
        assert!(better(3.0, 91.0, Some((3.0, 90.0))));
        assert!(!better(3.0, 89.0, Some((3.0, 90.0))));
    }
}
