//! The ledger server against real clients on loopback (ephemeral ports): concurrent
//! emitters lose and duplicate nothing, the tiles hash to the signed root, bad input gets
//! typed 4xx answers and leaves the log unchanged, backpressure answers 503, shutdown
//! drains and checkpoints.
#![cfg(all(feature = "server", feature = "client"))]

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use common::{ORIGIN, events, log_key, trust};
use warrant_ledger::checkpoint::open_checkpoint;
use warrant_ledger::client::{Client, ClientConfig, ClientError};
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::{
    HashProfile, MemoryNodes, NodeReader as _, TILE_WIDTH, Tile, TileKind, root_at,
};
use warrant_ledger::server::{Server, ServerConfig, ServerHandle};

fn ledger(dir: &std::path::Path) -> Arc<Ledger> {
    let ledger = Ledger::create(dir, ORIGIN, HashProfile::Sha256, log_key(), trust())
        .expect("create")
        .with_time_bounds(TimeBounds::history());
    Arc::new(ledger)
}

fn serve(ledger: &Arc<Ledger>, config: ServerConfig) -> ServerHandle {
    Server::new(Arc::clone(ledger), config)
        .spawn("127.0.0.1:0".parse().expect("addr"))
        .expect("server")
}

fn client_of(addr: SocketAddr) -> Client {
    let mut config = ClientConfig::default();
    config.batch_entries = 250;
    Client::new(&format!("http://{addr}"), config).expect("client")
}

fn refs(items: &[Vec<u8>]) -> Vec<&[u8]> {
    items.iter().map(Vec::as_slice).collect()
}

/// Eight services submit 10^4 events each, in batches, half of them twice (a retry whose
/// answer was lost): every event lands exactly once, each answer names its own entry, and
/// the log is dense.
#[test]
fn eight_concurrent_clients_lose_and_duplicate_nothing() {
    const PER_CLIENT: usize = 10_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = ledger(dir.path());
    let server = serve(&ledger, ServerConfig::default());
    let addr = server.local_addr();
    let evs = Arc::new(events(8 * PER_CLIENT, 64));
    let threads: Vec<_> = (0..8)
        .map(|c| {
            let evs = Arc::clone(&evs);
            std::thread::spawn(move || {
                let client = client_of(addr);
                let mine = &evs[c * PER_CLIENT..(c + 1) * PER_CLIENT];
                let got = client.submit(&refs(mine)).expect("submit");
                let again = client
                    .submit(&refs(&mine[..PER_CLIENT / 2]))
                    .expect("retry");
                assert_eq!(
                    again,
                    got[..PER_CLIENT / 2],
                    "a resubmission answers the same indices"
                );
                (c, got)
            })
        })
        .collect();
    let mut seen = vec![false; evs.len()];
    for thread in threads {
        let (c, got) = thread.join().expect("client thread");
        for (k, index) in got.into_iter().enumerate() {
            let slot = usize::try_from(index).expect("index");
            assert!(!seen[slot], "index {index} answered twice");
            seen[slot] = true;
            assert_eq!(ledger.entry(index).expect("entry"), evs[c * PER_CLIENT + k]);
        }
    }
    assert!(seen.iter().all(|s| *s), "dense");
    assert_eq!(ledger.size(), evs.len() as u64);
    server.shutdown();
    // Shutdown signed a checkpoint over everything acknowledged.
    let note = ledger
        .latest_checkpoint()
        .expect("read")
        .expect("checkpoint");
    let head = open_checkpoint(&note, ORIGIN, &[ledger.verifier()]).expect("verifies");
    assert_eq!(head.tree_head().size, evs.len() as u64);
}

