//! Labelled image files in the `split/<class>/<file>` layout of torchvision's
//! `ImageFolder` (ImageNet's `train/<wnid>/*.JPEG`), or a flat folder with a label file
//! (the raw ILSVRC-2012 validation tar).

use std::fs;
use std::path::{Path, PathBuf};

use crate::DatasetError;

/// File extensions read as images (case-insensitive).
const IMAGE_EXTENSIONS: [&str; 4] = ["jpeg", "jpg", "png", "bmp"];

/// Image files with class labels; a label indexes `classes`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFolder {
    /// Class names (folder names, e.g. WordNet ids) in label order.
    pub classes: Vec<String>,
    /// `(file, label)`, sorted by path.
    pub items: Vec<(PathBuf, u32)>,
}

/// Whether `p` names an image file this crate reads (by extension, case-insensitive):
/// the one rule of every loader and of the counts checked before a run.
pub fn is_image_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(DatasetError::io(dir))? {
        v.push(e.map_err(DatasetError::io(dir))?.path());
    }
    v.sort();
    Ok(v)
}

/// Reads a class list: one class name per line (a first token; the rest of the line,
/// e.g. the words of `synset_words.txt`, is ignored), in label order.
pub fn read_class_list(path: &Path) -> Result<Vec<String>, DatasetError> {
    let text = fs::read_to_string(path).map_err(DatasetError::io(path))?;
    let classes: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    if classes.is_empty() {
        return Err(DatasetError::Corrupt {
            path: path.to_path_buf(),
            reason: "the class list names no class".into(),
        });
    }
    Ok(classes)
}

/// The sorted names of the sub-folders of `dir` (torchvision's class order).
pub fn class_folders(dir: &Path) -> Result<Vec<String>, DatasetError> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
        .collect())
}

impl ImageFolder {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Scans `dir/<class>/*` for the given class order. A folder whose name is not in
    /// `classes` is an error (a subset of the classes may be present).
    pub fn scan(dir: &Path, classes: &[String]) -> Result<ImageFolder, DatasetError> {
        let mut items = Vec::new();
        for sub in sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()) {
            let name = sub.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let label =
                classes
                    .iter()
                    .position(|c| c == name)
                    .ok_or_else(|| DatasetError::Corrupt {
                        path: sub.clone(),
                        reason: format!(
                            "class folder '{name}' is not in the class list ({} classes)",
                            classes.len()
                        ),
                    })?;
            for f in sorted_entries(&sub)?
                .into_iter()
                .filter(|p| is_image_file(p))
            {
                items.push((f, label as u32));
            }
        }
        Self::checked(dir, classes, items)
    }

    /// A flat folder of images labelled by `labels_file`: lines `<file name> <label>`,
    /// the label being a class index or a class name; `#` starts a comment. Files of
    /// the folder missing from the label file are an error.
    pub fn scan_flat(
        dir: &Path,
        labels_file: &Path,
        classes: &[String],
    ) -> Result<ImageFolder, DatasetError> {
        let text = fs::read_to_string(labels_file).map_err(DatasetError::io(labels_file))?;
        let mut by_name = std::collections::HashMap::new();
        for (no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut tok = line.split_whitespace();
            let (Some(file), Some(label)) = (tok.next(), tok.next()) else {
                return Err(DatasetError::Corrupt {
                    path: labels_file.to_path_buf(),
                    reason: format!("line {}: expected '<file> <label>'", no + 1),
                });
            };
            let index = match label.parse::<usize>() {
                Ok(i) => Some(i),
                Err(_) => classes.iter().position(|c| c == label),
            };
            match index {
                Some(i) if i < classes.len() => {
                    by_name.insert(file.to_string(), i as u32);
                }
                _ => {
                    return Err(DatasetError::Corrupt {
                        path: labels_file.to_path_buf(),
                        reason: format!(
                            "line {}: label '{label}' is neither a class index below {} nor a class name",
                            no + 1,
                            classes.len()
                        ),
                    })
                }
            }
        }
        let mut items = Vec::new();
        for f in sorted_entries(dir)?
            .into_iter()
            .filter(|p| is_image_file(p))
        {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let label = *by_name.get(name).ok_or_else(|| DatasetError::Corrupt {
                path: labels_file.to_path_buf(),
                reason: format!("no label for {}", f.display()),
            })?;
            items.push((f, label));
        }
        Self::checked(dir, classes, items)
    }

    fn checked(
        dir: &Path,
        classes: &[String],
        items: Vec<(PathBuf, u32)>,
    ) -> Result<ImageFolder, DatasetError> {
        if items.is_empty() {
            return Err(DatasetError::Corrupt {
                path: dir.to_path_buf(),
                reason: "no image files (.jpeg, .jpg, .png, .bmp) found".into(),
            });
        }
        Ok(ImageFolder {
            classes: classes.to_vec(),
            items,
        })
    }

    /// A new folder view holding the items at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> ImageFolder {
        ImageFolder {
            classes: self.classes.clone(),
            items: indices.iter().map(|&i| self.items[i].clone()).collect(),
        }
    }

    /// Splits off `n_val` images for validation, class-balanced as far as the classes
    /// allow, by a seeded shuffle (see [`crate::ImageSet::split_validation`]).
    pub fn split_validation(
        &self,
        n_val: usize,
        seed: u64,
    ) -> Result<(ImageFolder, ImageFolder), DatasetError> {
        let labels: Vec<u32> = self.items.iter().map(|(_, l)| *l).collect();
        let (train, val) = crate::split::balanced_split(&labels, n_val, seed)?;
        Ok((self.subset(&train), self.subset(&val)))
    }
}
