use serde::{Deserialize, Serialize};

/// The shape of the learning-rate curve after warm-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleKind {
    /// The base rate throughout.
    Constant,
    /// Multiply by `gamma` at each milestone epoch.
    MultiStep { milestones: Vec<usize>, gamma: f64 },
    /// Cosine decay from the base rate to `min_lr` at the last epoch.
    Cosine {
        #[serde(default)]
        min_lr: f64,
    },
}

/// A learning-rate schedule: optional linear warm-up, then [`ScheduleKind`]. Evaluated
/// per iteration at fractional epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    pub base_lr: f64,
    pub epochs: usize,
    pub warmup_epochs: f64,
    pub kind: ScheduleKind,
}

impl LrSchedule {
    /// Learning rate at fractional epoch `t` (0 <= t <= epochs).
    pub fn lr_at(&self, t: f64) -> f64 {
        if self.warmup_epochs > 0.0 && t < self.warmup_epochs {
            return self.base_lr * (t + 1e-3).min(self.warmup_epochs) / self.warmup_epochs;
        }
        match &self.kind {
            ScheduleKind::Constant => self.base_lr,
            ScheduleKind::MultiStep { milestones, gamma } => {
                let passed = milestones.iter().filter(|&&m| t >= m as f64).count();
                self.base_lr * gamma.powi(passed as i32)
            }
            ScheduleKind::Cosine { min_lr } => {
                let span = (self.epochs as f64 - self.warmup_epochs).max(1e-9);
                let p = ((t - self.warmup_epochs) / span).clamp(0.0, 1.0);
                min_lr + (self.base_lr - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multistep_and_cosine() {
        let ms = LrSchedule {
            base_lr: 0.1,
            epochs: 10,
            warmup_epochs: 0.0,
            kind: ScheduleKind::MultiStep {
                milestones: vec![5, 8],
                gamma: 0.1,
            },
        };
        assert!((ms.lr_at(4.9) - 0.1).abs() < 1e-12);
        assert!((ms.lr_at(5.0) - 0.01).abs() < 1e-12);
        assert!((ms.lr_at(9.0) - 0.001).abs() < 1e-12);
        let cos = LrSchedule {
            base_lr: 0.1,
            epochs: 10,
            warmup_epochs: 2.0,
            kind: ScheduleKind::Cosine { min_lr: 0.0 },
        };
        assert!(cos.lr_at(0.0) < 0.001);
        assert!((cos.lr_at(1.0) - 0.05).abs() < 1e-3);
        assert!((cos.lr_at(2.0) - 0.1).abs() < 1e-12);
        assert!((cos.lr_at(6.0) - 0.05).abs() < 1e-12);
        assert!(cos.lr_at(10.0).abs() < 1e-12);
    }
}
