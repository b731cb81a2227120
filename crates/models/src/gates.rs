use std::cell::RefCell;
use std::collections::BTreeMap;
use tch::Tensor;

/// Per-channel multiplicative gates on named feature maps: the hook through which the
/// pruner's pruning layers (1x1 depth-wise kernels) act on a network.
///
/// A gate for layer `name` is a tensor of shape `[C]`, where `C` is that layer's output
/// width; the model multiplies the layer's post-activation feature map `[N, C, H, W]` by
/// it, channel by channel. With no gate set a model computes exactly its plain forward.
#[derive(Debug, Default)]
pub struct ChannelGates {
    gates: RefCell<BTreeMap<String, Tensor>>,
}

impl ChannelGates {
    /// Sets (or replaces) the gate of layer `name`.
    pub fn set(&self, name: &str, gate: Tensor) {
        self.gates.borrow_mut().insert(name.to_string(), gate);
    }

    /// Removes the gate of layer `name`, returning it.
    pub fn remove(&self, name: &str) -> Option<Tensor> {
        self.gates.borrow_mut().remove(name)
    }

    /// Removes every gate.
    pub fn clear(&self) {
        self.gates.borrow_mut().clear();
    }

    /// Names of the layers that currently carry a gate.
    pub fn names(&self) -> Vec<String> {
        self.gates.borrow().keys().cloned().collect()
    }

    /// Applies the gate of `name` to `xs` (`[N, C, H, W]` or `[N, C]`), if one is set.
    pub fn apply(&self, name: &str, xs: Tensor) -> Tensor {
        match self.gates.borrow().get(name) {
            None => xs,
            Some(g) => {
                let mut shape = vec![1i64, -1];
                shape.resize(xs.dim(), 1);
                xs * g.view(shape.as_slice())
            }
        }
    }
}
