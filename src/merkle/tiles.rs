//! Tile coordinates and paths of the C2SP `tlog-tiles` read API.
//!
//! A tile is 256 consecutive node hashes of one tree level (or, for an entry bundle, 256
//! consecutive entries): tile `n` at level `l` holds the hashes of the complete subtrees
//! of height `8l` with indices `256n ..< 256n + width`. Paths are `tile/<L>/<N>[.p/<W>]`
//! and `tile/entries/<N>[.p/<W>]`, `<N>` in three-digit groups, all but the last prefixed
//! with `x` (`1234067` is `x001/x234/067`).
//!
//! Parsing is strict: every tile has exactly one path, so a cache or a file server keyed by
//! path never holds two copies, and no path names a file outside the tile tree.

use super::NodeId;

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u16 = 256;
/// Tree levels one tile spans: a tile at level `l` holds node hashes of height `8l`.
pub const TILE_HEIGHT: u8 = 8;
/// Highest level a path may name (the specification's bound; levels above 7 are empty in
/// any log whose size fits in 64 bits).
pub const MAX_TILE_LEVEL: u8 = 63;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TileKind {
    /// Node hashes of height `8 × level`.
    Hashes {
        /// The tile level, 0 to [`MAX_TILE_LEVEL`].
        level: u8,
    },
    /// Entries, each behind a big-endian `u16` length (an "entry bundle").
    Entries,
}

/// One tile: what it holds, its index within its level, and its width (1 to 256; below
/// 256 it is a partial tile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    /// Hashes of a level, or entries.
    pub kind: TileKind,
    /// Index within the level.
    pub index: u64,
    /// Number of hashes or entries, 1 to [`TILE_WIDTH`].
    pub width: u16,
}

/// Why a path is not a tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TilePathError {
    /// It does not start with `tile/`.
    #[error("not under tile/")]
    NotATile,
    /// The level is not a decimal from 0 to 63 without leading zeros, nor `entries`.
    #[error("the level is not 0 to 63 (without leading zeros) nor `entries`")]
    Level,
    /// The index is not three-digit groups, all but the last after an `x`, without a
    /// leading zero group, within 64 bits.
    #[error("the tile index is not x-prefixed three-digit groups (canonical, within 64 bits)")]
    Index,
    /// The `.p/<W>` suffix is not a width from 1 to 255 without leading zeros.
    #[error("the partial width is not 1 to 255 (without leading zeros)")]
    Width,
}

impl Tile {
    /// The tile's path, as the API serves it (without a leading `/`).
    #[must_use]
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".to_owned(),
        };
        let mut path = format!("tile/{level}/{}", index_path(self.index));
        if self.width < TILE_WIDTH {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// Parses a tile path (without a leading `/`).
    ///
    /// # Errors
    /// [`TilePathError`], naming the part that is wrong.
    pub fn parse(path: &str) -> Result<Self, TilePathError> {
        let rest = path.strip_prefix("tile/").ok_or(TilePathError::NotATile)?;
        let (level, rest) = rest.split_once('/').ok_or(TilePathError::Level)?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let level = decimal(level, 2).ok_or(TilePathError::Level)?;
            match u8::try_from(level) {
                Ok(level) if level <= MAX_TILE_LEVEL => TileKind::Hashes { level },
                _ => return Err(TilePathError::Level),
            }
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => (index, parse_width(width)?),
            None => (rest, TILE_WIDTH),
        };
        let index = parse_index(index).ok_or(TilePathError::Index)?;
        Ok(Self { kind, index, width })
    }

    /// The node hashes a hash tile holds, in order; `None` for an entry bundle, and for a
    /// level whose nodes cannot exist in a log whose size fits in 64 bits.
    #[must_use]
    pub fn nodes(&self) -> Option<impl Iterator<Item = NodeId>> {
        let TileKind::Hashes { level } = self.kind else {
            return None;
        };
        let height = level.checked_mul(TILE_HEIGHT).filter(|h| *h < 64)?;
        let first = self.index.checked_mul(u64::from(TILE_WIDTH))?;
        first.checked_add(u64::from(self.width))?;
        Some((0..u64::from(self.width)).map(move |i| NodeId {
            level: height,
            index: first + i,
        }))
    }

    /// The entries an entry bundle holds (`None` for a hash tile, or past 64 bits).
    #[must_use]
    pub fn entries(&self) -> Option<std::ops::Range<u64>> {
        if self.kind != TileKind::Entries {
            return None;
        }
        let first = self.index.checked_mul(u64::from(TILE_WIDTH))?;
        Some(first..first.checked_add(u64::from(self.width))?)
    }

    /// Whether a log of `size` entries holds the whole tile: its last hash (or entry) is
    /// a complete subtree of the tree of that size.
    #[must_use]
    pub fn within(&self, size: u64) -> bool {
        let height = match self.kind {
            TileKind::Hashes { level } => match level.checked_mul(TILE_HEIGHT) {
                Some(h) if h < 64 => h,
                _ => return false,
            },
            TileKind::Entries => 0,
        };
        let complete = size >> height;
        self.index
            .checked_mul(u64::from(TILE_WIDTH))
            .and_then(|first| first.checked_add(u64::from(self.width)))
            .is_some_and(|end| end <= complete)
    }
}

