//! The lagging table sync: a crash image taken at any moment opens to tables that find
//! every committed entry, and a clean close leaves nothing to replay. (Unit tests use a
//! lag of 64 entries so that small stores cross it many times.)

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::table::{HEADER, Kind, Table};
use super::{FaultHook, FileStore, KeysFn, Op, TABLE_SYNC_EVERY};
use crate::event::{EventId, TaskId};
use crate::merkle::HashProfile;
use crate::store::{NewEntry, Storage};

/// Entries are 40 bytes: event id, task id, a counter.
fn entry(i: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(40);
    b.extend_from_slice(&(u128::from(i) + 1).to_le_bytes());
    b.extend_from_slice(&(u128::from(i % 13) + 1).to_le_bytes());
    b.extend_from_slice(&i.to_le_bytes());
    b
}

fn keys() -> KeysFn {
    Arc::new(|b: &[u8]| {
        let id = EventId(uuid::Uuid::from_slice(b.get(..16)?).ok()?);
        let task = TaskId(uuid::Uuid::from_slice(b.get(16..32)?).ok()?);
        Some((id, Some(task)))
    })
}

fn append(store: &dyn Storage, from: u64, n: u64) {
    let bytes: Vec<Vec<u8>> = (from..from + n).map(entry).collect();
    let batch: Vec<NewEntry<'_>> = bytes
        .iter()
        .map(|b| {
            let (event_id, task) = (keys())(b).expect("keys");
            NewEntry {
                bytes: b,
                leaf: HashProfile::Blake3.leaf_hash(b),
                event_id,
                task,
            }
        })
        .collect();
    assert_eq!(store.append(&batch).expect("append"), from);
}

