//! What a client controls in a request to the ledger server or a witness: the path and
//! query, an `/add` body, an `add-checkpoint` body. No panic; a tile path that parses is
//! the one canonical path of its tile; an `/add` body that splits is exactly its envelopes,
//! back to back; a witness body that splits has at most 63 proof lines and ends in the
//! checkpoint it names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::internals::{server_route_ok, server_split_add_body, witness_request};
use warrant_ledger::merkle::Tile;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 3 == 2 {
        if let Some((_, proof_lines, checkpoint)) = witness_request(rest) {
            assert!(proof_lines <= 63);
            assert!(!checkpoint.is_empty() && rest.ends_with(checkpoint));
        }
    } else if mode % 3 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let (path, query) = match text.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (text, None),
        };
        let method = if mode % 2 == 0 { "GET" } else { "POST" };
        let _ = server_route_ok(method, path, query);
        if let Some(tile_path) = path.strip_prefix('/') {
            if let Ok(tile) = Tile::parse(tile_path) {
                assert_eq!(tile.path(), tile_path);
            }
        }
    } else if let Some(items) = server_split_add_body(rest, usize::from(mode) * 64) {
        assert!(!items.is_empty());
        assert_eq!(items.concat(), rest);
        assert!(items.iter().all(|i| i.len() <= usize::from(mode) * 64));
    }
});
