//! Starting and stopping weir (when no `--bootstrap` is given): a free port, an empty
//! temporary data dir, and the time to its first answered ApiVersions request.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub(crate) struct Broker {
    pub(crate) child: Child,
    pub(crate) dir: PathBuf,
    pub(crate) log: PathBuf,
}

impl Broker {
    pub(crate) fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGTERM by PID, wait up to 10 s, then SIGKILL by PID.
    pub(crate) fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: kill(2) on the PID of our own, not yet reaped child.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!(
            "weir (pid {}) ignored SIGTERM for 10 s; killing it",
            self.pid()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the broker process has ended (or can no longer be waited for).
    pub(crate) fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    pub(crate) fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

pub(crate) fn temp_dir(tag: &str) -> Result<PathBuf> {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("weir-bench-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// Starts the broker on a free 127.0.0.1 port with an empty data dir and returns it with
/// the time from spawn to the first answered ApiVersions request.
/// With `tls` (a PEM keystore: unencrypted key and certificate chain) its one listener is
/// `SSL://` with that keystore, and readiness is probed over TLS.
pub(crate) fn start_broker(bin: &Path, tls: Option<&Path>) -> Result<(Broker, String, Duration)> {
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let (b, t) = match tls {
        None => start_node(bin, "broker", &["--listeners", &addr], &addr, false)?,
        Some(keystore) => {
            let listeners = format!("SSL://{addr}");
            let location = format!("ssl.keystore.location={}", keystore.display());
            let args = [
                "--listeners",
                &listeners,
                "--override",
                "ssl.keystore.type=PEM",
                "--override",
                &location,
            ];
            start_node(bin, "broker", &args, &addr, true)?
        }
    };
    Ok((b, addr, t))
}

/// Spawns `bin --data-dir TMP/data ARGS...` (output to TMP/weir.log; told to exit if this
/// tool dies) and waits up to 20 s for `addr` to answer ApiVersions (over TLS with `tls`);
/// returns the time that took.
pub(crate) fn start_node(
    bin: &Path,
    tag: &str,
    args: &[&str],
    addr: &str,
    tls: bool,
) -> Result<(Broker, Duration)> {
    let dir = temp_dir(tag)?;
    let data = dir.join("data");
    let log = dir.join("weir.log");
    let logf = std::fs::File::create(&log)?;
    let mut cmd = Command::new(bin);
    cmd.arg("--data-dir")
        .arg(&data)
        .args(args)
        .stdin(Stdio::null())
        .stdout(logf.try_clone()?)
        .stderr(logf);
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; it makes the kernel stop the broker if this
        // process dies without running its destructors.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
    }
    let t0 = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut broker = Broker { child, dir, log };
    let deadline = t0 + Duration::from_secs(20);
    loop {
        if api_versions(addr, tls).is_ok() {
            return Ok((broker, t0.elapsed()));
        }
        if let Ok(Some(st)) = broker.child.try_wait() {
            bail!(
                "weir exited ({st}) before answering:\n{}",
                broker.log_tail()
            );
        }
        if Instant::now() > deadline {
            let tail = broker.log_tail();
            broker.stop();
            bail!("weir did not answer ApiVersions within 20 s:\n{tail}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// One raw ApiVersions v0 round trip; with `tls`, inside a TLS session (the handshake
/// included). The probe only asks whether the broker answers: it does not check the
/// certificate (the librdkafka clients do, as their `ssl.*` settings say).
pub(crate) fn api_versions(addr: &str, tls: bool) -> Result<()> {
    let s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    s.set_nodelay(true)?;
    if tls {
        // A bare context: SslConnector would load the system's CA store first (~0.1 s a
        // probe), which the start-up time would count.
        use openssl::ssl::{Ssl, SslContext, SslMethod, SslVerifyMode};
        let mut b = SslContext::builder(SslMethod::tls_client())?;
        b.set_verify(SslVerifyMode::NONE);
        let s = Ssl::new(&b.build())?
            .connect(s)
            .map_err(|e| anyhow::anyhow!("TLS handshake with {addr}: {e}"))?;
        api_versions_on(s)
    } else {
        api_versions_on(s)
    }
}

fn api_versions_on(mut s: impl Read + Write) -> Result<()> {
    let client = b"weir-bench";
    let mut body = Vec::new();
    body.extend_from_slice(&18i16.to_be_bytes()); // api key: ApiVersions
    body.extend_from_slice(&0i16.to_be_bytes()); // version 0
    body.extend_from_slice(&7i32.to_be_bytes()); // correlation id
    body.extend_from_slice(&(client.len() as i16).to_be_bytes());
    body.extend_from_slice(client);
    let mut req = (body.len() as i32).to_be_bytes().to_vec();
    req.extend_from_slice(&body);
    s.write_all(&req)?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let n = i32::from_be_bytes(len);
    if !(6..1 << 20).contains(&n) {
        bail!("bad ApiVersions response length {n}");
    }
    let mut resp = vec![0u8; n as usize];
    s.read_exact(&mut resp)?;
    if resp[..4] != 7i32.to_be_bytes() || resp[4..6] != 0i16.to_be_bytes() {
        bail!("unexpected ApiVersions response");
    }
    Ok(())
}
