//! The witness part of the trust policy, in C2SP `tlog-policy` form: the witnesses an
//! auditor trusts (each a name and a `cosignature/v1` key), groups with thresholds, and the
//! quorum a checkpoint's cosignatures must meet.
//!
//! ```text
//! witness w1 witness.example/w1+3a1f09c2+BA…      (a cosignature/v1 key: type byte 0x04)
//! witness w2 witness.example/w2+91be0d47+BA…
//! group both all w1 w2                            (all, any, or k with 1 ≤ k ≤ n)
//! quorum both                                     (exactly one; `quorum none` asks nothing)
//! ```
//!
//! `log <vkey>` lines are allowed, as the format has them, but each must be a log the policy
//! already pins in `[[logs]]`: the logs are pinned there, with their origin and hash.

use std::collections::BTreeSet;

use super::PolicyError;
use crate::checkpoint::{CosignerVerifier, NoteSignature, NoteVerifier};

/// Most witnesses, groups and log lines each (the format asks implementations for ≥ 32).
pub const MAX_POLICY_ITEMS: usize = 256;

/// A witness the auditor trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedWitness {
    /// Its name in the policy (no meaning outside it).
    pub name: String,
    /// Its `cosignature/v1` key.
    pub key: CosignerVerifier,
    /// Where a log submits checkpoints to it (the policy line's optional URL).
    pub url: Option<String>,
}

/// A group member: a witness or an earlier group, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

/// A validated witness policy. The default is `quorum none`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WitnessPolicy {
    witnesses: Vec<PinnedWitness>,
    groups: Vec<Group>,
    /// `None` for `quorum none`.
    quorum: Option<Member>,
    logs: Vec<NoteVerifier>,
}

/// What a checkpoint's cosignatures amount to under a [`WitnessPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumReport {
    /// Whether the quorum is met.
    pub met: bool,
    /// The pinned witnesses with a valid cosignature on the checkpoint, by name.
    pub cosigned: Vec<String>,
    /// Pinned witnesses whose cosignature line did not verify (on another checkpoint, or
    /// forged): they do not count.
    pub invalid: Vec<String>,
    /// The quorum's name and rule, for messages (`"both: all of 2"`).
    pub rule: String,
}

/// "valid cosignatures by 1 pinned witness(es) (w1); the quorum both: all of 2 is not met",
/// then any cosignatures that did not verify: the one phrasing of a quorum for the audit
/// and the receipt verifier.
impl core::fmt::Display for QuorumReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names = if self.cosigned.is_empty() {
            "none".to_owned()
        } else {
            self.cosigned.join(", ")
        };
        let verdict = if self.met { "is met" } else { "is not met" };
        write!(
            f,
            "valid cosignatures by {} pinned witness(es) ({names}); the quorum {} {verdict}",
            self.cosigned.len(),
            self.rule
        )?;
        if !self.invalid.is_empty() {
            write!(
                f,
                "; cosignatures that do not verify on this checkpoint (not counted): {}",
                self.invalid.join(", ")
            )?;
        }
        Ok(())
    }
}

fn err(line: usize, reason: impl Into<String>) -> PolicyError {
    PolicyError::WitnessPolicy {
        line,
        reason: reason.into(),
    }
}

/// The format's character set: tab, newline, printable ASCII and any octet ≥ 0x80.
fn allowed(c: char) -> bool {
    c == '\t' || c == '\n' || (' '..='~').contains(&c) || !c.is_ascii()
}

/// A parser's state: what earlier lines defined.
#[derive(Default)]
struct Parser {
    policy: WitnessPolicy,
    names: Vec<(String, Member)>,
    used: BTreeSet<String>,
    keys: BTreeSet<[u8; 32]>,
    /// The keys of the logs pinned in `[[logs]]`.
    log_keys: BTreeSet<[u8; 32]>,
    quorum_seen: bool,
}

