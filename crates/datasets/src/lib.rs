//! Data sets of the C2S2 experiments: CIFAR-10 from the official binary release or an
//! image-folder layout (decoded once, in parallel, into a cache file), the standard
//! CIFAR augmentation, a seeded validation split carved from the training set, and
//! seeded batching into `tch` tensors.

mod augment;
mod batches;
mod cache;
mod cifar10;
mod error;
mod image_set;

pub use augment::{Augment, Normalization, CIFAR10_NORMALIZATION};
pub use batches::{Batch, BatchIter, BatchStream};
pub use cifar10::{Cifar10, Cifar10Source, CIFAR10_CLASSES};
pub use error::DatasetError;
pub use image_set::ImageSet;
