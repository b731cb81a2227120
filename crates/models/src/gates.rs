use std::cell::RefCell;
use std::collections::BTreeMap;
use tch::Tensor;

/// Per-channel multiplicative gates on named feature maps: the hook through which the
/// pruner's pruning layers (1x1 depth-wise kernels) act on a network.
///
/// A gate for layer `name` is a tensor of shape `[C]`, where `C` is that layer's output
/// width; the model multiplies the layer's post-activation feature map `[N, C, H, W]` by
/// it, channel by channel. With no gate set a model computes exactly its plain forward.
///
/// A gate may also sit before the activation (on the BN output): [`GatePlacement`].
#[derive(Debug, Default)]
pub struct ChannelGates {
    gates: RefCell<BTreeMap<String, Tensor>>,
    placement: RefCell<BTreeMap<String, GatePlacement>>,
}

/// Where a gate multiplies its layer's feature map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatePlacement {
    /// conv -> BN -> ReLU -> gate (a zero entry zeroes the channel exactly).
    #[default]
    AfterRelu,
    /// conv -> BN -> gate -> ReLU.
    BeforeRelu,
}

impl ChannelGates {
    /// Sets (or replaces) the gate of layer `name`.
    pub fn set(&self, name: &str, gate: Tensor) {
        self.set_placed(name, gate, GatePlacement::AfterRelu);
    }

    /// Sets the gate of layer `name` at the given placement.
    pub fn set_placed(&self, name: &str, gate: Tensor, placement: GatePlacement) {
        self.gates.borrow_mut().insert(name.to_string(), gate);
        self.placement
            .borrow_mut()
            .insert(name.to_string(), placement);
    }

    /// Removes the gate of layer `name`, returning it.
    pub fn remove(&self, name: &str) -> Option<Tensor> {
        self.placement.borrow_mut().remove(name);
        self.gates.borrow_mut().remove(name)
    }

    /// Removes every gate.
    pub fn clear(&self) {
        self.gates.borrow_mut().clear();
        self.placement.borrow_mut().clear();
    }

    /// Names of the layers that currently carry a gate.
    pub fn names(&self) -> Vec<String> {
        self.gates.borrow().keys().cloned().collect()
    }

    /// conv output (after BN, if any) -> gate if placed before ReLU -> ReLU -> gate if
    /// placed after: what every architecture calls on a prunable feature map.
    pub fn activate(&self, name: &str, pre_activation: Tensor) -> Tensor {
        let placement = self.placement.borrow().get(name).copied();
        match placement {
            None => pre_activation.relu(),
            Some(GatePlacement::AfterRelu) => self.apply(name, pre_activation.relu()),
            Some(GatePlacement::BeforeRelu) => self.apply(name, pre_activation).relu(),
        }
    }

    /// BN -> (gate) -> ReLU for a prunable conv followed by batch norm. A gate g >= 0
    /// commutes with the ReLU and scales BN's affine output per channel, so it is folded
    /// into BN's gamma and beta (g * gamma, g * beta): the same function, in training and
    /// evaluation mode, at the cost of a `[C]` product instead of a pass over the feature
    /// map. Gates must be non-negative (pruning layers project to [0, 1]).
    pub fn bn_relu(&self, name: &str, bn: &tch::nn::BatchNorm, xs: &Tensor, train: bool) -> Tensor {
        let gates = self.gates.borrow();
        let Some(g) = gates.get(name) else {
            return tch::nn::ModuleT::forward_t(bn, xs, train).relu();
        };
        let scale = |t: &Option<Tensor>| t.as_ref().map(|t| t * g);
        Tensor::batch_norm(
            xs,
            scale(&bn.ws).as_ref(),
            scale(&bn.bs).as_ref(),
            Some(&bn.running_mean),
            Some(&bn.running_var),
            train,
            crate::blocks::BN_MOMENTUM,
            crate::blocks::BN_EPS,
            true,
        )
        .relu()
    }

    /// Applies the gate of `name` to `xs` (`[N, C, H, W]` or `[N, C]`), if one is set.
    pub fn apply(&self, name: &str, xs: Tensor) -> Tensor {
        match self.gates.borrow().get(name) {
            None => xs,
            Some(g) => {
                let mut shape = vec![1i64, -1];
                shape.resize(xs.dim(), 1);
                let g = g.view(shape.as_slice());
                // Without autograd (evaluation) the product can reuse the feature map.
                if !xs.requires_grad() && !g.requires_grad() {
                    let mut xs = xs;
                    let _ = xs.g_mul_(&g);
                    xs
                } else {
                    xs * g
                }
            }
        }
    }
}