/// Every hash tile and entry bundle a client reads over HTTP is what an independent tree
/// over the entries says, and the tiles rebuild the signed root.
#[test]
fn tiles_read_over_http_hash_to_the_checkpoint_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = ledger(dir.path());
    // 70,000 would be the specification's example; 256·256 + 300 crosses two levels too.
    let size = 256 * 256 + 300;
    let evs = events(size, 16);
    for chunk in evs.chunks(4096) {
        ledger.append_batch(&refs(chunk)).expect("append");
    }
    ledger.checkpoint().expect("checkpoint");
    let server = serve(&ledger, ServerConfig::default());
    let client = client_of(server.local_addr());
    let note = client.checkpoint().expect("checkpoint");
    let head = open_checkpoint(&note, ORIGIN, &[ledger.verifier()])
        .expect("signed by the log")
        .tree_head();
    assert_eq!(head.size, size as u64);

    let mut oracle = MemoryNodes::new(HashProfile::Sha256);
    let mut from_bundles = Vec::new();
    for n in 0..=(size / 256) as u64 {
        let width = if n < (size / 256) as u64 {
            TILE_WIDTH
        } else {
            (size % 256) as u16
        };
        let bundle = client
            .tile(&Tile {
                kind: TileKind::Entries,
                index: n,
                width,
            })
            .expect("bundle");
        from_bundles.extend(split_bundle(&bundle));
    }
    assert_eq!(
        from_bundles, evs,
        "entry bundles carry the entries, in order"
    );
    for e in &from_bundles {
        oracle.append(e);
    }
    assert_eq!(
        root_at(HashProfile::Sha256, &oracle, head.size).expect("root"),
        head.root
    );

    // Each level's tiles, full and partial, against the oracle's nodes.
    for level in 0u8..3 {
        let nodes = (size as u64) >> (8 * level);
        for n in 0..=nodes / 256 {
            let width = if n < nodes / 256 {
                TILE_WIDTH
            } else {
                (nodes % 256) as u16
            };
            if width == 0 {
                continue;
            }
            let tile = Tile {
                kind: TileKind::Hashes { level },
                index: n,
                width,
            };
            let bytes = client.tile(&tile).expect("tile");
            assert_eq!(bytes.len(), usize::from(width) * 32);
            let ids = tile.nodes().expect("nodes");
            for (id, got) in ids.zip(bytes.chunks(32)) {
                assert_eq!(
                    oracle.read_node(id).expect("node").as_bytes(),
                    got,
                    "{}",
                    tile.path()
                );
            }
        }
    }
    // A tile beyond the tree is not served, nor is an empty one.
    let beyond = Tile {
        kind: TileKind::Hashes { level: 0 },
        index: (size / 256) as u64,
        width: 255,
    };
    assert!(matches!(
        client.tile(&beyond),
        Err(ClientError::Refused { status: 404, ref reason, .. }) if reason == "not_in_log"
    ));
}

