//! Cluster mode: a weir cluster of one controller-only node (the whole metadata quorum) and
//! three broker-only nodes, each on free 127.0.0.1 ports with a data dir of its own, started
//! as compat-tests/replication/run.sh starts them; and the checks that a cluster (weir's or
//! any other) has its brokers and that a topic is fully replicated.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rdkafka::client::{Client, ClientContext};

use crate::broker::{free_port, start_node, Broker};

/// Brokers of a cluster-mode run; topics get this replication factor.
pub(crate) const BROKERS: usize = 3;
/// `min.insync.replicas` of every cluster-mode topic.
pub(crate) const MIN_ISR: &str = "2";

pub(crate) struct Cluster {
    pub(crate) controller: Broker,
    pub(crate) brokers: Vec<Broker>,
    /// the brokers' client listeners, comma-separated
    pub(crate) bootstrap: String,
}

impl Cluster {
    /// Brokers first (each by PID: SIGTERM, SIGKILL after 10 s), then the controller, which
    /// the brokers' shutdown may still talk to.
    pub(crate) fn stop(&mut self) {
        for b in &mut self.brokers {
            b.stop();
        }
        self.controller.stop();
    }

    pub(crate) fn log_tails(&self) -> String {
        let mut s = format!("--- controller log:\n{}\n", self.controller.log_tail());
        for (i, b) in self.brokers.iter().enumerate() {
            s += &format!("--- broker {} log:\n{}\n", i + 1, b.log_tail());
        }
        s
    }

    /// Whether any node has exited.
    pub(crate) fn has_exited(&mut self) -> bool {
        self.controller.has_exited() || self.brokers.iter_mut().any(|b| b.has_exited())
    }
}

/// Starts the controller (node 0), waits for its client listener, then the brokers (nodes
/// 1..=3), each waited for in the same way. The caller then waits for the registrations
/// (`await_brokers`).
pub(crate) fn start_cluster(bin: &Path) -> Result<Cluster> {
    let c0 = free_port()?;
    let voters = format!("controller.quorum.voters=0@127.0.0.1:{c0}");
    let node = |id: usize, role: &str, cport: u16| -> Result<(Broker, String)> {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let listeners = format!("PLAINTEXT://{addr},CONTROLLER://127.0.0.1:{cport}");
        let (id_s, roles) = (id.to_string(), format!("process.roles={role}"));
        let args = [
            "--node-id",
            &id_s,
            "--listeners",
            &listeners,
            "--override",
            &roles,
            "--override",
            &voters,
        ];
        let (b, _) = start_node(bin, &format!("node{id}"), &args, &addr, false)?;
        Ok((b, addr))
    };
    let (controller, _) = node(0, "controller", c0)?;
    let mut brokers = Vec::new();
    let mut addrs = Vec::new();
    for id in 1..=BROKERS {
        let (b, a) = node(id, "broker", free_port()?)?;
        brokers.push(b);
        addrs.push(a);
    }
    Ok(Cluster {
        controller,
        brokers,
        bootstrap: addrs.join(","),
    })
}

/// Waits (up to `secs`) until Metadata lists at least `BROKERS` brokers; returns how many.
pub(crate) fn await_brokers<C: ClientContext>(client: &Client<C>, secs: u64) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = 0;
    loop {
        if let Ok(md) = client.fetch_metadata(None, Duration::from_secs(5)) {
            seen = md.brokers().len();
            if seen >= BROKERS {
                return Ok(seen);
            }
        }
        if Instant::now() > deadline {
            bail!("Metadata lists {seen} brokers after {secs} s, not {BROKERS}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (up to 30 s) until every partition of `topic` has a leader and an ISR of
/// `replicas` brokers.
pub(crate) fn await_replicated<C: ClientContext>(
    client: &Client<C>,
    topic: &str,
    partitions: i32,
    replicas: usize,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut why = String::from("no metadata");
    loop {
        if let Ok(md) = client.fetch_metadata(Some(topic), Duration::from_secs(5)) {
            match md.topics().iter().find(|t| t.name() == topic) {
                Some(t) if t.error().is_none() && t.partitions().len() == partitions as usize => {
                    let bad: Vec<String> = t
                        .partitions()
                        .iter()
                        .filter(|p| p.leader() < 0 || p.isr().len() < replicas)
                        .map(|p| format!("{}: leader {} isr {:?}", p.id(), p.leader(), p.isr()))
                        .collect();
                    if bad.is_empty() {
                        return Ok(());
                    }
                    why = bad.join("; ");
                }
                Some(t) => {
                    why = format!("{} partitions, error {:?}", t.partitions().len(), t.error())
                }
                None => why = "not in metadata".into(),
            }
        }
        if Instant::now() > deadline {
            bail!("topic {topic} not fully replicated after 30 s: {why}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
