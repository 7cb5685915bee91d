use std::collections::BTreeMap;

use ciborium::Value;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::*;

fn hex(s: &str) -> Vec<u8> {
    crate::encoding::hex_decode(&s.replace(' ', "")).expect("hex")
}

fn parse(s: &str) -> Result<Value, CborError> {
    parse_value(&hex(s), Limits::default())
}

#[test]
fn accepts_canonical_items() {
    for s in [
        "00",
        "17",
        "1818",
        "18ff",
        "190100",
        "1a00010000",
        "1b0000000100000000",
        "20",
        "3bffffffffffffffff",
        "40",
        "4401020304",
        "60",
        "6161",
        "80",
        "a0",
        "a2 6161 01 6162 02",
        "a2 01 00 6161 00",
        "f4",
        "f5",
        "f6",
        "82 01 82 02 03",
    ] {
        let b = hex(s);
        let v = parse_value(&b, Limits::default()).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(value_to_vec(&v).expect("encode"), b, "{s}");
    }
}

#[test]
fn every_structural_rejection() {
    use CborError as E;
    let cases: &[(&str, CborError)] = &[
        ("", E::Truncated { offset: 0 }),
        ("18", E::Truncated { offset: 1 }),
        ("4401", E::Truncated { offset: 1 }),
        ("00 00", E::TrailingBytes { offset: 1 }),
        ("1817", E::NonShortestInteger { offset: 0 }),
        ("1900ff", E::NonShortestInteger { offset: 0 }),
        ("1a0000ffff", E::NonShortestInteger { offset: 0 }),
        ("1b00000000ffffffff", E::NonShortestInteger { offset: 0 }),
        ("3817", E::NonShortestInteger { offset: 0 }),
        ("5801 00", E::NonShortestInteger { offset: 0 }),
        ("5f 41 00 ff", E::IndefiniteLength { offset: 0 }),
        ("9f ff", E::IndefiniteLength { offset: 0 }),
        ("bf ff", E::IndefiniteLength { offset: 0 }),
        ("1c", E::Reserved { offset: 0 }),
        ("fc", E::Reserved { offset: 0 }),
        ("ff", E::UnexpectedBreak { offset: 0 }),
        ("a2 6162 01 6161 02", E::UnsortedKeys { offset: 4 }),
        ("a2 6161 01 01 02", E::UnsortedKeys { offset: 4 }),
        ("a2 6161 01 6161 02", E::DuplicateKey { offset: 4 }),
        ("c1 00", E::Tag { offset: 0, tag: 1 }),
        ("f93c00", E::Float { offset: 0 }),
        ("fa3f800000", E::Float { offset: 0 }),
        ("fb3ff0000000000000", E::Float { offset: 0 }),
        (
            "f7",
            E::UnsupportedSimple {
                offset: 0,
                value: 23,
            },
        ),
        (
            "f0",
            E::UnsupportedSimple {
                offset: 0,
                value: 16,
            },
        ),
        (
            "f820",
            E::UnsupportedSimple {
                offset: 0,
                value: 24,
            },
        ),
        ("62 c328", E::InvalidUtf8 { offset: 0 }),
        ("9b 00000001 00000000", E::Truncated { offset: 0 }),
        ("bb 00000001 00000000", E::Truncated { offset: 0 }),
    ];
    for (s, want) in cases {
        assert_eq!(parse(s).as_ref(), Err(want), "{s}");
    }
}

#[test]
fn limits() {
    let deep = format!("{}00", "81".repeat(17));
    assert_eq!(
        parse(&deep),
        Err(CborError::TooDeep {
            offset: 17,
            max: 16
        })
    );
    assert!(parse(&format!("{}00", "81".repeat(16))).is_ok());
    let shallow = Limits::default().with_max_depth(2);
    assert!(parse_value(&hex("818100"), shallow).is_ok());
    assert_eq!(
        parse_value(&hex("81818100"), shallow),
        Err(CborError::TooDeep { offset: 3, max: 2 })
    );
    let big = vec![0x40; 10];
    let small = Limits::default().with_max_len(9);
    assert_eq!(
        parse_value(&big, small),
        Err(CborError::TooLarge { len: 10, max: 9 })
    );
    let mut at_limit = vec![0x59, 0xff, 0xfd];
    at_limit.resize(DEFAULT_MAX_LEN, 0);
    assert!(parse_value(&at_limit, Limits::default()).is_ok());
    at_limit.push(0);
    assert!(matches!(
        parse_value(&at_limit, Limits::default()),
        Err(CborError::TooLarge { .. })
    ));
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    zed: u64,
    a: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    maybe: Option<i64>,
    list: Vec<bool>,
}

