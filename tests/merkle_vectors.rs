//! Every published SHA-256 Merkle vector: transparency-dev/merkle (all inclusion and
//! consistency cases, positive and negative), sigsum-rs inclusion, the Sigsum end-to-end proof
//! and the Tessera 15-entry log's tiles.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;
use warrant_ledger::merkle::{
    ConsistencyProof, Hash, HashProfile, InclusionProof, MemoryNodes, TreeHead, prove_consistency,
    prove_inclusion, root_at, verify_consistency, verify_inclusion,
};

const SHA: HashProfile = HashProfile::Sha256;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("vector base64")
}

/// A hash field of a vector; `None` when it is not 32 bytes, which a decoder must reject.
fn hash(s: &str) -> Option<Hash> {
    Hash::try_from_slice(&b64(s)).ok()
}

/// A root field. Some cases use ASCII placeholders ("don't care 1") where the root does not
/// matter; our API takes only 32-byte hashes, so a placeholder maps to the SHA-256 of its
/// bytes: equal placeholders stay equal and the case still tests what it was written for.
fn root(s: &str) -> Option<Hash> {
    let bytes = b64(s);
    if bytes.starts_with(b"don't care") {
        return Some(Hash::from_bytes(sha2_256(&bytes)));
    }
    Hash::try_from_slice(&bytes).ok()
}

fn hashes(v: &[String]) -> Option<Vec<Hash>> {
    v.iter().map(|s| hash(s)).collect()
}