/// `<N>` as three-digit groups, all but the last after an `x`.
fn index_path(index: u64) -> String {
    let mut groups = vec![index % 1000];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let last = groups.len() - 1;
    let mut out = String::new();
    for (i, g) in groups.iter().rev().enumerate() {
        if i < last {
            out.push_str(&format!("x{g:03}/"));
        } else {
            out.push_str(&format!("{g:03}"));
        }
    }
    out
}

/// Parses `<N>`: canonical only (no leading `x000` group), so each index has one path.
fn parse_index(s: &str) -> Option<u64> {
    let groups: Vec<&str> = s.split('/').collect();
    let (last, leading) = groups.split_last()?;
    let mut index: u64 = 0;
    for (i, g) in leading.iter().enumerate() {
        let digits = g.strip_prefix('x')?;
        let value = three_digits(digits)?;
        if i == 0 && value == 0 {
            return None;
        }
        index = index.checked_mul(1000)?.checked_add(value)?;
    }
    index.checked_mul(1000)?.checked_add(three_digits(last)?)
}

fn three_digits(s: &str) -> Option<u64> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A decimal of at most `max_digits` digits, without leading zeros.
fn decimal(s: &str, max_digits: usize) -> Option<u64> {
    (s.len() <= max_digits).then(|| crate::encoding::canonical_u64(s))?
}

fn parse_width(s: &str) -> Result<u16, TilePathError> {
    match decimal(s, 3).and_then(|w| u16::try_from(w).ok()) {
        Some(w) if (1..TILE_WIDTH).contains(&w) => Ok(w),
        _ => Err(TilePathError::Width),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(level: u8, index: u64, width: u16) -> Tile {
        Tile {
            kind: TileKind::Hashes { level },
            index,
            width,
        }
    }

    #[test]
    fn paths_round_trip_as_the_specification_writes_them() {
        let cases = [
            (hashes(0, 1_234_067, 256), "tile/0/x001/x234/067"),
            (hashes(0, 0, 256), "tile/0/000"),
            (hashes(2, 999, 17), "tile/2/999.p/17"),
            (hashes(63, 1000, 1), "tile/63/x001/000.p/1"),
            (
                Tile {
                    kind: TileKind::Entries,
                    index: u64::MAX,
                    width: 255,
                },
                "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255",
            ),
        ];
        for (tile, path) in cases {
            assert_eq!(tile.path(), path);
            assert_eq!(Tile::parse(path), Ok(tile), "{path}");
        }
    }

    #[test]
    fn every_non_canonical_or_hostile_path_is_refused() {
        use TilePathError::*;
        let cases = [
            ("tiles/0/000", NotATile),
            ("/tile/0/000", NotATile),
            ("tile/00/000", Level),
            ("tile/64/000", Level),
            ("tile/-1/000", Level),
            ("tile/data/000", Level),
            ("tile/0", Level),
            ("tile/0/00", Index),
            ("tile/0/0000", Index),
            ("tile/0/x000/001", Index),
            ("tile/0/001/002", Index),
            ("tile/0/x001", Index),
            ("tile/0/x001/", Index),
            ("tile/0/../000", Index),
            ("tile/0/x018/x446/x744/x073/x709/x551/616", Index),
            ("tile/0/x001/x001/x001/x001/x001/x001/x001/001", Index),
            ("tile/0/+01", Index),
            ("tile/0/000.p/0", Width),
            ("tile/0/000.p/256", Width),
            ("tile/0/000.p/07", Width),
            ("tile/0/000.p/", Width),
            ("tile/0/000.p/1/", Width),
            ("tile/entries/000.p/x", Width),
        ];
        for (path, want) in cases {
            assert_eq!(Tile::parse(path), Err(want), "{path}");
        }
    }

    #[test]
    fn a_tile_is_within_a_tree_only_when_its_last_node_is_complete() {
        // The specification's example: a tree of 70,000 entries.
        let size = 70_000;
        assert!(hashes(0, 272, 256).within(size));
        assert!(!hashes(0, 273, 256).within(size));
        assert!(hashes(0, 273, 112).within(size));
        assert!(!hashes(0, 273, 113).within(size));
        assert!(hashes(1, 0, 256).within(size));
        assert!(hashes(1, 1, 17).within(size));
        assert!(!hashes(1, 1, 18).within(size));
        assert!(hashes(2, 0, 1).within(size));
        assert!(!hashes(2, 0, 2).within(size));
        assert!(!hashes(8, 0, 1).within(u64::MAX));
        assert!(!hashes(0, u64::MAX, 256).within(u64::MAX));
        let level1: Vec<NodeId> = hashes(1, 1, 2).nodes().expect("nodes").collect();
        assert_eq!(
            level1,
            [
                NodeId {
                    level: 8,
                    index: 256
                },
                NodeId {
                    level: 8,
                    index: 257
                }
            ]
        );
        assert!(hashes(8, 0, 1).nodes().is_none());
        let bundle = Tile {
            kind: TileKind::Entries,
            index: 2,
            width: 3,
        };
        assert_eq!(bundle.entries(), Some(512..515));
        assert!(bundle.within(515) && !bundle.within(514));
    }
}