impl WitnessPolicy {
    /// Parses `tlog-policy` text; `log` lines must name keys among `pinned_logs`.
    ///
    /// # Errors
    /// [`PolicyError::WitnessPolicy`] with the 1-based line.
    pub fn parse(text: &str, pinned_logs: &[NoteVerifier]) -> Result<Self, PolicyError> {
        if let Some(c) = text.chars().find(|&c| !allowed(c)) {
            let line = text[..text.find(c).unwrap_or(0)].matches('\n').count() + 1;
            return Err(err(line, format!("character {c:?} is not allowed")));
        }
        let mut p = Parser {
            log_keys: pinned_logs.iter().map(|v| v.key().to_bytes()).collect(),
            ..Parser::default()
        };
        for (i, raw) in text.split('\n').enumerate() {
            let fields: Vec<&str> = raw.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
            if fields.first().is_none_or(|f| f.starts_with('#')) {
                continue;
            }
            p.line(&fields, pinned_logs).map_err(|r| err(i + 1, r))?;
        }
        if !p.quorum_seen {
            return Err(err(0, "no quorum line"));
        }
        Ok(p.policy)
    }

    /// The pinned witnesses.
    #[must_use]
    pub fn witnesses(&self) -> &[PinnedWitness] {
        &self.witnesses
    }

    /// Whether any cosignature is required (`false` for `quorum none`).
    #[must_use]
    pub const fn requires_cosignatures(&self) -> bool {
        self.quorum.is_some()
    }

    /// The log keys the policy's `log` lines name (each one pinned in `[[logs]]`).
    #[must_use]
    pub fn log_keys(&self) -> &[NoteVerifier] {
        &self.logs
    }

    /// Judges the cosignatures on the checkpoint `text` among `signatures`. Only a valid
    /// `cosignature/v1` line by a pinned witness's key over exactly this text counts, once
    /// per witness however many lines it has; lines by other keys are ignored.
    #[must_use]
    pub fn judge(&self, text: &str, signatures: &[NoteSignature]) -> QuorumReport {
        let mut cosigned = Vec::new();
        let mut invalid = Vec::new();
        let mut by_witness = Vec::with_capacity(self.witnesses.len());
        for w in &self.witnesses {
            let ok = match w.key.cosigned_time(text, signatures) {
                Ok(Some(_)) => true,
                Ok(None) => false,
                Err(_) => {
                    invalid.push(w.name.clone());
                    false
                }
            };
            if ok {
                cosigned.push(w.name.clone());
            }
            by_witness.push(ok);
        }
        // Groups only refer to earlier ones: one pass in order decides each.
        let mut by_group: Vec<bool> = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let n = g
                .members
                .iter()
                .filter(|m| satisfied(**m, &by_witness, &by_group))
                .count();
            by_group.push(n >= g.threshold);
        }
        let met = self
            .quorum
            .is_none_or(|q| satisfied(q, &by_witness, &by_group));
        QuorumReport {
            met,
            cosigned,
            invalid,
            rule: self.rule(),
        }
    }

    fn rule(&self) -> String {
        match self.quorum {
            None => "none".to_owned(),
            Some(Member::Witness(i)) => format!("witness {}", self.witnesses[i].name),
            Some(Member::Group(i)) => {
                let g = &self.groups[i];
                format!("{}: {} of {}", g.name, g.threshold, g.members.len())
            }
        }
    }
}

fn satisfied(m: Member, witnesses: &[bool], groups: &[bool]) -> bool {
    match m {
        Member::Witness(i) => witnesses[i],
        Member::Group(i) => groups[i],
    }
}

impl Parser {
    fn line(&mut self, f: &[&str], pinned: &[NoteVerifier]) -> Result<(), String> {
        match f {
            ["log", key] | ["log", key, _] => self.log(key, pinned),
            ["witness", name, key] => self.witness(name, key, None),
            ["witness", name, key, url] => self.witness(name, key, Some(url)),
            ["group", name, threshold, members @ ..] => self.group(name, threshold, members),
            ["quorum", name] => self.quorum(name),
            ["log" | "witness" | "quorum" | "group", ..] => {
                Err(format!("wrong number of fields for {:?}", f[0]))
            }
            [other, ..] => Err(format!("unknown keyword {other:?}")),
            [] => Ok(()),
        }
    }

    fn log(&mut self, key: &str, pinned: &[NoteVerifier]) -> Result<(), String> {
        let v = NoteVerifier::parse(key).map_err(|e| format!("log key: {e}"))?;
        if !pinned.contains(&v) {
            return Err(format!("log {} is not pinned in [[logs]]", v.name()));
        }
        self.new_key(v.key().to_bytes())?;
        let logs = &mut self.policy.logs;
        if logs.len() == MAX_POLICY_ITEMS {
            return Err(format!("more than {MAX_POLICY_ITEMS} logs"));
        }
        logs.push(v);
        Ok(())
    }

