//! grpc-server: a tonic gRPC server (service guard.example.Demo, proto/demo.proto) whose Blocking
//! RPC blocks the worker inside the handler, and whose Nice RPC does the same work well-behaved.
//! A target of tokio-guard's end-to-end tests.
//!
//! ```text
//! grpc-server [--port P] [--workers N | --current-thread]
//!
//! Hello    {}                 returns "hello"
//! Blocking {kind: "cpu"}      CPU spin in the handler        blocking_kinds::burn_cpu
//! Blocking {kind: "sleep"}    std::thread::sleep in it       blocking_kinds::sleepy
//! Nice     {kind: "cpu"}      burn_cpu inside spawn_blocking (logged as kind=cpu-ok)
//! Nice     {kind: "sleep"}    tokio::time::sleep             (logged as kind=sleep-ok)
//! ```
//!
//! The blocking happens in the handler itself (no task of its own): in the poll of the task hyper
//! spawns for each HTTP/2 stream. The culprit lines and their `guard:<kind>` markers are in
//! blocking-kinds/src/lib.rs. Ground truth: with GUARD_EXAMPLE_LOG=PATH each Blocking and Nice RPC
//! appends one line (see the ground-truth crate), which is also the reply's `line`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use blocking_kinds::black_box;
use grpc_server::{Demo, DemoServer, KindReply, KindRequest};
use ground_truth::{log_line, measure_async, Meter};
use tonic::{Request, Response, Status};

/// Largest section an RPC accepts, in ms.
const MAX_MS: u64 = 60_000;

struct DemoService;

fn section_ms(req: &KindRequest) -> Result<u64, Status> {
    if req.ms > MAX_MS {
        return Err(Status::invalid_argument(format!("ms={} is over {MAX_MS}", req.ms)));
    }
    Ok(req.ms)
}

fn unknown_kind(kind: &str) -> Status {
    Status::invalid_argument(format!("kind {kind:?}: want \"cpu\" or \"sleep\""))
}

fn logged(line: String) -> Result<Response<KindReply>, Status> {
    log_line(&line);
    Ok(Response::new(KindReply { line }))
}

#[tonic::async_trait]
impl Demo for DemoService {
    async fn hello(&self, _req: Request<KindRequest>) -> Result<Response<KindReply>, Status> {
        Ok(Response::new(KindReply { line: "hello".into() }))
    }

    /// Blocks the worker thread this poll runs on: what tokio-guard must catch.
    async fn blocking(&self, req: Request<KindRequest>) -> Result<Response<KindReply>, Status> {
        let req = req.into_inner();
        let ms = section_ms(&req)?;
        let d = Duration::from_millis(ms);
        let line = match req.kind.as_str() {
            "cpu" => {
                let m = Meter::start();
                black_box(blocking_kinds::burn_cpu(d));
                m.finish("cpu", ms)
            }
            "sleep" => {
                let m = Meter::start();
                black_box(blocking_kinds::sleepy(d));
                m.finish("sleep", ms)
            }
            other => return Err(unknown_kind(other)),
        };
        logged(line)
    }

    /// The same work without holding the worker: spawn_blocking for CPU, an async sleep.
    async fn nice(&self, req: Request<KindRequest>) -> Result<Response<KindReply>, Status> {
        let req = req.into_inner();
        let ms = section_ms(&req)?;
        let d = Duration::from_millis(ms);
        let line = match req.kind.as_str() {
            "cpu" => tokio::task::spawn_blocking(move || {
                let m = Meter::start();
                black_box(blocking_kinds::burn_cpu(d));
                m.finish("cpu-ok", ms)
            })
            .await
            .map_err(|e| Status::internal(format!("spawn_blocking: {e}")))?,
            "sleep" => measure_async("sleep-ok", ms, tokio::time::sleep(d)).await.1,
            other => return Err(unknown_kind(other)),
        };
        logged(line)
    }
}

// ---------------------------------------------------------------------------------------------
// Startup and shutdown

struct Config {
    port: u16,
    workers: usize,
    current_thread: bool,
}

const USAGE: &str = "usage: grpc-server [--port P] [--workers N | --current-thread]
  --port P          listen on 127.0.0.1:P (default 50051; 0 picks a free port)
  --workers N       multi-thread runtime with N worker threads (default 2)
  --current-thread  current_thread runtime (everything on the main thread)
env: GUARD_EXAMPLE_LOG=PATH  append one measurement line per Blocking/Nice RPC
";

enum Parsed {
    Run(Config),
    Help,
}

fn parse_args() -> Result<Parsed, String> {
    let mut cfg = Config { port: 50051, workers: 2, current_thread: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |what: &str| inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs {what}"));
        match name.as_str() {
            "--port" | "-p" => {
                let v = value("a port")?;
                cfg.port = v.parse().map_err(|_| format!("bad port {v:?}"))?;
            }
            "--workers" | "-w" => {
                let v = value("a count")?;
                cfg.workers = match v.parse() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err(format!("bad worker count {v:?}")),
                };
            }
            "--current-thread" => cfg.current_thread = true,
            "--help" | "-h" => return Ok(Parsed::Help),
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    Ok(Parsed::Run(cfg))
}

async fn serve(cfg: &Config) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    // Handlers go in before "listening on" is printed: a stop right after readiness is clean.
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;

    let addr = SocketAddr::from(([127, 0, 0, 1], cfg.port));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("local address: {e}"))?;
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    println!("listening on {local}");

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let router = tonic::transport::Server::builder().add_service(DemoServer::new(DemoService));
    let server = router.serve_with_incoming_shutdown(incoming, async {
        let _ = stop_rx.await;
    });
    tokio::pin!(server);
    let name = tokio::select! {
        res = &mut server => return res.map_err(|e| format!("server: {e}")),
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    eprintln!("grpc-server: {name}, shutting down");
    let _ = stop_tx.send(());
    // Clients keep their HTTP/2 connections open: give them a second, then go anyway.
    match tokio::time::timeout(Duration::from_secs(1), server).await {
        Ok(res) => res.map_err(|e| format!("server: {e}")),
        Err(_) => Ok(()),
    }
}

fn main() -> ExitCode {
    let cfg = match parse_args() {
        Ok(Parsed::Run(c)) => c,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprint!("grpc-server: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = ground_truth::open_log() {
        eprintln!("grpc-server: {e}");
        return ExitCode::from(1);
    }
    let mut builder = if cfg.current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(cfg.workers);
        b
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("grpc-server: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let res = rt.block_on(serve(&cfg));
    // Do not wait for blocking-pool work (a long Nice cpu) at exit.
    rt.shutdown_timeout(Duration::from_millis(500));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("grpc-server: {msg}");
            ExitCode::from(1)
        }
    }
}