#[test]
fn typed_round_trip_sorts_keys_and_rejects_schema_errors() {
    let s = Sample {
        zed: 300,
        a: "x".into(),
        maybe: Some(-5),
        list: vec![true],
    };
    let b = to_vec(&s).expect("encode");
    // Keys by encoded bytes: "a" (6161) < "zed" (63…) < "list" (64…) < "maybe" (65…).
    assert_eq!(
        b,
        hex("a4 6161 6178 637a6564 19012c 646c697374 81f5 656d61796265 24")
    );
    assert_eq!(from_slice::<Sample>(&b), Ok(s));
    // Unknown field, missing field, wrong type.
    let unknown = hex("a4 6161 6178 637a6564 00 646c697374 80 656578747261 00");
    let r = from_slice::<Sample>(&unknown);
    assert!(matches!(r, Err(CborError::Schema(_))), "{r:?}");
    let missing = hex("a2 6161 6178 637a6564 00");
    assert!(matches!(
        from_slice::<Sample>(&missing),
        Err(CborError::Schema(_))
    ));
    let mistyped = hex("a3 6161 01 637a6564 00 646c697374 80");
    assert!(matches!(
        from_slice::<Sample>(&mistyped),
        Err(CborError::Schema(_))
    ));
    // An explicit null where the canonical form omits the field.
    let null = hex("a4 6161 6178 637a6564 00 646c697374 80 656d61796265 f6");
    assert_eq!(from_slice::<Sample>(&null), Err(CborError::NotCanonical));
}

#[test]
fn encoder_refuses_what_has_no_canonical_form() {
    assert!(matches!(
        value_to_vec(&Value::Float(1.0)),
        Err(CborError::Float { .. })
    ));
    let tagged = Value::Tag(1, Box::new(Value::Null));
    assert!(matches!(
        value_to_vec(&tagged),
        Err(CborError::Tag { tag: 1, .. })
    ));
    let dup = Value::Map(vec![
        (Value::Null, Value::Null),
        (Value::Null, Value::Bool(true)),
    ]);
    assert!(matches!(
        value_to_vec(&dup),
        Err(CborError::DuplicateKey { .. })
    ));
    assert!(matches!(to_vec(&1.5f64), Err(CborError::Float { .. })));
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(|n| Value::Integer(n.into())),
        any::<i64>().prop_map(|n| Value::Integer(n.into())),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        ".{0,20}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,8}", inner.clone(), 0..8).prop_map(
                |m: BTreeMap<String, Value>| {
                    Value::Map(m.into_iter().map(|(k, v)| (Value::Text(k), v)).collect())
                }
            ),
            // Keys of any type, arrays and maps included; colliding keys dropped.
            proptest::collection::vec((inner.clone(), inner), 0..6).prop_map(|pairs| {
                let mut seen = std::collections::HashSet::new();
                Value::Map(
                    pairs
                        .into_iter()
                        .filter(|(k, _)| seen.insert(value_to_vec(k).expect("encode")))
                        .collect(),
                )
            }),
        ]
    })
}

proptest! {
    #[test]
    fn decode_then_encode_is_identity(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(v) = parse_value(&bytes, Limits::default()) {
            prop_assert_eq!(value_to_vec(&v).expect("re-encode"), bytes);
        }
    }

    #[test]
    fn encode_then_decode_is_identity(v in arb_value()) {
        let b = value_to_vec(&v).expect("encode");
        let back = parse_value(&b, Limits::default()).expect("canonical output parses");
        prop_assert_eq!(value_to_vec(&back).expect("re-encode"), b);
    }
}

proptest! {
    /// The serde writer and the value-tree writer agree byte for byte, and the typed reader
    /// reads back what the value reader does.
    #[test]
    fn serde_writer_matches_value_writer(v in arb_value()) {
        let b = value_to_vec(&v).expect("encode");
        prop_assert_eq!(to_vec(&v).expect("serde encode"), b.clone());
        let back: Value = from_slice(&b).expect("typed decode");
        prop_assert_eq!(value_to_vec(&back).expect("re-encode"), b);
    }
}

