//! The standard proof readers and the witness policy parser on arbitrary bytes: no panic;
//! a receipt that parses writes back to exactly its bytes; a tlog-proof that parses reads
//! back the same after writing; a witness policy that parses judges an empty note without
//! panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::receipt::{CoseReceipt, TlogProof};
use warrant_ledger::trust::WitnessPolicy;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(r) = CoseReceipt::parse(rest) {
                assert_eq!(r.to_bytes(), rest);
            }
        }
        1 => {
            if let Ok(p) = TlogProof::parse(rest) {
                assert_eq!(TlogProof::parse(&p.to_text()).as_ref(), Ok(&p));
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(rest)
                && let Ok(policy) = WitnessPolicy::parse(text, &[])
            {
                let _ = policy.judge("example.com/log\n1\nAAAA\n", &[]);
            }
        }
    }
});