fn split_bundle(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let [hi, lo, rest @ ..] = bytes {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        out.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    assert!(bytes.is_empty());
    out
}

/// A raw HTTP/1.1 exchange: what a hostile client sends, byte for byte.
fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

fn post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut request = format!(
        "POST /add HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    raw(addr, &request)
}

/// Garbage, oversized bodies, traversal in tile paths, unknown tasks, bad ranges: each a
/// typed 4xx with its reason, and the log exactly as it was.
#[test]
fn bad_requests_get_typed_refusals_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = ledger(dir.path());
    let evs = events(40, 4);
    ledger.append_batch(&refs(&evs[..20])).expect("append");
    ledger.checkpoint().expect("checkpoint");
    let mut config = ServerConfig::default();
    config.max_body = 64 * 1024;
    let server = serve(&ledger, config);
    let addr = server.local_addr();
    let before = (ledger.size(), ledger.root(ledger.size()).expect("root"));

    let mut forged = evs[20].clone();
    *forged.last_mut().expect("bytes") ^= 1;
    let mut two = evs[20].clone();
    two.extend_from_slice(&evs[20]);
    let mut good_then_bad = evs[21].clone();
    good_then_bad.extend_from_slice(&forged);
    let mut good_then_garbage = evs[21].clone();
    good_then_garbage.extend_from_slice(b"\xff\xff");
    let cases: Vec<(&str, (u16, String), u16, &str)> = vec![
        ("garbage", post(addr, b"hello"), 400, "\"malformed\""),
        ("empty", post(addr, b""), 400, "\"malformed\""),
        (
            "cut short",
            post(addr, &evs[20][..evs[20].len() - 1]),
            400,
            "\"malformed\"",
        ),
        (
            "garbage after an envelope",
            post(addr, &good_then_garbage),
            400,
            "\"position\":1",
        ),
        (
            "oversized",
            post(addr, &vec![0x84; 64 * 1024 + 1]),
            413,
            "\"too_large\"",
        ),
        ("bad signature", post(addr, &forged), 422, "\"rejected\""),
        (
            "bad second entry",
            post(addr, &good_then_bad),
            422,
            "\"position\":1",
        ),
        (
            "same event twice",
            post(addr, &two),
            422,
            "\"duplicate_in_batch\"",
        ),
        (
            "traversal",
            get(addr, "/tile/0/../../log.key"),
            400,
            "\"bad_tile_path\"",
        ),
        (
            "encoded traversal",
            get(addr, "/tile/%2e%2e/log.key"),
            400,
            "\"bad_tile_path\"",
        ),
        ("not a path", get(addr, "/log.key"), 404, "\"not_found\""),
        (
            "partial width 0",
            get(addr, "/tile/0/000.p/0"),
            400,
            "\"bad_tile_path\"",
        ),
        (
            "beyond the log",
            get(addr, "/tile/0/000"),
            404,
            "\"not_in_log\"",
        ),
        (
            "entry beyond",
            get(addr, "/entry/20"),
            404,
            "\"not_in_log\"",
        ),
        (
            "unknown task",
            get(addr, "/bundle/0193f3a1-1c00-7000-8000-000000000000"),
            404,
            "\"unknown_task\"",
        ),
        (
            "not a task",
            get(addr, "/bundle/..%2flog.key"),
            400,
            "\"bad_task\"",
        ),
        (
            "index past size",
            get(addr, "/proof/inclusion?index=20&size=20"),
            400,
            "\"bad_range\"",
        ),
        (
            "old past new",
            get(addr, "/proof/consistency?old=21&new=20"),
            400,
            "\"bad_range\"",
        ),
        (
            "size past the log",
            get(addr, "/proof/inclusion?index=1&size=21"),
            400,
            "\"bad_range\"",
        ),
        (
            "unknown parameter",
            get(addr, "/proof/inclusion?index=1&sise=2"),
            400,
            "\"bad_query\"",
        ),
        ("GET /add", get(addr, "/add"), 405, "\"method_not_allowed\""),
    ];
    for (what, (status, text), want_status, want) in cases {
        assert_eq!(status, want_status, "{what}: {text}");
        assert!(text.contains(want), "{what}: {text}");
        assert_eq!(
            (ledger.size(), ledger.root(ledger.size()).expect("root")),
            before,
            "{what}"
        );
    }
    // Another envelope (validly signed) with an event id the log holds: 409, naming where.
    let mut event =
        warrant_ledger::envelope::decode_unverified(&evs[5], Default::default()).expect("event");
    event.time = event.time.plus_ms(1);
    let other = warrant_ledger::envelope::sign(&event, &common::test_key()).expect("sign");
    let client = client_of(addr);
    assert!(matches!(
        client.submit(&[evs[20].as_slice(), other.bytes()]),
        Err(ClientError::Refused { status: 409, position: Some(1), existing: Some(5), ref reason, .. })
            if reason == "duplicate_event_id"
    ));
    // A valid request still works after all that, and resubmitting answers the same index.
    assert_eq!(client.submit(&[evs[20].as_slice()]).expect("append"), [20]);
    assert_eq!(
        client
            .submit(&[evs[3].as_slice(), evs[20].as_slice()])
            .expect("again"),
        [3, 20]
    );
    assert_eq!(ledger.size(), 21);
}