#[test]
fn serde_writer_sorts_nested_maps_and_refuses_collisions() {
    let mut inner = BTreeMap::new();
    inner.insert("bb".to_string(), 1u8);
    inner.insert("c".to_string(), 2u8);
    let mut outer = BTreeMap::new();
    outer.insert("zz".to_string(), inner.clone());
    outer.insert("a".to_string(), inner);
    // Text keys sort by encoded bytes: shorter first, so "c" before "bb".
    assert_eq!(
        to_vec(&outer).expect("encode"),
        hex("a2 6161 a2 6163 02 626262 01 627a7a a2 6163 02 626262 01")
    );
    let colliding = vec![("k", 1u8), ("k", 2u8)].into_iter().collect::<Vec<_>>();
    struct Pairs(Vec<(&'static str, u8)>);
    impl Serialize for Pairs {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap as _;
            let mut m = s.serialize_map(None)?;
            for (k, v) in &self.0 {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }
    assert!(matches!(
        to_vec(&Pairs(colliding)),
        Err(CborError::DuplicateKey { .. })
    ));
    assert!(matches!(
        to_vec(&Value::Tag(2, Box::new(Value::Null))),
        Err(CborError::Tag { .. })
    ));
}

/// A map whose serializer announces `announced` entries (or none) and writes `keys`.
struct Announcing {
    announced: Option<usize>,
    keys: Vec<u16>,
}

impl Serialize for Announcing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut m = s.serialize_map(self.announced)?;
        // Written in reverse, so the writer has to sort after fixing the head.
        for k in self.keys.iter().rev() {
            m.serialize_entry(k, &[*k])?;
        }
        m.end()
    }
}

#[test]
fn serde_writer_fixes_a_wrong_or_missing_count() {
    for keys in [vec![1u16, 2], (0..30).collect(), (0..300).collect()] {
        let want = Value::Map(
            keys.iter()
                .map(|&k| {
                    let k = Value::Integer(k.into());
                    (k.clone(), Value::Array(vec![k]))
                })
                .collect(),
        );
        let want = value_to_vec(&want).expect("encode");
        for announced in [None, Some(0), Some(2), Some(30), Some(300), Some(70_000)] {
            let m = Announcing {
                announced,
                keys: keys.clone(),
            };
            assert_eq!(to_vec(&m).expect("encode"), want, "{announced:?}");
        }
    }
}

/// A container whose second field stays encoded.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Shallow<'a> {
    a: u8,
    #[serde(borrow)]
    b: Vec<Raw<'a>>,
    c: String,
}

#[test]
fn raw_items_keep_their_exact_bytes_and_are_checked() {
    // {"a": 1, "b": [{"x": [1, "é"]}, h'00ff'], "c": "z"}
    let bytes = hex("a3 6161 01 6162 82 a1 6178 82 01 62c3a9 42 00ff 6163 617a");
    let s: Shallow<'_> = from_slice_borrowed(&bytes, Limits::default()).expect("decodes");
    assert_eq!(s.b[0].bytes(), hex("a1 6178 82 01 62c3a9"));
    assert_eq!(s.b[1].bytes(), hex("42 00ff"));
    assert_eq!(to_vec(&s).expect("encodes"), bytes, "written back verbatim");
    // Inside a raw item the structural rules still apply (here: a non-shortest head, and
    // invalid UTF-8), because the whole input is checked first.
    let long_head = hex("a3 6161 01 6162 81 1801 6163 617a");
    assert!(matches!(
        from_slice_borrowed::<Shallow<'_>>(&long_head, Limits::default()),
        Err(CborError::NonShortestInteger { .. })
    ));
    let bad_text = hex("a3 6161 01 6162 81 62c328 6163 617a");
    assert!(matches!(
        from_slice_borrowed::<Shallow<'_>>(&bad_text, Limits::default()),
        Err(CborError::InvalidUtf8 { .. })
    ));
}

#[test]
fn round_trip_scratch_is_reused_but_never_kept_large() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Blob {
        #[serde(with = "serde_bytes_like")]
        b: Vec<u8>,
    }
    mod serde_bytes_like {
        pub(crate) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
        pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<u8>, D::Error> {
            serde::Deserialize::deserialize(d).map(|b: &[u8]| b.to_vec())
        }
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sparse {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        a: Option<u8>,
    }
    let limits = Limits::default().with_max_len(1 << 24);
    for len in [10, 3 << 20, 7, 1 << 20, 0] {
        let blob = Blob { b: vec![0xa5; len] };
        let bytes = to_vec(&blob).expect("encode");
        assert_eq!(
            from_slice_with::<Blob>(&bytes, limits),
            Ok(blob),
            "len {len}"
        );
        // Right after, the reused buffer still catches what only the round trip sees: an
        // explicit null for a field that is omitted when absent.
        assert_eq!(
            from_slice_with::<Sparse>(&hex("a1 6161 f6"), limits),
            Err(CborError::NotCanonical)
        );
        SCRATCH.with(|s| assert!(s.borrow().capacity() <= SCRATCH_KEEP, "len {len}"));
    }
}

