//! grpc-client: load for grpc-server, for tokio-guard `exec` steps. Drives N calls of one RPC at a
//! concurrency over one HTTP/2 channel and exits 0 only when every call succeeded.
//!
//! ```text
//! grpc-client --addr http://127.0.0.1:PORT --kind K [--ms D[,D...]] [--requests N | --seconds S]
//!             [--concurrency C]
//!   K: hello | cpu | sleep (the Blocking RPC) | cpu-ok | sleep-ok (the Nice RPC)
//! ```
//!
//! With a list of durations, call i asks for the i-th (cycling): `--kind cpu --ms 5,30,100
//! --requests 3` blocks 5, 30 and 100 ms, one after the other.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grpc_server::{call, KindRequest, BLOCKING, HELLO, NICE};
use tonic::transport::Endpoint;

struct Config {
    addr: String,
    kind: String,
    ms: Vec<u64>,
    requests: u64,
    seconds: Option<f64>,
    concurrency: u64,
}

const USAGE: &str = "usage: grpc-client --addr URL --kind K [--ms D[,D...]] [--requests N | --seconds S] [--concurrency C]
  --addr URL         the server, e.g. http://127.0.0.1:50051
  --kind K           hello | cpu | sleep (Blocking RPC) | cpu-ok | sleep-ok (Nice RPC)
  --ms D[,D...]      length of each section (default 20); call i takes the i-th, cycling
  --requests N       calls in all (default 1)
  --seconds S        call for S seconds instead (as many calls as fit)
  --concurrency C    calls in flight at once (default 1)
";

fn parse_args() -> Result<Option<Config>, String> {
    let mut cfg =
        Config { addr: String::new(), kind: String::new(), ms: vec![20], requests: 1, seconds: None, concurrency: 1 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|_| format!("{name}: bad number {v:?}"));
        match name.as_str() {
            "--addr" => cfg.addr = value()?,
            "--kind" => cfg.kind = value()?,
            "--ms" => cfg.ms = value()?.split(',').map(|v| number(v.to_string())).collect::<Result<_, _>>()?,
            "--seconds" => {
                let v = value()?;
                cfg.seconds = Some(v.parse::<f64>().ok().filter(|s| *s > 0.0).ok_or(format!("{name}: bad seconds {v:?}"))?);
            }
            "--requests" | "-n" => cfg.requests = number(value()?)?,
            "--concurrency" | "-c" => cfg.concurrency = number(value()?)?.max(1),
            "--help" | "-h" => return Ok(None),
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    if cfg.addr.is_empty() || cfg.kind.is_empty() || cfg.ms.is_empty() {
        return Err("--addr and --kind are required".into());
    }
    Ok(Some(cfg))
}

/// The RPC path and the request's kind for a --kind value.
fn rpc_of(kind: &str) -> Option<(&'static str, &'static str)> {
    match kind {
        "hello" => Some((HELLO, "")),
        "cpu" => Some((BLOCKING, "cpu")),
        "sleep" => Some((BLOCKING, "sleep")),
        "cpu-ok" => Some((NICE, "cpu")),
        "sleep-ok" => Some((NICE, "sleep")),
        _ => None,
    }
}

async fn run(cfg: Config) -> Result<(u64, u64), String> {
    let deadline = cfg.seconds.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let requests = if deadline.is_some() { u64::MAX } else { cfg.requests };
    let (path, kind) = rpc_of(&cfg.kind).ok_or(format!("unknown kind {:?}", cfg.kind))?;
    let endpoint = Endpoint::from_shared(cfg.addr.clone()).map_err(|e| format!("--addr {}: {e}", cfg.addr))?;
    let channel = endpoint.connect().await.map_err(|e| format!("connect {}: {e}", cfg.addr))?;
    let next = Arc::new(AtomicU64::new(0));
    let (calls, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut workers = Vec::new();
    let ms = Arc::new(cfg.ms);
    for _ in 0..cfg.concurrency.min(requests.max(1)) {
        let (channel, next, ms) = (channel.clone(), next.clone(), ms.clone());
        let (calls, failed) = (calls.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let req = KindRequest { kind: kind.to_string(), ms: ms[i as usize % ms.len()] };
                calls.fetch_add(1, Ordering::Relaxed);
                if let Err(status) = call(channel.clone(), path, req).await {
                    eprintln!("grpc-client: {path}: {status}");
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for w in workers {
        w.await.map_err(|e| format!("client task: {e}"))?;
    }
    Ok((calls.load(Ordering::Relaxed), failed.load(Ordering::Relaxed)))
}

fn main() -> ExitCode {
    let cfg = match parse_args() {
        Ok(Some(c)) => c,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprint!("grpc-client: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("grpc-client: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let kind = cfg.kind.clone();
    let start = Instant::now();
    match rt.block_on(run(cfg)) {
        Ok((n, 0)) => {
            println!("grpc-client: {n} {kind} calls ok in {:.3}s", start.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Ok((n, failed)) => {
            eprintln!("grpc-client: {failed} of {n} {kind} calls failed");
            ExitCode::from(1)
        }
        Err(msg) => {
            eprintln!("grpc-client: {msg}");
            ExitCode::from(1)
        }
    }
}
