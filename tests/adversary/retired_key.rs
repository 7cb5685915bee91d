//! A thief of a retired key: it can sign events dated inside the key's window, but not get
//! them logged before the key retired.

use crate::story::*;
use crate::{fails_under, passes_under};

#[test]
fn backdates_an_action_with_the_retired_gateway_key() {
    // The action claims 10.4 s, inside the key's window (retired at 50 s), but entered the
    // log after a checkpoint signed at 1 000 s.
    fails_under(&logged_late(6), retire_gateway_key, "A2");
}

#[test]
fn honest_event_logged_before_the_key_retired_passes() {
    passes_under(&logged_late(9), retire_gateway_key);
}