/// The round trip leaves raw items in place instead of copying them; whenever the encoder
/// would move bytes across one (sorting map entries, placing a head late) or use one as a
/// map key, it must fall back to a full encoding and still give the right answer.
#[test]
fn raw_items_checked_in_place_fall_back_when_bytes_move() {
    use serde::ser::{SerializeMap as _, SerializeSeq as _};

    #[derive(Debug, Serialize, Deserialize)]
    struct Unordered<'a> {
        #[serde(borrow)]
        bb: Raw<'a>,
        a: u8,
    }
    struct RawKeyed<'a>(Raw<'a>);
    impl Serialize for RawKeyed<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(2))?;
            m.serialize_entry(&self.0, &1u8)?;
            m.serialize_entry(&0u8, &2u8)?;
            m.end()
        }
    }
    struct Overcounted<'a>(Raw<'a>);
    impl Serialize for Overcounted<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut q = s.serialize_seq(Some(300))?;
            q.serialize_element(&self.0)?;
            q.end()
        }
    }
    struct Unsized<'a>(Raw<'a>);
    impl Serialize for Unsized<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut q = s.serialize_seq(None)?;
            q.serialize_element(&self.0)?;
            q.end()
        }
    }
    // {"a": 1, "bb": h'00ff'}, with the fields declared the other way round: sorting moves
    // the raw item.
    let z = hex("a2 6161 01 626262 42 00ff");
    let u: Unordered<'_> = from_slice_borrowed(&z, Limits::default()).expect("decodes");
    assert_eq!((u.a, u.bb.bytes()), (1, &hex("42 00ff")[..]));
    // {0: 2, h'00ff': 1}, the raw item as a key.
    let x = hex("a2 00 02 42 00ff 01");
    let key: Raw<'_> = from_slice_borrowed(&x[3..6], Limits::default()).expect("raw");
    assert_eq!(encodes_to(&RawKeyed(key), &x), Ok(true));
    // [h'00ff'] from a sequence of unannounced length: the head is placed in front of it.
    let y = hex("81 42 00ff");
    let item: Raw<'_> = from_slice_borrowed(&y[1..], Limits::default()).expect("raw");
    assert_eq!(encodes_to(&Unsized(item), &y), Ok(true));
    // A sequence that announced too many items: its head shrinks when placed, so the noted
    // gap would point past the output. The fallback answers; nothing panics.
    assert_eq!(encodes_to(&Overcounted(item), &y), Ok(true));
    // Without a fallback a raw item is compared by place: the same bytes elsewhere are not
    // the input's.
    assert_eq!(encodes_to(&vec![item], &y), Ok(true));
    assert_eq!(encodes_to(&vec![item], &y.clone()), Ok(false));
}

#[test]
fn unchecked_reads_stay_bounded_and_fall_back_to_the_named_error() {
    // The accepting path reads before the structural check: 60 000 nested arrays inside a
    // raw item must end in the check's error, not in a stack overflow.
    let mut deep = hex("a3 6161 01 6162 81");
    deep.extend(std::iter::repeat_n(0x81, 60_000));
    deep.push(0x00);
    deep.extend(hex("6163 617a"));
    let r = from_slice_borrowed::<Shallow<'_>>(&deep, Limits::default());
    assert!(
        matches!(r, Err(CborError::TooDeep { max: 16, .. })),
        "{r:?}"
    );
    // An empty array at exactly the deepest level the check allows: the bounded reader
    // refuses it, the long way accepts it.
    let at_limit = format!("a3 6161 01 6162 81 {}80 6163 617a", "81".repeat(14));
    let at_limit = hex(&at_limit);
    let s: Shallow<'_> = from_slice_borrowed(&at_limit, Limits::default()).expect("ok");
    assert_eq!(s.b.len(), 1);
    let too_deep = format!("a3 6161 01 6162 81 {}80 6163 617a", "81".repeat(15));
    assert!(matches!(
        from_slice_borrowed::<Shallow<'_>>(&hex(&too_deep), Limits::default()),
        Err(CborError::TooDeep { .. })
    ));
    // A float head cut short at the end of a raw item: the reader is told the input
    // ends, not an end past it (the bundle fuzz target found the slice that panicked).
    let cut_float = hex("a3 6161 01 6162 81 fa00");
    assert!(matches!(
        from_slice_borrowed::<Shallow<'_>>(&cut_float, Limits::default()),
        Err(CborError::Float { offset: 7 })
    ));
    // Typed input that reads fine but does not round-trip gets the structural error.
    let long_zed = hex("a3 6161 6178 637a6564 1800 646c697374 80");
    assert_eq!(
        from_slice::<Sample>(&long_zed),
        Err(CborError::NonShortestInteger { offset: 9 })
    );
    let unsorted = hex("a3 637a6564 00 6161 6178 646c697374 80");
    assert_eq!(
        from_slice::<Sample>(&unsorted),
        Err(CborError::UnsortedKeys { offset: 6 })
    );
}
