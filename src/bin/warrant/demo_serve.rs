//! `warrant demo --serve`: the deployment's shape, many emitters and one log. The ledger
//! runs behind a ledger server on loopback; each component of the deployment (front door,
//! policy decision point, token service, gateway, policy registry) is a thread of its own
//! with its own client, submitting the events it signed over HTTP; the auditor fetches each
//! task's bundle from the server.

use std::collections::HashMap;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::{Context as _, Result, anyhow};
use warrant_ledger::client::{Client, ClientConfig, ClientError};
use warrant_ledger::envelope::VerifiedEvent;
use warrant_ledger::event::TaskId;
use warrant_ledger::ledger::Ledger;
use warrant_ledger::server::{Server, ServerConfig, ServerHandle};

/// Where the demo's services log: the ledger in this process, or a ledger server.
pub(crate) enum Log<'a> {
    Embedded(&'a Ledger),
    Served(&'a Services),
}

impl Log<'_> {
    /// Logs events in order; returns once all are durable.
    pub(crate) fn append(&self, events: &[&VerifiedEvent]) -> Result<()> {
        match self {
            Self::Embedded(ledger) => {
                let refs: Vec<&[u8]> = events.iter().map(|e| e.bytes()).collect();
                ledger.append_batch(&refs)?;
            }
            Self::Served(services) => services.submit(events)?,
        }
        Ok(())
    }
}

/// A submission to one component's thread, and where its answer goes.
type Job = (Vec<Vec<u8>>, Sender<Result<Vec<u64>, ClientError>>);

/// One component: a thread with its own client, submitting what it is given.
struct Component {
    jobs: Sender<Job>,
    thread: JoinHandle<()>,
}

/// The ledger server and the components submitting to it.
pub(crate) struct Services {
    server: ServerHandle,
    url: String,
    components: Mutex<HashMap<String, Component>>,
    /// The auditor's client: it reads bundles.
    auditor: Client,
}

impl Services {
    /// Serves `ledger` on a free loopback port.
    pub(crate) fn start(ledger: Arc<Ledger>) -> Result<Self> {
        let server = Server::new(ledger, ServerConfig::default())
            .spawn("127.0.0.1:0".parse()?)
            .context("starting the ledger server")?;
        let url = format!("http://{}", server.local_addr());
        let auditor = Client::new(&url, ClientConfig::default())?;
        Ok(Self {
            server,
            url,
            components: Mutex::new(HashMap::new()),
            auditor,
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// How many components have submitted.
    pub(crate) fn components(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Component>> {
        self.components
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Each event sent by the component that signed it, in order: consecutive events of one
    /// emitter go in one request, and the next run waits for the previous one's answer, so
    /// the log holds them in the order they happened.
    fn submit(&self, events: &[&VerifiedEvent]) -> Result<()> {
        for run in events.chunk_by(|a, b| a.event().emitter == b.event().emitter) {
            let emitter = run[0].event().emitter.to_string();
            let bytes = run.iter().map(|e| e.bytes().to_vec()).collect();
            let (answer, answered) = channel();
            self.component(&emitter)?
                .send((bytes, answer))
                .map_err(|_| anyhow!("the {emitter} service stopped"))?;
            answered
                .recv()
                .map_err(|_| anyhow!("the {emitter} service stopped"))?
                .with_context(|| format!("the {emitter} service submitting"))?;
        }
        Ok(())
    }

    /// The component's job queue, its thread started on first use.
    fn component(&self, emitter: &str) -> Result<Sender<Job>> {
        let mut components = self.lock();
        if let Some(c) = components.get(emitter) {
            return Ok(c.jobs.clone());
        }
        let client = Client::new(&self.url, ClientConfig::default())?;
        let (jobs, incoming) = channel::<Job>();
        let thread = std::thread::Builder::new()
            .name(emitter.to_owned())
            .spawn(move || {
                for (envelopes, answer) in incoming {
                    let refs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();
                    let _ = answer.send(client.submit(&refs));
                }
            })?;
        components.insert(
            emitter.to_owned(),
            Component {
                jobs: jobs.clone(),
                thread,
            },
        );
        Ok(jobs)
    }

    /// The auditor's copy of a task's bundle, from the server.
    pub(crate) fn bundle(&self, task: &TaskId) -> Result<Vec<u8>> {
        Ok(self.auditor.bundle(task)?)
    }

    /// Stops the components, then the server (which signs a last checkpoint).
    pub(crate) fn stop(self) {
        let components = self
            .components
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        for (_, c) in components {
            drop(c.jobs);
            let _ = c.thread.join();
        }
        self.server.shutdown();
    }
}