/// A client that sends its headers too slowly is cut off; one that trickles its body gets
/// 408; while it trickles it holds the only queue slot, and the next append gets 503 with
/// Retry-After. The server answers others all along.
#[test]
fn slow_clients_are_cut_off_and_a_full_queue_answers_503() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = ledger(dir.path());
    let evs = events(4, 1);
    let mut config = ServerConfig::default();
    config.queue = 1;
    config.header_timeout = Duration::from_millis(500);
    config.body_timeout = Duration::from_millis(1500);
    config.retry_after_secs = 7;
    let server = serve(&ledger, config);
    let addr = server.local_addr();

    // Slowloris: half a request line, then silence. The server closes the connection.
    let mut slow = TcpStream::connect(addr).expect("connect");
    slow.write_all(b"GET /checkpoint HT").expect("send");
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut buf = Vec::new();
    let started = std::time::Instant::now();
    let _ = slow.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "cut off by the header timeout"
    );

    // A body announced but trickled: holds the queue's one slot until its timeout.
    let mut trickle = TcpStream::connect(addr).expect("connect");
    trickle
        .write_all(b"POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n\x84")
        .expect("send");
    std::thread::sleep(Duration::from_millis(300));
    let (status, text) = post(addr, &evs[0]);
    assert_eq!(status, 503, "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 7"),
        "{text}"
    );
    assert!(text.contains("\"overloaded\""), "{text}");
    // Reads are not queued behind appends.
    assert_eq!(get(addr, "/metrics").0, 200);
    trickle
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut answer = Vec::new();
    let _ = trickle.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"slow_body\""), "{answer}");
    // The slot is free again; the client's retries would have got here by themselves.
    assert_eq!(post(addr, &evs[0]).0, 200);
    let metrics = get(addr, "/metrics").1;
    assert!(
        metrics.contains("warrant_add_rejections_total{reason=\"overloaded\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("warrant_add_rejections_total{reason=\"slow_body\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("warrant_appended_entries_total 1"),
        "{metrics}"
    );
    assert_eq!(ledger.size(), 1);
}

/// Proofs and bundles over HTTP verify against the checkpoint the server serves.
#[test]
fn proofs_and_bundles_over_http_verify() {
    use warrant_ledger::merkle::{
        ConsistencyProof, InclusionProof, verify_consistency, verify_inclusion,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = ledger(dir.path());
    let evs = events(300, 3);
    ledger.append_batch(&refs(&evs[..100])).expect("append");
    let old = open_checkpoint(
        &ledger.checkpoint().expect("cp"),
        ORIGIN,
        &[ledger.verifier()],
    )
    .expect("verifies")
    .tree_head();
    let mut config = ServerConfig::default();
    config.checkpoint_interval = Duration::from_millis(50);
    let server = serve(&ledger, config);
    let client = client_of(server.local_addr());
    client.submit(&refs(&evs[100..])).expect("submit");
    server.shutdown();
    let server = serve(&ledger, ServerConfig::default());
    let client = client_of(server.local_addr());
    let head = open_checkpoint(
        &client.checkpoint().expect("cp"),
        ORIGIN,
        &[ledger.verifier()],
    )
    .expect("verifies")
    .tree_head();
    assert_eq!(head.size, 300);
    for index in [0u64, 99, 100, 299] {
        let proof =
            InclusionProof::from_bytes(&client.inclusion_proof(index, head.size).expect("proof"))
                .expect("decodes");
        let leaf = HashProfile::Sha256.leaf_hash(&client.entry(index).expect("entry"));
        verify_inclusion(HashProfile::Sha256, &leaf, &proof, &head).expect("included");
    }
    let proof = ConsistencyProof::from_bytes(
        &client
            .consistency_proof(old.size, head.size)
            .expect("proof"),
    )
    .expect("decodes");
    verify_consistency(HashProfile::Sha256, &proof, &old, &head).expect("consistent");
    let task = warrant_ledger::envelope::decode_unverified(&evs[0], Default::default())
        .expect("event")
        .task
        .expect("task");
    assert_eq!(
        client.bundle(&task).expect("bundle"),
        ledger.export_bundle(&task, None).expect("export")
    );
}

/// The async client on the caller's own runtime; tiles say which hash profile made them.
#[test]
fn the_async_client_runs_on_the_callers_runtime() {
    use warrant_ledger::client::AsyncClient;
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Arc::new(
        Ledger::create(dir.path(), ORIGIN, HashProfile::Blake3, log_key(), trust())
            .expect("create")
            .with_time_bounds(TimeBounds::history()),
    );
    let server = serve(&ledger, ServerConfig::default());
    let addr = server.local_addr();
    let evs = events(300, 3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let indices = runtime.block_on(async {
        let client =
            AsyncClient::new(&format!("http://{addr}"), ClientConfig::default()).expect("client");
        // Three services at once, on one runtime.
        let parts: Vec<_> = evs
            .chunks(100)
            .map(|part| {
                let (client, part) = (client.clone(), part.to_vec());
                tokio::spawn(async move { client.submit(&refs(&part)).await })
            })
            .collect();
        let mut all = Vec::new();
        for p in parts {
            all.extend(p.await.expect("task").expect("submit"));
        }
        all
    });
    let mut sorted = indices.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..300).collect::<Vec<u64>>());
    let (_, text) = get(addr, "/tile/0/000.p/1");
    assert!(
        text.to_ascii_lowercase().contains("warrant-hash: blake3"),
        "{text}"
    );
}

/// Shutdown while services are submitting: every request the server took is answered (its
/// group commit finished), none is committed unanswered, and later ones find no server.
#[test]
fn shutdown_answers_every_request_it_took() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = ledger(dir.path());
    let server = serve(&ledger, ServerConfig::default());
    let addr = server.local_addr();
    let evs = Arc::new(events(8_000, 16));
    let threads: Vec<_> = (0..4)
        .map(|c| {
            let evs = Arc::clone(&evs);
            std::thread::spawn(move || {
                let mut config = ClientConfig::default();
                config.attempts = 1; // an answer lost would not be hidden by a retry
                let client = Client::new(&format!("http://{addr}"), config).expect("client");
                let mut acknowledged = Vec::new();
                for chunk in evs[c * 2_000..(c + 1) * 2_000].chunks(50) {
                    match client.submit(&refs(chunk)) {
                        Ok(indices) => acknowledged.extend(indices.into_iter().zip(chunk.to_vec())),
                        Err(ClientError::Unavailable { .. }) => break,
                        Err(e) => panic!("{e}"),
                    }
                }
                acknowledged
            })
        })
        .collect();
    while ledger.size() < 1_000 {
        std::thread::sleep(Duration::from_millis(2));
    }
    server.shutdown();
    let acknowledged: Vec<(u64, Vec<u8>)> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("client"))
        .collect();
    assert!(acknowledged.len() < evs.len(), "shutdown came mid-load");
    assert_eq!(
        ledger.size(),
        acknowledged.len() as u64,
        "nothing committed unanswered"
    );
    for (index, bytes) in &acknowledged {
        assert_eq!(&ledger.entry(*index).expect("entry"), bytes);
    }
    let note = ledger
        .latest_checkpoint()
        .expect("read")
        .expect("checkpoint");
    let head = open_checkpoint(&note, ORIGIN, &[ledger.verifier()]).expect("verifies");
    assert_eq!(
        head.tree_head().size,
        ledger.size(),
        "a last checkpoint over all of it"
    );
}

