//! Data sets of the C2S2 experiments: CIFAR-10 from the official binary release or an
//! image-folder layout (decoded once, in parallel, into a cache file) with the standard
//! CIFAR augmentation; ImageNet from its class folders, decoded batch by batch with the
//! standard random-resized-crop / centre-crop transforms; seeded validation splits
//! carved from the training set, and seeded batching into `tch` tensors behind one
//! interface, [`BatchSource`].

mod augment;
mod batches;
mod cache;
mod cifar10;
mod decode;
mod error;
mod image_folder;
mod image_set;
mod imagenet;
mod source;
mod split;
mod voc;

pub use augment::{Augment, Normalization, CIFAR10_NORMALIZATION};
pub use batches::{Batch, BatchIter};
pub use cifar10::{Cifar10, Cifar10Source, CIFAR10_CLASSES};
pub use decode::{decode_rgb, decode_rgb_bytes, DECODER_ID};
pub use error::DatasetError;
pub use image_folder::{class_folders, is_image_file, read_class_list, ImageFolder};
pub use image_set::ImageSet;
pub use imagenet::{
    FolderSource, ImageNet, ImageNetTransform, IMAGENET_HINT, IMAGENET_NORMALIZATION,
};
pub use source::{AugmentedSet, BatchResult, BatchSource, BatchStream, Batches};
pub use voc::{
    decode_mask, SegmentationSet, SegmentationSource, Voc, VOC_CLASSES, VOC_HINT, VOC_IGNORE,
};
