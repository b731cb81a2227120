//! Class-balanced, seeded validation splits.

use crate::DatasetError;

/// Picks `n_val` of the items with class `labels[i]` for validation, the same number
/// from every class as far as the classes allow, by a seeded shuffle per class and a
/// round-robin over classes. Returns `(train, val)` indices, each ascending; the same
/// seed always gives the same split.
pub(crate) fn balanced_split<L: Copy + Into<u64>>(
    labels: &[L],
    n_val: usize,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), DatasetError> {
    if n_val >= labels.len() {
        return Err(DatasetError::Invalid(format!(
            "validation split of {n_val} images leaves nothing to train on ({} images)",
            labels.len()
        )));
    }
    let n_classes = labels
        .iter()
        .map(|&l| l.into())
        .max()
        .map_or(0, |m| m as usize + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l.into() as usize].push(i);
    }
    let mut rng = crate::batches::seeded_rng(seed, 0x5EED_5911);
    for idx in &mut by_class {
        rand::seq::SliceRandom::shuffle(idx.as_mut_slice(), &mut rng);
    }
    let mut val = Vec::with_capacity(n_val);
    let mut depth = 0;
    while val.len() < n_val {
        for idx in &by_class {
            if val.len() < n_val && depth < idx.len() {
                val.push(idx[depth]);
            }
        }
        depth += 1;
    }
    let mut is_val = vec![false; labels.len()];
    val.iter().for_each(|&i| is_val[i] = true);
    val.sort_unstable();
    let train: Vec<usize> = (0..labels.len()).filter(|&i| !is_val[i]).collect();
    Ok((train, val))
}
