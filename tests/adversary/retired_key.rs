//! A thief of a retired key: it can sign events dated inside the key's window, but not get
//! them logged before the key retired.

use crate::story::*;
use crate::{fails_under, passes_under};
use warrant_ledger::demo::workloads::*;
use warrant_ledger::trust::TrustDocument;

/// The story with a checkpoint signed at T0 + 1 000 s after `split` events were logged.
fn logged_late(split: usize) -> Story {
    let mut story = Story::new();
    story.clock_ms = Some(T0 + 1_000_000);
    story.checkpoint_after = Some(split);
    story.play(&|_| {}, &mut |_, _| {});
    story
}

fn gateway_retired_at_50_s(doc: &mut TrustDocument) {
    let gw = doc
        .emitters
        .iter_mut()
        .find(|e| e.workload == GATEWAY)
        .expect("gateway");
    gw.keys[0].not_after = Some(T0 + 50_000);
}

#[test]
fn backdates_an_action_with_the_retired_gateway_key() {
    // The action claims 10.4 s, inside the key's window, but entered the log after a
    // checkpoint signed at 1 000 s.
    fails_under(&logged_late(6), gateway_retired_at_50_s, "A2");
}

#[test]
fn honest_event_logged_before_the_key_retired_passes() {
    passes_under(&logged_late(9), gateway_retired_at_50_s);
}