    fn new_key(&mut self, key: [u8; 32]) -> Result<(), String> {
        if self.keys.insert(key) {
            Ok(())
        } else {
            Err("the same public key is listed twice".to_owned())
        }
    }

    fn new_name(&mut self, name: &str, member: Member) -> Result<(), String> {
        if name == "none" || self.names.iter().any(|(n, _)| n == name) {
            return Err(format!("the name {name:?} is reserved or already defined"));
        }
        self.names.push((name.to_owned(), member));
        Ok(())
    }

    fn witness(&mut self, name: &str, key: &str, url: Option<&str>) -> Result<(), String> {
        let key = CosignerVerifier::parse(key).map_err(|e| format!("witness key: {e}"))?;
        // The log signs its own timestamp as a cosignature/v1: pinned as a witness, the log
        // would witness itself.
        if self.log_keys.contains(key.key().as_bytes()) {
            return Err(format!("witness {name:?} has a pinned log's key"));
        }
        self.new_key(key.key().to_bytes())?;
        let at = self.policy.witnesses.len();
        if at == MAX_POLICY_ITEMS {
            return Err(format!("more than {MAX_POLICY_ITEMS} witnesses"));
        }
        self.new_name(name, Member::Witness(at))?;
        self.policy.witnesses.push(PinnedWitness {
            name: name.to_owned(),
            key,
            url: url.map(str::to_owned),
        });
        Ok(())
    }

