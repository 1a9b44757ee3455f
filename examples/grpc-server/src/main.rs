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

use std::process::ExitCode;
use std::time::Duration;

use blocking_kinds::black_box;
use example_common::{ServerArgs, StopSignal};
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
// Startup and shutdown (flags, runtime, listener and signals: the example-common crate)

const USAGE: &str = "usage: grpc-server [--port P] [--workers N | --current-thread]
  --port P          listen on 127.0.0.1:P (default 50051; 0 picks a free port)
  --workers N       multi-thread runtime with N worker threads (default 2)
  --current-thread  current_thread runtime (everything on the main thread)
env: GUARD_EXAMPLE_LOG=PATH  append one measurement line per Blocking/Nice RPC
";

async fn serve(cfg: ServerArgs) -> Result<(), String> {
    let mut stop = StopSignal::install()?;
    let (listener, _) = example_common::listen(cfg.port).await?;
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let router = tonic::transport::Server::builder().add_service(DemoServer::new(DemoService));
    let server = router.serve_with_incoming_shutdown(incoming, async {
        let _ = stop_rx.await;
    });
    tokio::pin!(server);
    let name = tokio::select! {
        res = &mut server => return res.map_err(|e| format!("server: {e}")),
        name = stop.recv() => name,
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
    example_common::run_server("grpc-server", USAGE, 50051, serve)
}