/// Every entry is found by id at its index, each task lists its entries, fsck is clean.
fn assert_consistent(store: &FileStore, size: u64) {
    assert_reader_sees(store, size);
    assert_eq!(store.fsck().expect("fsck").problem, None);
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn watermark(dir: &Path) -> u64 {
    Table::open(dir, Kind::Events, None, true)
        .expect("table")
        .watermark
}

const TABLES: [&str; 2] = ["events.tbl", "tasks.tbl"];

/// Keeps, for each table, a copy of what its last sync made durable: the oldest table file a
/// crash may leave (slots written since may all be lost).
struct SyncedTables {
    dir: std::path::PathBuf,
    copies: std::path::PathBuf,
}

impl FaultHook for SyncedTables {
    fn before(&self, op: Op, file: &str) -> std::io::Result<()> {
        if TABLES.contains(&file) {
            match op {
                // The hook runs before the sync: the file now is what the sync persists.
                Op::Sync => {
                    std::fs::copy(self.dir.join(file), self.copies.join(file))?;
                }
                // A grown table was synced under a temporary name, and is renamed into place
                // now: that file, as it is, is what a crash leaves from here on.
                Op::Rename => {
                    let grown = self.dir.join(super::grow::grown_name(file));
                    std::fs::copy(grown, self.copies.join(file))?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[test]
fn crash_images_replay_the_lag_and_a_clean_close_leaves_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copies = tempfile::tempdir().expect("synced tables");
    let hook = Arc::new(SyncedTables {
        dir: dir.path().to_path_buf(),
        copies: copies.path().to_path_buf(),
    });
    drop(FileStore::create(dir.path(), HashProfile::Blake3, keys(), None).expect("create"));
    // `create` synced the empty tables: that is the first synced state.
    for t in TABLES {
        std::fs::copy(dir.path().join(t), copies.path().join(t)).expect("copy");
    }
    let store = FileStore::open(dir.path(), keys(), Some(hook.clone())).expect("open");
    let mut size = 0;
    for (step, n) in [1u64, 7, 30, 64, 100, 3, 250, 9, 64, 500, 2, 1000]
        .into_iter()
        .enumerate()
    {
        append(&store, size, n);
        size += n;
        // The tables lag the log by at most an interval and one batch.
        let lag = size - watermark(dir.path());
        assert!(lag <= TABLE_SYNC_EVERY + n, "step {step}: lag {lag}");
        // A crash image: today's log, the tables as last synced, except that each table's
        // header page (rewritten at every commit) did reach the disk: any subset of the
        // unsynced writes may, and this one is the most demanding.
        let image = tempfile::tempdir().expect("image");
        copy_dir(dir.path(), image.path());
        for t in TABLES {
            let mut synced = std::fs::read(copies.path().join(t)).expect("read");
            let now = std::fs::read(dir.path().join(t)).expect("read");
            if synced.len() == now.len() {
                synced[..HEADER as usize].copy_from_slice(&now[..HEADER as usize]);
            }
            std::fs::write(image.path().join(t), synced).expect("write");
        }
        let reopened = FileStore::open(image.path(), keys(), None).expect("open image");
        assert_consistent(&reopened, size);
    }
    assert!(watermark(dir.path()) < size, "the lag was exercised");
    drop(store);
    assert_eq!(
        watermark(dir.path()),
        size,
        "a clean close syncs the tables"
    );
    let before = snapshot(dir.path());
    let ops = Arc::new(RecordOps::default());
    let store = FileStore::open(dir.path(), keys(), Some(ops.clone())).expect("reopen");
    assert_consistent(&store, size);
    drop(store);
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(
        ops.seen(),
        Vec::new(),
        "an idle open and close writes and syncs nothing"
    );
}

/// Every file of a directory, by name (for byte-for-byte comparisons).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("read")))
        .collect();
    out.sort();
    out
}

#[test]
fn a_store_that_fails_to_open_is_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileStore::create(dir.path(), HashProfile::Blake3, keys(), None).expect("create");
    append(&store, 0, 100);
    drop(store);
    // Corrupt the last frame: recovery checks it and refuses the store.
    let data = dir.path().join("entries.dat");
    let mut bytes = std::fs::read(&data).expect("read");
    let n = bytes.len();
    bytes[n - 3] ^= 0x40;
    std::fs::write(&data, bytes).expect("write");
    let before = snapshot(dir.path());
    assert!(FileStore::open(dir.path(), keys(), None).is_err());
    assert_eq!(
        snapshot(dir.path()),
        before,
        "nothing written on the way out"
    );
}

/// Every stored node, in the writing process (upper levels from the summit, filled by the
/// appends) and after reopening (read from the file, then from the summit), is the hash the
/// in-memory store computes; a damaged upper node is read as stored after a reopen (the
/// summit is no second copy that could hide it from a reader) and `fsck` names it.
#[test]
fn upper_levels_are_the_stored_hashes_before_and_after_reopening() {
    use super::records::node_position;
    use super::summit::FROM;
    use crate::merkle::NodeId;
    use crate::store::MemoryStore;

    let dir = tempfile::tempdir().expect("tempdir");
    let size = 5000u64;
    let reference = MemoryStore::new(HashProfile::Blake3);
    let nodes = |size: u64| {
        (1..=12u8)
            .flat_map(move |level| (0..size >> level).map(move |index| NodeId { level, index }))
    };
    let cached = NodeId {
        level: FROM,
        index: 3,
    };
    let check = |store: &FileStore| {
        for id in nodes(size) {
            let want = reference.node(id).expect("reference");
            assert_eq!(store.node(id).expect("node"), want, "{id:?}");
        }
    };
    {
        let store =
            FileStore::create(dir.path(), HashProfile::Blake3, keys(), None).expect("create");
        let mut from = 0;
        for n in [1, 700, 1500, 323, 2476] {
            append(&store, from, n);
            from += n;
        }
        append(&reference, 0, size);
        assert!(store.summit.get(cached).is_some(), "filled by the appends");
        check(&store);
    }
    let store = FileStore::open(dir.path(), keys(), None).expect("open");
    assert!(store.summit.get(cached).is_none(), "nothing persisted");
    check(&store);
    assert!(store.summit.get(cached).is_some(), "filled by the reads");
    check(&store);
    drop(store);
    // Damage one upper node on disk.
    let target = NodeId {
        level: FROM + 1,
        index: 1,
    };
    let pos = node_position(target.level, target.index).expect("position") * 32;
    let path = dir.path().join("nodes.dat");
    let mut b = std::fs::read(&path).expect("read");
    b[usize::try_from(pos).expect("small")] ^= 1;
    std::fs::write(&path, b).expect("write");
    let store = FileStore::open(dir.path(), keys(), None).expect("open");
    assert_ne!(
        store.node(target).expect("node"),
        reference.node(target).expect("ref")
    );
    let problem = store.fsck().expect("fsck").problem.expect("a problem");
    assert_eq!(
        (problem.0.as_str(), problem.1),
        ("nodes.dat", pos),
        "{problem:?}"
    );
}

/// Copies the store directory at the moment `index.dat` is about to be synced, once armed:
/// the last batch's records are written, not yet durable, and no table knows of them.
struct ImageBeforeIndexSync {
    dir: std::path::PathBuf,
    image: std::path::PathBuf,
    armed: std::sync::atomic::AtomicBool,
}

impl FaultHook for ImageBeforeIndexSync {
    fn before(&self, op: Op, file: &str) -> std::io::Result<()> {
        if op == Op::Sync && file == "index.dat" && self.armed.swap(false, Ordering::SeqCst) {
            copy_dir(&self.dir, &self.image);
        }
        Ok(())
    }
}

/// A crash image taken while the last of `batches` (their sizes) was being committed, with
/// `damage` applied to the records of entries `hole`: that batch's index write half done.
fn torn_image(
    batches: &[u64],
    hole: std::ops::Range<u64>,
    damage: fn(&mut [u8]),
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let image = tempfile::tempdir().expect("image");
    let hook = Arc::new(ImageBeforeIndexSync {
        dir: dir.path().to_path_buf(),
        image: image.path().to_path_buf(),
        armed: false.into(),
    });
    let store = FileStore::create(dir.path(), HashProfile::Blake3, keys(), Some(hook.clone()))
        .expect("create");
    let mut size = 0;
    for (k, &n) in batches.iter().enumerate() {
        hook.armed.store(k + 1 == batches.len(), Ordering::SeqCst);
        append(&store, size, n);
        size += n;
    }
    assert!(!hook.armed.load(Ordering::SeqCst), "the image was taken");
    drop(store);
    let path = image.path().join("index.dat");
    let mut index = std::fs::read(&path).expect("read");
    let record = super::INDEX_RECORD;
    assert_eq!(
        index.len() as u64,
        size * record,
        "every record of the last batch was written"
    );
    for i in hole {
        let at = usize::try_from(i * record).expect("small");
        damage(&mut index[at..at + record as usize]);
    }
    std::fs::write(&path, index).expect("write");
    image
}

/// Records every mutating file operation, in order.
#[derive(Default)]
struct RecordOps(std::sync::Mutex<Vec<(Op, String)>>);

impl RecordOps {
    /// The operations so far.
    fn seen(&self) -> Vec<(Op, String)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl FaultHook for RecordOps {
    fn before(&self, op: Op, file: &str) -> std::io::Result<()> {
        if let Ok(mut ops) = self.0.lock() {
            ops.push((op, file.to_owned()));
        }
        Ok(())
    }
}

/// A disk persists the pages of one write in any order: records of the last group can be
/// missing (zero) while later ones are there. Opening keeps the records up to the first
/// missing one, cuts the rest (never acknowledged) and serves a consistent store that takes
/// new appends.
#[test]
fn a_half_written_index_tail_is_cut_at_its_first_missing_record() {
    for (hole, standing) in [(35..40, 35), (30..31, 30), (45..60, 45), (59..60, 59)] {
        let image = torn_image(&[10, 20, 30], hole, |r| r.fill(0));
        assert_eq!(
            watermark(image.path()),
            0,
            "the tables lag, as after a crash"
        );
        let ops = Arc::new(RecordOps::default());
        let store = FileStore::open(image.path(), keys(), Some(ops.clone())).expect("open");
        assert_consistent(&store, standing);
        let seen = ops.seen();
        let cut = seen
            .iter()
            .position(|o| *o == (Op::Truncate, "index.dat".into()));
        let synced = seen
            .iter()
            .rposition(|o| *o == (Op::Sync, "index.dat".into()));
        assert!(
            cut.is_some() && cut < synced,
            "the cut is made durable: {seen:?}"
        );
        append(&store, standing, 7);
        assert_consistent(&store, standing + 7);
        drop(store);
        let store = FileStore::open(image.path(), keys(), None).expect("reopen");
        assert_consistent(&store, standing + 7);
    }
}

/// A written record in the tail that does not follow on from the one before is damage, not
/// a torn write: the store is refused (and left as it was), never cut short silently.
#[test]
fn a_damaged_record_in_the_tail_refuses_the_store() {
    let forward: fn(&mut [u8]) = |r| r[8..].copy_from_slice(&59u64.to_le_bytes());
    let shifted: fn(&mut [u8]) = |r| r[0] ^= 8;
    for (hole, damage) in [(40..41, forward), (33..34, shifted)] {
        let image = torn_image(&[10, 20, 30], hole, damage);
        let before = snapshot(image.path());
        let err = FileStore::open(image.path(), keys(), None).expect_err("refused");
        assert!(err.to_string().contains("does not follow on"), "{err}");
        assert_eq!(snapshot(image.path()), before, "nothing written");
    }
}

/// A store whose very first write was torn: its first record is zero (which would otherwise
/// point, validly, at offset 0).
#[test]
fn a_torn_first_record_leaves_an_empty_store() {
    let image = torn_image(&[30], 0..1, |r| r.fill(0));
    let store = FileStore::open(image.path(), keys(), None).expect("open");
    assert_consistent(&store, 0);
    append(&store, 0, 3);
    assert_consistent(&store, 3);
}

/// What a reader serves: every entry below `size` by id, and each task's entries below it,
/// in log order.
fn assert_reader_sees(store: &FileStore, size: u64) {
    assert_eq!(store.size(), size);
    for i in 0..size {
        let (id, _) = (keys())(&entry(i)).expect("keys");
        assert_eq!(store.find_event(&id).expect("find"), Some(i), "entry {i}");
    }
    for t in 0..13u64 {
        let task = TaskId(uuid::Uuid::from_bytes((u128::from(t) + 1).to_le_bytes()));
        let want: Vec<u64> = (0..size).filter(|i| i % 13 == t).collect();
        assert_eq!(store.task_entries(&task).expect("task"), want, "task {t}");
    }
}

#[test]
fn a_reader_serves_its_prefix_while_the_writer_moves_the_tables_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = FileStore::create(dir.path(), HashProfile::Blake3, keys(), None).expect("create");
    append(&writer, 0, 100);
    // Opened while the tables lag the log (the sync interval is 64 in unit tests).
    let reader = FileStore::open_read_only(dir.path(), keys()).expect("reader");
    assert_reader_sees(&reader, 100);
    // The writer goes on, syncing its tables past the reader's size several times: the task
    // slots on disk now point past what the reader serves, which must not change.
    for k in 0..6 {
        append(&writer, 100 + 50 * k, 50);
    }
    assert!(watermark(dir.path()) > 100);
    assert_reader_sees(&reader, 100);
    // A reader opened now starts from the newer watermark, and catches up on refresh.
    let late = FileStore::open_read_only(dir.path(), keys()).expect("reader");
    assert_reader_sees(&late, 400);
    assert_eq!(reader.refresh().expect("refresh"), 400);
    assert_reader_sees(&reader, 400);
    // A half-written record at the end (a commit in flight) is not served.
    let records = dir.path().join("index.dat");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&records)
        .expect("open");
    std::io::Write::write_all(&mut f, &[1u8; 7]).expect("write");
    assert_eq!(reader.refresh().expect("refresh"), 400);
    // The reader refuses to write.
    let bytes = entry(999);
    let e = NewEntry {
        bytes: &bytes,
        leaf: HashProfile::Blake3.leaf_hash(&bytes),
        event_id: EventId(uuid::Uuid::from_u128(1000)),
        task: None,
    };
    assert!(matches!(
        reader.append(&[e]),
        Err(crate::store::StoreError::ReadOnly)
    ));
    assert!(matches!(
        reader.put_checkpoint(1, b"note"),
        Err(crate::store::StoreError::ReadOnly)
    ));
}

/// An entry of task 50 (which no other entry has) with id `id`.
fn lone_task_entry(id: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(40);
    b.extend_from_slice(&(u128::from(id)).to_le_bytes());
    b.extend_from_slice(&51u128.to_le_bytes());
    b.extend_from_slice(&id.to_le_bytes());
    b
}

fn append_bytes(store: &dyn Storage, bytes: &[u8]) {
    let (event_id, task) = (keys())(bytes).expect("keys");
    let e = NewEntry {
        bytes,
        leaf: HashProfile::Blake3.leaf_hash(bytes),
        event_id,
        task,
    };
    store.append(&[e]).expect("append");
}

#[test]
fn a_reader_follows_a_task_slot_the_writer_moved_past_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = FileStore::create(dir.path(), HashProfile::Blake3, keys(), None).expect("create");
    append(&writer, 0, 100);
    append_bytes(&writer, &lone_task_entry(10_001)); // index 100, task 50
    append(&writer, 101, 100);
    let reader = FileStore::open_read_only(dir.path(), keys()).expect("reader");
    let size = reader.size();
    let task = TaskId(uuid::Uuid::from_bytes(51u128.to_le_bytes()));
    assert_eq!(reader.task_entries(&task).expect("task"), [100]);
    // The task goes on after the reader's size, and the tables are synced past it.
    append_bytes(&writer, &lone_task_entry(10_002));
    append(&writer, 202, 150);
    // (Slots are synced when the next batch begins.)
    append(&writer, 352, 1);
    assert!(watermark(dir.path()) > size);
    assert_eq!(reader.task_entries(&task).expect("task"), [100]);
    assert_eq!(reader.refresh().expect("refresh"), 353);
    assert_eq!(reader.task_entries(&task).expect("task"), [100, 201]);
}

/// Every profile has its own `meta` byte and reads back as itself; a byte no profile has is
/// corruption, not a default.
#[test]
fn each_hash_profile_has_its_own_meta_byte() {
    let profiles = [HashProfile::Blake3, HashProfile::Sha256];
    let bytes: Vec<u8> = profiles.iter().map(|p| super::profile_byte(*p)).collect();
    assert_eq!(bytes, [0, 1]);
    for p in profiles {
        assert_eq!(super::profile_of_byte(super::profile_byte(p)), Some(p));
        let key = [7u8; 32];
        assert_eq!(
            super::parse_meta(&super::meta_bytes(p, &key)).unwrap(),
            (p, key)
        );
    }
    for b in 2..=u8::MAX {
        assert_eq!(super::profile_of_byte(b), None);
    }
    let mut m = super::meta_bytes(HashProfile::Sha256, &[7u8; 32]);
    m[12] = 2;
    assert!(super::parse_meta(&m).is_err());
}
