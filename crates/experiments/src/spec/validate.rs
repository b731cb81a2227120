//! Range and consistency checks, run once after parsing. Errors are `(field, message)`.
use super::types::*;

type Check = Result<(), (String, String)>;

/// Upper bounds that keep a typo from becoming a terabyte allocation or an overflow.
pub(crate) const MAX_THREADS: usize = 4096;
pub(crate) const MAX_CLASSES: i64 = 100_000;
pub(crate) const MAX_WIDTH: i64 = 65_536;

fn fail(field: impl Into<String>, message: impl Into<String>) -> Check {
    Err((field.into(), message.into()))
}

fn positive_f(field: &str, v: f64) -> Check {
    if !(v.is_finite() && v > 0.0) {
        return fail(field, format!("must be a positive number, found {v}"));
    }
    Ok(())
}

fn in_unit(field: &str, v: f64) -> Check {
    if !(0.0..1.0).contains(&v) {
        return fail(field, format!("must be in [0, 1), found {v}"));
    }
    Ok(())
}

pub(super) fn validate(s: &Spec) -> Check {
    if s.name.is_empty()
        || !s
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return fail(
            "name",
            "must be non-empty and use only letters, digits, '_' and '-'",
        );
    }
    model(s)?;
    dataset(s)?;
    if let Some(p) = &s.prune {
        prune(s, p)?;
    }
    train(&s.train)?;
    // FCN-32s has no batch norm and is trained with batch 1 (Long et al. 2015).
    if s.train.batch_size < 2 && s.model.arch != Arch::Fcn32s {
        return fail(
            "train.batch_size",
            "must be at least 2 (batch norm needs more than one image)",
        );
    }
    if s.threads == Some(0) {
        return fail("threads", "must be at least 1 (or null for all cores)");
    }
    if let Some(n) = s.threads.filter(|&n| n > MAX_THREADS) {
        return fail(
            "threads",
            format!("{n} is more than the {MAX_THREADS} this program accepts"),
        );
    }
    if s.seeds.is_empty() {
        return fail("seeds", "needs at least one seed");
    }
    for (i, a) in s.seeds.iter().enumerate() {
        if s.seeds[..i].contains(a) {
            return fail(format!("seeds[{i}]"), format!("seed {a} is listed twice"));
        }
    }
    Ok(())
}

fn model(s: &Spec) -> Check {
    let m = &s.model;
    let cifar_resnet = matches!(
        m.arch,
        Arch::Resnet20Cifar | Arch::Resnet32Cifar | Arch::Resnet56Cifar
    );
    if m.shortcut.is_some() && !cifar_resnet {
        return fail(
            "model.shortcut",
            "only CIFAR ResNets have a shortcut option",
        );
    }
    if let Some(n) = m.num_classes {
        let needed = s.dataset.name.num_classes();
        // ImageNet's count depends on the class list: checked against the data set
        // before a run (preflight).
        let floor = if s.dataset.name == DatasetName::Imagenet {
            1
        } else {
            needed
        };
        if n < floor {
            return fail(
                "model.num_classes",
                format!(
                    "{n} is fewer than the {needed} classes of {:?}",
                    s.dataset.name
                ),
            );
        }
        if n > MAX_CLASSES {
            return fail(
                "model.num_classes",
                format!("{n} is more than the {MAX_CLASSES} this program accepts"),
            );
        }
    }
    let expected = m.arch.dataset();
    if s.dataset.name != expected {
        return fail(
            "dataset.name",
            format!("{:?} is trained on {expected:?} in this project", m.arch),
        );
    }
    if let Some(w) = &m.widths {
        let allowed: &[&str] = match m.arch {
            Arch::Vgg16Cifar => &["convs", "hidden"],
            Arch::Resnet20Cifar | Arch::Resnet32Cifar | Arch::Resnet56Cifar | Arch::Resnet18 => {
                &["stages", "inner"]
            }
            Arch::Fcn32s => &["convs", "fc6", "fc7"],
        };
        let present = [
            ("convs", w.convs.is_some()),
            ("stages", w.stages.is_some()),
            ("inner", w.inner.is_some()),
            ("hidden", w.hidden.is_some()),
            ("fc6", w.fc6.is_some()),
            ("fc7", w.fc7.is_some()),
        ];
        let lists = [
            ("convs", w.convs.clone().unwrap_or_default()),
            ("stages", w.stages.clone().unwrap_or_default()),
            ("inner", w.inner.clone().unwrap_or_default()),
            ("hidden", w.hidden.into_iter().collect()),
            ("fc6", w.fc6.into_iter().collect()),
            ("fc7", w.fc7.into_iter().collect()),
        ];
        for (key, v) in lists {
            if let Some(i) = v.iter().position(|&c| c > MAX_WIDTH) {
                return fail(
                    format!("model.widths.{key}[{i}]"),
                    format!(
                        "{} channels is more than the {MAX_WIDTH} this program accepts",
                        v[i]
                    ),
                );
            }
        }
        for (key, set) in present {
            if set && !allowed.contains(&key) {
                return fail(
                    format!("model.widths.{key}"),
                    format!(
                        "{:?} has no `{key}` widths (it takes {})",
                        m.arch,
                        allowed.join(", ")
                    ),
                );
            }
        }
        // The architecture checks lengths and values; its field names are relative.
        super::network::model_config(s).map_err(|e| match &e {
            models::ModelError::WrongLength { field, .. }
            | models::ModelError::NonPositive { field, .. }
            | models::ModelError::Invalid { field, .. } => {
                let msg = e.to_string();
                let msg = msg
                    .split_once(": ")
                    .map_or(msg.clone(), |(_, m)| m.to_string());
                (format!("model.widths.{field}"), msg)
            }
        })?;
    }
    Ok(())
}

