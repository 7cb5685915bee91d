//! Arbitrary text into the trust policy parser (the governance section included): no
//! panic; a policy that loads judges arbitrary ids as humans or not without panicking, and
//! its tiers never get more lenient going up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::event::Level;
use warrant_ledger::trust::{TrustPolicy, glob_match};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok(policy) = TrustPolicy::from_toml(text) {
        let g = policy.governance();
        for id in text.split_whitespace().take(8) {
            let _ = g.is_human(id, Some(id));
            let _ = g.is_own_domain(id);
        }
        let (high, critical) = (g.tier(Level::High), g.tier(Level::Critical));
        assert!(!high.mfa || critical.mfa);
        assert!(critical.approval_quorum >= high.approval_quorum);
    }
    // Patterns and texts from the input, split at its first newline.
    if let Some((pattern, rest)) = text.split_once('\n') {
        let _ = glob_match(pattern, rest);
    }
});