/// The RFC 6962 golden tree used by transparency-dev/merkle's vectors.
fn golden_tree() -> MemoryNodes {
    let leaves = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    let mut nodes = MemoryNodes::new(SHA);
    for hex in leaves {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        nodes.append(&bytes);
    }
    nodes
}

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![vectors().join(dir)];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("vector dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Go's encoding/json writes a nil slice as `null`; it stands for the empty value.
fn null_as_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionCase {
    leaf_idx: u64,
    tree_size: u64,
    #[serde(deserialize_with = "null_as_empty")]
    root: String,
    #[serde(deserialize_with = "null_as_empty")]
    leaf_hash: String,
    #[serde(deserialize_with = "null_as_empty")]
    proof: Vec<String>,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyCase {
    size1: u64,
    size2: u64,
    #[serde(deserialize_with = "null_as_empty")]
    root1: String,
    #[serde(deserialize_with = "null_as_empty")]
    root2: String,
    #[serde(deserialize_with = "null_as_empty")]
    proof: Vec<String>,
    want_err: bool,
}

fn check_inclusion(c: &InclusionCase) -> bool {
    let (Some(root), Some(leaf), Some(path)) =
        (root(&c.root), hash(&c.leaf_hash), hashes(&c.proof))
    else {
        return false;
    };
    let proof = InclusionProof {
        leaf_index: c.leaf_idx,
        tree_size: c.tree_size,
        path,
    };
    verify_inclusion(
        SHA,
        &leaf,
        &proof,
        &TreeHead {
            size: c.tree_size,
            root,
        },
    )
    .is_ok()
}

#[test]
fn transparency_dev_inclusion_all_cases() {
    let golden = golden_tree();
    let files = json_files("transparency-dev-merkle/testdata/inclusion");
    assert_eq!(files.len(), 98, "every vendored inclusion case is run");
    let mut positives = 0;
    for f in &files {
        let c: InclusionCase = serde_json::from_slice(&fs::read(f).expect("read")).expect("json");
        assert_eq!(check_inclusion(&c), !c.want_err, "{}", f.display());
        if !c.want_err && c.tree_size <= 8 && c.leaf_idx < c.tree_size {
            // Generation must reproduce the published path byte for byte.
            let p = prove_inclusion(SHA, &golden, c.leaf_idx, c.tree_size).expect("prove");
            assert_eq!(Some(p.path), hashes(&c.proof), "{}", f.display());
            positives += 1;
        }
    }
    assert!(positives >= 5, "happy paths were regenerated: {positives}");
}

fn check_consistency(c: &ConsistencyCase) -> bool {
    let (Some(r1), Some(r2), Some(path)) = (root(&c.root1), root(&c.root2), hashes(&c.proof))
    else {
        return false;
    };
    let proof = ConsistencyProof {
        old_size: c.size1,
        new_size: c.size2,
        path,
    };
    let (old, new) = (
        TreeHead {
            size: c.size1,
            root: r1,
        },
        TreeHead {
            size: c.size2,
            root: r2,
        },
    );
    verify_consistency(SHA, &proof, &old, &new).is_ok()
}

#[test]
fn transparency_dev_consistency_all_cases() {
    let golden = golden_tree();
    let files = json_files("transparency-dev-merkle/testdata/consistency");
    assert_eq!(files.len(), 98, "every vendored consistency case is run");
    let mut positives = 0;
    for f in &files {
        let c: ConsistencyCase = serde_json::from_slice(&fs::read(f).expect("read")).expect("json");
        assert_eq!(check_consistency(&c), !c.want_err, "{}", f.display());
        let real_roots = hash(&c.root1).is_some() && hash(&c.root2).is_some();
        if !c.want_err && c.size2 <= 8 && real_roots {
            let p = prove_consistency(SHA, &golden, c.size1, c.size2).expect("prove");
            assert_eq!(Some(p.path), hashes(&c.proof), "{}", f.display());
            assert_eq!(
                hash(&c.root1),
                Some(root_at(SHA, &golden, c.size1).expect("root"))
            );
            assert_eq!(
                hash(&c.root2),
                Some(root_at(SHA, &golden, c.size2).expect("root"))
            );
            positives += 1;
        }
    }
    assert!(positives >= 5, "happy paths were regenerated: {positives}");
}

#[test]
fn golden_roots_for_every_size() {
    let golden = golden_tree();
    let want = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    for (size, hex) in want.iter().enumerate() {
        assert_eq!(
            root_at(SHA, &golden, size as u64).expect("root").to_hex(),
            *hex
        );
    }
}

#[derive(Deserialize)]
struct SigsumCase {
    leaf_hash: String,
    leaf_index: u64,
    tree_size: u64,
    root_hash: String,
    inclusion_path: Vec<String>,
}

fn sigsum_cases(name: &str) -> Vec<SigsumCase> {
    serde_json::from_slice(&fs::read(vectors().join("sigsum-rs").join(name)).expect("read"))
        .expect("json")
}

fn check_sigsum(c: &SigsumCase) -> bool {
    let (Some(root), Some(leaf), Some(path)) = (
        hash(&c.root_hash),
        hash(&c.leaf_hash),
        hashes(&c.inclusion_path),
    ) else {
        return false;
    };
    let proof = InclusionProof {
        leaf_index: c.leaf_index,
        tree_size: c.tree_size,
        path,
    };
    verify_inclusion(
        SHA,
        &leaf,
        &proof,
        &TreeHead {
            size: c.tree_size,
            root,
        },
    )
    .is_ok()
}

#[test]
fn sigsum_rs_inclusion_valid_and_invalid() {
    let valid = sigsum_cases("inclusion-valid.json");
    let invalid = sigsum_cases("inclusion-invalid.json");
    assert!(!valid.is_empty() && !invalid.is_empty());
    for (i, c) in valid.iter().enumerate() {
        assert!(check_sigsum(c), "valid case {i}");
    }
    for (i, c) in invalid.iter().enumerate() {
        assert!(!check_sigsum(c), "invalid case {i}");
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn sigsum_end_to_end_inclusion() {
    let text =
        fs::read_to_string(vectors().join("sigsum-proof-e2e/proof.sigsum-v2.txt")).expect("read");
    let field = |k: &str| -> Vec<&str> {
        text.lines()
            .filter_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
            .collect()
    };
    // leaf line: "<keyhash> <signature>"; the leaf is checksum ‖ signature ‖ keyhash.
    let leaf_fields: Vec<&str> = field("leaf")[0].split(' ').collect();
    let message = sha2_256(b"Hello, Sigsum!\n");
    let checksum = sha2_256(&message);
    let mut leaf = checksum.to_vec();
    leaf.extend(unhex(leaf_fields[1]));
    leaf.extend(unhex(leaf_fields[0]));
    let path = field("node_hash")
        .iter()
        .map(|h| Hash::try_from_slice(&unhex(h)).expect("32 bytes"))
        .collect();
    let proof = InclusionProof {
        leaf_index: field("leaf_index")[0].parse().expect("index"),
        tree_size: field("size")[0].parse().expect("size"),
        path,
    };
    let root = Hash::try_from_slice(&unhex(field("root_hash")[0])).expect("root");
    let head = TreeHead {
        size: proof.tree_size,
        root,
    };
    verify_inclusion(SHA, &SHA.leaf_hash(&leaf), &proof, &head).expect("sigsum proof verifies");
    let mut bad = proof.clone();
    bad.leaf_index -= 1;
    assert!(verify_inclusion(SHA, &SHA.leaf_hash(&leaf), &bad, &head).is_err());
}

fn sha2_256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

/// Reads the Tessera entry bundle of width 15: big-endian u16 length ‖ bytes, repeated.
pub fn tessera_entries() -> Vec<Vec<u8>> {
    let bundle = fs::read(vectors().join("tessera-testdata-log/log/tile/entries/000.p/15"))
        .expect("entry bundle");
    let mut out = Vec::new();
    let mut rest = bundle.as_slice();
    while let [hi, lo, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*hi, *lo]));
        out.push(tail[..n].to_vec());
        rest = &tail[n..];
    }
    out
}

#[test]
fn tessera_tiles_match_our_leaf_hashes_and_roots() {
    let entries = tessera_entries();
    let words =
        "one two three four five six seven eit nain ten ileven twelf threeten fourten fivten";
    assert_eq!(
        entries,
        words
            .split(' ')
            .map(|w| w.as_bytes().to_vec())
            .collect::<Vec<_>>()
    );
    let mut nodes = MemoryNodes::new(SHA);
    for e in &entries {
        nodes.append(e);
    }
    for width in 1..=15u64 {
        let tile =
            fs::read(vectors().join(format!("tessera-testdata-log/log/tile/0/000.p/{width}")))
                .expect("tile");
        assert_eq!(tile.len(), 32 * width as usize);
        for (i, chunk) in tile.chunks(32).enumerate() {
            assert_eq!(
                chunk,
                SHA.leaf_hash(&entries[i]).as_bytes(),
                "tile {width} leaf {i}"
            );
        }
    }
    let root = |n| root_at(SHA, &nodes, n).expect("root");
    assert_eq!(
        root(1).as_bytes().to_vec(),
        b64("0Nc2CrefWKseHj/mStd+LqC8B+NrX0btIiPt2SmN+ek=")
    );
    assert_eq!(
        root(15).as_bytes().to_vec(),
        b64("rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=")
    );
}
