//! The ledger server failing to start, and the client's four ways to fail: a bad address, a
//! refusal, a server that never answers, and an answer that is not what was asked.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use warrant_ledger::client::{Client, ClientConfig, ClientError};
use warrant_ledger::ledger::Ledger;
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::server::{Server, ServerConfig, ServerError};

use crate::common;
use crate::{Reached, err, reach};

pub(crate) fn reach_all(seen: &mut Reached) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger: Arc<Ledger> = Arc::new(common::sample_ledger(dir.path(), HashProfile::Sha256));
    // The port is taken (by a plain listener): the server cannot start.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    reach!(
        seen,
        ServerError::Start,
        err(Server::new(Arc::clone(&ledger), ServerConfig::default()).spawn(addr))
    );
    let server = Server::new(ledger, ServerConfig::default())
        .spawn("127.0.0.1:0".parse().expect("addr"))
        .expect("server");
    let quick = {
        let mut c = ClientConfig::default();
        c.attempts = 2;
        c.backoff = Duration::from_millis(1);
        c.timeout = Duration::from_secs(5);
        c
    };
    reach!(
        seen,
        ClientError::Url,
        err(Client::new("https://127.0.0.1:1", quick.clone()))
    );
    let client =
        Client::new(&format!("http://{}", server.local_addr()), quick.clone()).expect("client");
    reach!(
        seen,
        ClientError::Refused,
        err(client.submit(&[b"not an envelope"]))
    );
    server.shutdown();
    // Nothing listens there any more: every attempt fails to connect.
    reach!(seen, ClientError::Unavailable, err(client.checkpoint()));
    // Something that is not a ledger server answers 200 with text.
    let fake = TcpListener::bind("127.0.0.1:0").expect("bind");
    let fake_addr = fake.local_addr().expect("addr");
    let answering = std::thread::spawn(move || {
        let (mut stream, _) = fake.accept().expect("accept");
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            .expect("answer");
    });
    let client = Client::new(&format!("http://{fake_addr}"), quick).expect("client");
    let envelope = envelope_bytes();
    reach!(
        seen,
        ClientError::BadAnswer,
        err(client.submit(&[&envelope]))
    );
    answering.join().expect("fake server");
}

fn envelope_bytes() -> Vec<u8> {
    let e = &common::sample_events()[1];
    warrant_ledger::envelope::sign(e, &common::test_key())
        .expect("sign")
        .into_bytes()
}
