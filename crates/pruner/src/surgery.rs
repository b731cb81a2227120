//! Physical channel removal: from a set of masks, build the smaller network of the same
//! architecture and copy the kept slices — filters, biases, BN parameters and running
//! statistics, and the matching input slices of every consumer.
use std::collections::BTreeMap;

use models::{ModelConfig, Network};
use tch::nn::VarStore;
use tch::Tensor;

use crate::{ChannelMask, MaskSet, PruneError};

/// A physically pruned network.
pub struct PrunedModel {
    pub config: ModelConfig,
    pub vs: VarStore,
    pub net: Box<dyn Network>,
}

/// Checks `masks` against `cfg`'s prunable layers.
fn check_masks(cfg: &ModelConfig, masks: &MaskSet) -> Result<(), PruneError> {
    let layers = all_prunable(cfg);
    for (name, m) in masks {
        let l = layers
            .iter()
            .find(|l| &l.name == name)
            .ok_or_else(|| PruneError::UnknownLayer(name.clone()))?;
        if m.len() as i64 != l.channels {
            return Err(PruneError::MaskLength {
                layer: name.clone(),
                expected: l.channels,
                found: m.len(),
            });
        }
        if m.kept() == 0 {
            return Err(PruneError::EmptyMask {
                layer: name.clone(),
            });
        }
    }
    Ok(())
}

/// Prunable layers and stage-coupled groups.
fn all_prunable(cfg: &ModelConfig) -> Vec<models::PrunableLayer> {
    let mut v = cfg.prunable_layers();
    v.extend(cfg.stage_groups());
    v
}

/// Sets each mask as the binary gate of its layer: the masked network, which computes
/// what the pruned one will.
pub fn apply_masks_as_gates(net: &dyn Network, masks: &MaskSet, device: tch::Device) {
    for (name, m) in masks {
        net.gates().set(name, m.to_tensor(device));
    }
}

/// Builds the network with the masked channels removed and copies the kept weights.
/// Masks may name prunable layers and stage-coupled groups ([`ModelConfig::stage_groups`]);
/// layers without a mask keep all their channels.
pub fn remove_channels(
    cfg: &ModelConfig,
    vs: &VarStore,
    masks: &MaskSet,
) -> Result<PrunedModel, PruneError> {
    check_masks(cfg, masks)?;
    let mut new_cfg = cfg.clone();
    // Tensor name -> (axis, kept indices) for every sliced axis.
    let mut slices: BTreeMap<String, Vec<(i64, Tensor)>> = BTreeMap::new();
    for layer in all_prunable(cfg) {
        let Some(mask) = masks.get(&layer.name) else {
            continue;
        };
        new_cfg = new_cfg.keep_channels(&layer.name, &mask.kept_indices())?;
        let idx = Tensor::from_slice(&mask.kept_indices()).to_device(vs.device());
        for axis in layer.producers.iter().chain(&layer.consumers) {
            slices
                .entry(axis.tensor.clone())
                .or_default()
                .push((axis.dim, idx.shallow_clone()));
        }
    }
    let new_vs = VarStore::new(vs.device());
    let net = new_cfg.build(&new_vs.root())?;
    let src = vs.variables();
    tch::no_grad(|| -> Result<(), PruneError> {
        for (name, mut dst) in new_vs.variables() {
            let s = src.get(&name).ok_or_else(|| PruneError::Surgery {
                tensor: name.clone(),
                reason: "missing in the source model".into(),
            })?;
            let mut t = s.shallow_clone();
            for (dim, idx) in slices.get(&name).map(Vec::as_slice).unwrap_or(&[]) {
                t = t.index_select(*dim, idx);
            }
            if t.size() != dst.size() {
                return Err(PruneError::Surgery {
                    tensor: name,
                    reason: format!(
                        "sliced to {:?}, the pruned model expects {:?}",
                        t.size(),
                        dst.size()
                    ),
                });
            }
            dst.f_copy_(&t)?;
        }
        Ok(())
    })?;
    Ok(PrunedModel {
        config: new_cfg,
        vs: new_vs,
        net,
    })
}

/// Masks that keep everything, for every prunable layer of `cfg`.
pub fn full_masks(cfg: &ModelConfig) -> MaskSet {
    cfg.prunable_layers()
        .into_iter()
        .map(|l| (l.name, ChannelMask::all(l.channels as usize)))
        .collect()
}