/// The witness over HTTP answers each case with the status and content type C2SP
/// `tlog-witness` gives it.
#[test]
fn the_witness_over_http_answers_the_specifications_codes() {
    use warrant_ledger::checkpoint::NoteSigner;
    use warrant_ledger::server::WitnessServer;
    use warrant_ledger::witness::{Witness, WitnessedLog};
    let (ld, wd) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let ledger = ledger(ld.path());
    ledger.append_batch(&refs(&events(5, 1))).expect("append");
    let note = ledger.checkpoint().expect("checkpoint");
    let key = NoteSigner::new(
        "witness.example/w",
        ed25519_dalek::SigningKey::from_bytes(&[8; 32]),
    )
    .expect("key");
    let log = WitnessedLog {
        origin: ORIGIN.into(),
        verifiers: vec![ledger.verifier()],
        profile: HashProfile::Sha256,
    };
    let witness = Arc::new(Witness::open(wd.path(), key, vec![log]).expect("witness"));
    let server = WitnessServer::new(witness, ServerConfig::default())
        .spawn("127.0.0.1:0".parse().expect("addr"))
        .expect("witness server");
    let addr = server.local_addr();
    let add = |body: &[u8]| {
        let mut request = format!(
            "POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        raw(addr, &request)
    };
    let with = |head: &str| [head.as_bytes(), &note].concat();
    let (status, text) = add(&with("old 0\n\n"));
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("\r\n\r\n\u{2014} witness.example/w "),
        "{text}"
    );
    let (status, text) = add(&with("old 3\n\n"));
    assert_eq!(status, 409);
    assert!(
        text.contains("text/x.tlog.size") && text.ends_with("\r\n\r\n5\n"),
        "{text}"
    );
    assert_eq!(add(&with("old 9\n\n")).0, 400);
    assert_eq!(
        add(b"old 0\n\nexample.com/unknown\n1\nAAAA\n\n\xe2\x80\x94 x AAAA\n").0,
        400
    );
    // A 1 MiB body declared, its first KiB sent: refused on the declared length before the
    // body is read. (Sending all of it raced the answer: the server closes once it has
    // answered, and the rest of the write met a reset.)
    let oversized = [
        b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1048576\r\n\r\n".as_slice(),
        &[b'x'; 1024],
    ]
    .concat();
    assert_eq!(raw(addr, &oversized).0, 413);
    assert_eq!(get(addr, "/add-checkpoint").0, 405);
    assert_eq!(get(addr, "/checkpoint").0, 404);
}