fn dataset(s: &Spec) -> Check {
    let d = &s.dataset;
    if d.root.as_os_str().is_empty() {
        return fail("dataset.root", "must name a folder");
    }
    if d.train_limit == Some(0) {
        return fail("dataset.train_limit", "must be at least 1");
    }
    if d.name == DatasetName::Cifar10 && d.validation_split >= 50_000 {
        return fail(
            "dataset.validation_split",
            format!("{} leaves no CIFAR-10 training images", d.validation_split),
        );
    }
    if d.name != DatasetName::Imagenet {
        if d.class_list.is_some() {
            return fail("dataset.class_list", "applies to imagenet only");
        }
        if d.val_labels.is_some() {
            return fail("dataset.val_labels", "applies to imagenet only");
        }
    }
    Ok(())
}

fn train(t: &TrainSpec) -> Check {
    if t.epochs == 0 {
        return fail("train.epochs", "must be at least 1");
    }
    if t.batch_size == 0 {
        return fail("train.batch_size", "must be at least 1");
    }
    if t.eval_batch_size == 0 {
        return fail("train.eval_batch_size", "must be at least 1");
    }
    let o = &t.optimizer;
    positive_f("train.optimizer.lr", o.lr)?;
    in_unit("train.optimizer.momentum", o.momentum)?;
    if !(o.weight_decay.is_finite() && o.weight_decay >= 0.0) {
        return fail(
            "train.optimizer.weight_decay",
            format!("must be >= 0, found {}", o.weight_decay),
        );
    }
    if o.nesterov && o.momentum == 0.0 {
        return fail(
            "train.optimizer.nesterov",
            "Nesterov momentum needs momentum > 0",
        );
    }
    let l = &t.lr_schedule;
    match l.kind {
        ScheduleName::MultiStep => {
            if l.milestones.is_empty() {
                return fail(
                    "train.lr_schedule.milestones",
                    "multi_step needs at least one milestone",
                );
            }
            for (i, &m) in l.milestones.iter().enumerate() {
                if m == 0 || m >= t.epochs {
                    return fail(
                        format!("train.lr_schedule.milestones[{i}]"),
                        format!(
                            "must be between 1 and epochs - 1 ({}), found {m}",
                            t.epochs - 1
                        ),
                    );
                }
                if i > 0 && m <= l.milestones[i - 1] {
                    return fail(
                        format!("train.lr_schedule.milestones[{i}]"),
                        "milestones must increase",
                    );
                }
            }
            positive_f("train.lr_schedule.gamma", l.gamma)?;
        }
        _ if !l.milestones.is_empty() => {
            return fail(
                "train.lr_schedule.milestones",
                "only multi_step uses milestones",
            )
        }
        _ => {}
    }
    if !(l.min_lr.is_finite() && l.min_lr >= 0.0 && l.min_lr < o.lr) {
        return fail(
            "train.lr_schedule.min_lr",
            format!("must be in [0, lr), found {}", l.min_lr),
        );
    }
    if !(l.warmup_epochs.is_finite() && l.warmup_epochs >= 0.0 && l.warmup_epochs < t.epochs as f64)
    {
        return fail(
            "train.lr_schedule.warmup_epochs",
            format!("must be in [0, epochs), found {}", l.warmup_epochs),
        );
    }
    Ok(())
}

fn prune(s: &Spec, p: &PruneSpec) -> Check {
    p.check(s).map(|_| ())
}