    fn member(&mut self, name: &str) -> Result<Member, String> {
        let m = self
            .names
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| *m)
            .ok_or_else(|| format!("{name:?} is not defined on an earlier line"))?;
        // Each name is a member once in the whole policy: a witness counts in one way only.
        if !self.used.insert(name.to_owned()) {
            return Err(format!("{name:?} is already a group member"));
        }
        Ok(m)
    }

    fn group(&mut self, name: &str, threshold: &str, members: &[&str]) -> Result<(), String> {
        if members.is_empty() {
            return Err("a group needs at least one member".to_owned());
        }
        let n = members.len();
        let k = match threshold {
            "all" => n,
            "any" => 1,
            k => crate::encoding::canonical_u64(k)
                .and_then(|k| usize::try_from(k).ok())
                .filter(|k| (1..=n).contains(k))
                .ok_or_else(|| format!("threshold {k:?} is not all, any or 1 ≤ k ≤ {n}"))?,
        };
        let at = self.policy.groups.len();
        if at == MAX_POLICY_ITEMS {
            return Err(format!("more than {MAX_POLICY_ITEMS} groups"));
        }
        let members = members
            .iter()
            .map(|m| self.member(m))
            .collect::<Result<_, _>>()?;
        self.new_name(name, Member::Group(at))?;
        self.policy.groups.push(Group {
            name: name.to_owned(),
            threshold: k,
            members,
        });
        Ok(())
    }

    fn quorum(&mut self, name: &str) -> Result<(), String> {
        if std::mem::replace(&mut self.quorum_seen, true) {
            return Err("a second quorum line".to_owned());
        }
        let q = if name == "none" {
            None
        } else {
            let found = self.names.iter().find(|(n, _)| n == name);
            Some(
                found
                    .map(|(_, m)| *m)
                    .ok_or_else(|| format!("{name:?} is not defined on an earlier line"))?,
            )
        };
        self.policy.quorum = q;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::checkpoint::{Note, NoteSigner};

    fn signer(n: u8) -> NoteSigner {
        NoteSigner::new(&format!("w{n}.example"), SigningKey::from_bytes(&[n; 32])).expect("key")
    }

    fn line(n: u8) -> String {
        format!("witness w{n} {}\n", CosignerVerifier::from(&signer(n)))
    }

    fn log() -> NoteSigner {
        NoteSigner::new("example.com/log", SigningKey::from_bytes(&[99; 32])).expect("key")
    }

    fn parse(text: &str) -> Result<WitnessPolicy, PolicyError> {
        WitnessPolicy::parse(text, &[log().verifier()])
    }

    const TEXT: &str = "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    /// The note of `TEXT` signed by the log and cosigned by `by`.
    fn cosigned(by: &[u8]) -> Note {
        let mut note =
            Note::parse(&crate::checkpoint::sign(TEXT, &[&log()]).expect("sign")).expect("parse");
        for &n in by {
            note.add_cosignature(&signer(n), 1_700_000_000);
        }
        note
    }

    fn met(policy: &WitnessPolicy, by: &[u8]) -> bool {
        let note = cosigned(by);
        policy.judge(note.text(), note.signatures()).met
    }

    #[test]
    fn nested_groups_follow_the_format() {
        // X: 2 of w1 w2 w3; Y: any of w4 w5; quorum: both groups.
        let text = format!(
            "# comment\n{}{}{}group X 2 w1 w2 w3\n\n{}\t{}group Y any w4 w5\ngroup XY all X Y\nquorum XY\n",
            line(1),
            line(2),
            line(3),
            line(4),
            line(5)
        );
        let p = parse(&text).expect("valid");
        assert!(met(&p, &[1, 2, 4]));
        assert!(met(&p, &[1, 3, 5]));
        assert!(!met(&p, &[1, 4, 5]), "one of X");
        assert!(!met(&p, &[1, 2, 3]), "none of Y");
        assert!(!met(&p, &[]));
        assert!(parse("quorum none\n").expect("none").judge(TEXT, &[]).met);
    }

    #[test]
    fn duplicated_lines_and_unknown_witnesses_do_not_count() {
        let p = parse(&format!(
            "{}{}group g 2 w1 w2\nquorum g\n",
            line(1),
            line(2)
        ))
        .expect("p");
        // w1 twice and an unpinned w7: still one witness.
        assert!(!met(&p, &[1, 1, 7]));
        assert!(met(&p, &[1, 2]));
        // w2's cosignature of another checkpoint, pasted on this one, is invalid.
        let mut other = Note::parse(
            &crate::checkpoint::sign(&TEXT.replace("\n5\n", "\n6\n"), &[&log()]).expect("sign"),
        )
        .expect("parse");
        other.add_cosignature(&signer(2), 1);
        let mut note = cosigned(&[1]);
        note.put_signature(other.signatures()[1].clone());
        let report = p.judge(note.text(), note.signatures());
        assert!(!report.met);
        assert_eq!(report.cosigned, ["w1"]);
        assert_eq!(report.invalid, ["w2"]);
    }

    #[test]
    fn every_malformed_policy_is_refused_with_its_line() {
        let w1 = line(1);
        let note_key = format!("witness w1 {}\n", signer(1).verifier());
        let log_as_witness = format!("witness w9 {}\nquorum w9\n", CosignerVerifier::from(&log()));
        let unpinned_log = format!("log {}\nquorum none\n", signer(3).verifier());
        let cases: Vec<(String, usize)> = vec![
            (String::new(), 0),
            (w1.clone(), 0),
            (format!("{w1}quorum w1\nquorum w1\n"), 3),
            (format!("{w1}quorum w2\n"), 2),
            (format!("{w1}{w1}quorum w1\n"), 2),
            (
                format!("{w1}{}quorum w1\n", line(1).replace("w1 ", "w2 ")),
                2,
            ),
            (format!("{note_key}quorum w1\n"), 1),
            (log_as_witness, 1),
            (unpinned_log, 1),
            (format!("{w1}group g 2 w1\nquorum g\n"), 2),
            (format!("{w1}group g 0 w1\nquorum g\n"), 2),
            (format!("{w1}group g 01 w1\nquorum g\n"), 2),
            (format!("{w1}group g any\nquorum g\n"), 2),
            (format!("{w1}group g any w1 w1\nquorum g\n"), 2),
            (format!("{w1}group g any w1\ngroup h any w1\nquorum h\n"), 3),
            (format!("{w1}group none any w1\nquorum none\n"), 2),
            (format!("{w1}group g any h\ngroup h any w1\nquorum g\n"), 2),
            (format!("{w1}witness w2\nquorum w1\n"), 2),
            (format!("{w1}frobnicate\nquorum w1\n"), 2),
            (format!("{w1}quorum w1\r\n"), 2),
        ];
        for (text, at) in cases {
            match parse(&text) {
                Err(PolicyError::WitnessPolicy { line, .. }) => assert_eq!(line, at, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        // A pinned log's line, and URLs, are accepted.
        let ok = format!(
            "log {} https://log.example\n{}quorum w1\n",
            log().verifier(),
            line(1).replace('\n', " https://w1.example\n")
        );
        assert_eq!(parse(&ok).expect("valid").log_keys().len(), 1);
    }
}
