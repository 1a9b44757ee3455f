//! blocking-server: an axum 0.8 (hyper 1) HTTP server with deliberately blocking endpoints, each
//! paired with a well-behaved twin. It is the target of tokio-guard's end-to-end tests and benchmark.
//!
//! ```text
//! blocking-server [--port P] [--workers N | --current-thread]
//!
//! GET /hello            "hello\n"
//! GET /work?us=N        ~N us of CPU inline in the handler (a normal request, not blocking)
//! GET /cpu?ms=D         blocking: CPU spin on the worker          blocking_kinds::burn_cpu
//! GET /sleep?ms=D       blocking: std::thread::sleep              blocking_kinds::sleepy
//! GET /file?ms=D        blocking: std::fs write + fdatasync       blocking_kinds::sync_file_io
//! GET /mutex?ms=D       blocking: std::sync::Mutex held elsewhere blocking_kinds::lock_shared
//! GET /nap?ms=D         blocking: std::thread::sleep, tail-called  blocking_kinds::nap
//! GET /cpu-ok?ms=D      burn_cpu inside spawn_blocking
//! GET /sleep-ok?ms=D    tokio::time::sleep
//! GET /file-ok?ms=D     the same file work through tokio::fs
//! GET /mutex-ok?ms=D    tokio::sync::Mutex held by another task across an .await
//! ```
//!
//! Every blocking kind and twin runs in its own spawned task (`tokio::spawn(cpu_task(ms)).await`),
//! so each has its own task type (`blocking_server::cpu_task`, ...). A blocking kind does all of its
//! blocking in ONE poll of that task, in a function of the blocking-kinds crate (shared with
//! blocking-tasks): the culprit lines and their `guard:<kind>` marker comments are in
//! blocking-kinds/src/lib.rs, never in this file.
//!
//! `/nap` has no twin: it is `/sleep` again, but `blocking_kinds::nap` reaches std::thread::sleep
//! through a tail call (a `jmp`), so its frame is in no stack walk; tokio-guard puts it back as a
//! `tail_call` frame from the `call nap` before the return address into `nap_task`.
//!
//! Each endpoint has its own handler function (`blocking_server::work`, ...). axum's router is
//! type-erased, so the connection tasks that poll the handlers are named after axum/hyper types,
//! never after this crate: a `function:` selector on a handler selects its polls.
//!
//! Ground truth: with GUARD_EXAMPLE_LOG=PATH, each blocking/twin request appends one line
//!   `kind=<kind> ms=<requested> wall_us=<wall time of the section> cpu_us=<CPU time> tid=<tid>`
//! (flushed), and the response body is the same line. For blocking kinds the section is the
//! synchronous call, measured with CLOCK_THREAD_CPUTIME_ID on the worker that runs it; for
//! `cpu-ok` it is the closure on the blocking-pool thread (tid = that thread); for the async twins
//! (`sleep-ok`, `file-ok`, `mutex-ok`) cpu_us sums the thread CPU time of each poll of the section
//! and tid is the thread of its first poll.
//! Files for /file and /file-ok go to GUARD_EXAMPLE_DIR (default: the system temp dir).

use std::convert::Infallible;
use std::io::{self, SeekFrom};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use blocking_kinds::{black_box, FILE_CHUNK};
use example_common::{ServerArgs, StopSignal};
use ground_truth::{log_line, measure_async, Meter};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::{oneshot, Notify};

/// Largest duration an endpoint accepts, in ms.
const MAX_MS: u64 = 60_000;
/// Hash rounds between two clock reads in /work (finer grained).
const WORK_ROUNDS: u64 = 256;

// ---------------------------------------------------------------------------------------------
// Scratch files (the measurement and GUARD_EXAMPLE_LOG are the ground-truth crate's)

fn example_dir() -> PathBuf {
    match std::env::var_os("GUARD_EXAMPLE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => std::env::temp_dir(),
    }
}

fn scratch_path(kind: &str) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    example_dir().join(format!("tokio-guard-example-{}-{kind}-{n}.dat", std::process::id()))
}

/// Removes a scratch file however the section ends.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// The /mutex holder and the work of /work (the blocking functions are in the blocking-kinds crate)

/// Holder side of /mutex (runs on its own OS thread): takes the mutex, says so, holds it for `d`.
/// Each request has its own mutex, so concurrent requests each wait about `d`.
fn hold_shared(m: Arc<StdMutex<u64>>, d: Duration, held: oneshot::Sender<()>) {
    let g = m.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = held.send(());
    std::thread::sleep(d);
    drop(g);
}

/// The CPU work of /work: a realistic, short request.
#[inline(never)]
fn do_work(us: u64) -> u64 {
    let d = Duration::from_micros(us);
    let start = Instant::now();
    let rounds = black_box(WORK_ROUNDS);
    let mut h: u64 = 0x8422_2325_cbf2_9ce4;
    loop {
        let mut i = 0;
        while i < rounds {
            h = (h ^ i).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(17);
            i += 1;
        }
        if start.elapsed() >= d {
            return black_box(h);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tasks: one spawned task per request of each kind (distinct task type names).

async fn cpu_task(ms: u64) -> String {
    let m = Meter::start();
    black_box(blocking_kinds::burn_cpu(Duration::from_millis(ms)));
    m.finish("cpu", ms)
}

async fn sleep_task(ms: u64) -> String {
    let m = Meter::start();
    black_box(blocking_kinds::sleepy(Duration::from_millis(ms)));
    m.finish("sleep", ms)
}

async fn nap_task(ms: u64) -> String {
    let m = Meter::start();
    blocking_kinds::nap(Duration::from_millis(ms));
    m.finish("nap", ms)
}

async fn file_task(ms: u64) -> io::Result<String> {
    let m = Meter::start();
    let rounds = {
        let path = scratch_path("file");
        let _cleanup = RemoveOnDrop(path.clone());
        blocking_kinds::sync_file_io(&path, Duration::from_millis(ms))
    };
    black_box(rounds?);
    Ok(m.finish("file", ms))
}

async fn mutex_task(ms: u64, shared: Arc<StdMutex<u64>>) -> String {
    let m = Meter::start();
    black_box(blocking_kinds::lock_shared(&shared));
    m.finish("mutex", ms)
}

async fn cpu_ok_task(ms: u64) -> String {
    tokio::task::spawn_blocking(move || {
        let m = Meter::start();
        black_box(blocking_kinds::burn_cpu(Duration::from_millis(ms)));
        m.finish("cpu-ok", ms)
    })
    .await
    .unwrap_or_else(|e| format!("kind=cpu-ok error={e}\n"))
}

async fn sleep_ok_task(ms: u64) -> String {
    measure_async("sleep-ok", ms, tokio::time::sleep(Duration::from_millis(ms))).await.1
}

async fn async_file_io(d: Duration) -> io::Result<u64> {
    let path = scratch_path("file-ok");
    let _cleanup = RemoveOnDrop(path.clone());
    let mut f = tokio::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).await?;
    let mut chunk = vec![0x5au8; FILE_CHUNK];
    let mut back = vec![0u8; FILE_CHUNK];
    let start = Instant::now();
    let mut rounds = 0u64;
    loop {
        chunk[0] = rounds as u8;
        f.seek(SeekFrom::Start(0)).await?;
        f.write_all(&chunk).await?;
        f.sync_data().await?;
        f.seek(SeekFrom::Start(0)).await?;
        f.read_exact(&mut back).await?;
        rounds += 1;
        if start.elapsed() >= d {
            return Ok(rounds);
        }
    }
}

async fn file_ok_task(ms: u64) -> io::Result<String> {
    let (res, line) = measure_async("file-ok", ms, async_file_io(Duration::from_millis(ms))).await;
    res?;
    Ok(line)
}

/// Holder side of /mutex-ok: a task that holds the (per-request) tokio Mutex across an .await.
async fn mutex_ok_holder(m: Arc<tokio::sync::Mutex<u64>>, d: Duration, held: oneshot::Sender<()>) {
    let g = m.lock().await;
    let _ = held.send(());
    tokio::time::sleep(d).await;
    drop(g);
}

async fn mutex_ok_task(ms: u64, shared: Arc<tokio::sync::Mutex<u64>>) -> String {
    let section = async {
        let mut g = shared.lock().await;
        *g += 1;
    };
    measure_async("mutex-ok", ms, section).await.1
}

// ---------------------------------------------------------------------------------------------
// HTTP: one handler per endpoint, so a function selector can pick each one's polls.

fn query_param<'a>(query: Option<&'a str>, key: &str) -> Option<&'a str> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then_some(v)
    })
}

/// `key` as an integer in 0..=max, `default` when absent, a 400 response when malformed.
fn int_param(query: Option<&str>, key: &str, default: u64, max: u64) -> Result<u64, Response> {
    match query_param(query, key) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err((StatusCode::BAD_REQUEST, format!("bad {key}={v:?}: want an integer 0..={max}\n")).into_response()),
        },
    }
}

/// The `ms` parameter of a blocking kind or twin.
fn ms_param(uri: &Uri) -> Result<u64, Response> {
    int_param(uri.query(), "ms", 20, MAX_MS)
}

fn failed(kind: &str, e: impl std::fmt::Display) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, format!("kind={kind} error={e}\n")).into_response()
}

/// Turns a kind's joined task into the response, logging its record line.
fn finish_kind<E: std::fmt::Display>(
    kind: &str,
    joined: Result<Result<String, E>, tokio::task::JoinError>,
) -> Response {
    match joined {
        Ok(Ok(line)) => {
            log_line(&line);
            line.into_response()
        }
        Ok(Err(e)) => failed(kind, e),
        Err(e) => failed(kind, e),
    }
}

fn ok(s: String) -> Result<String, Infallible> {
    Ok(s)
}

/// Requests being served. axum's own graceful shutdown spawns a watcher task at startup, and a
/// server no one has connected to must not have polled any task (tokio-guard's tests rely on
/// it): after a stop signal, the server stops accepting and waits for these instead.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static ALL_DONE: Notify = Notify::const_new();

struct InFlight;

impl InFlight {
    fn enter() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::AcqRel);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if IN_FLIGHT.fetch_sub(1, Ordering::AcqRel) == 1 {
            ALL_DONE.notify_waiters();
        }
    }
}

async fn drained() {
    loop {
        let done = ALL_DONE.notified();
        tokio::pin!(done);
        done.as_mut().enable(); // registered before the check: no wake-up is missed
        if IN_FLIGHT.load(Ordering::Acquire) == 0 {
            return;
        }
        done.await;
    }
}

async fn hello() -> &'static str {
    let _req = InFlight::enter();
    "hello\n"
}

async fn work(uri: Uri) -> Result<String, Response> {
    let _req = InFlight::enter();
    let query = uri.query();
    let us = match query_param(query, "ms") {
        Some(_) => int_param(query, "ms", 0, MAX_MS)? * 1000,
        None => int_param(query, "us", 50, MAX_MS * 1000)?,
    };
    Ok(format!("work us={us} checksum={:016x}\n", do_work(us)))
}

async fn cpu(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    Ok(finish_kind("cpu", tokio::spawn(cpu_task(ms)).await.map(ok)))
}

async fn sleep(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    Ok(finish_kind("sleep", tokio::spawn(sleep_task(ms)).await.map(ok)))
}

async fn nap(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    Ok(finish_kind("nap", tokio::spawn(nap_task(ms)).await.map(ok)))
}

async fn file(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    Ok(finish_kind("file", tokio::spawn(file_task(ms)).await))
}

async fn mutex(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    // The holder takes the std Mutex on its own thread; the blocking task starts only once it
    // is held, so lock_shared waits about ms.
    let shared = Arc::new(StdMutex::new(0u64));
    let (tx, rx) = oneshot::channel();
    let (holder_m, d) = (shared.clone(), Duration::from_millis(ms));
    std::thread::Builder::new()
        .name("mutex-holder".into())
        .spawn(move || hold_shared(holder_m, d, tx))
        .map_err(|e| failed("mutex", e))?;
    let _ = rx.await;
    Ok(finish_kind("mutex", tokio::spawn(mutex_task(ms, shared)).await.map(ok)))
}

async fn cpu_ok(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    Ok(finish_kind("cpu-ok", tokio::spawn(cpu_ok_task(ms)).await.map(ok)))
}

async fn sleep_ok(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    Ok(finish_kind("sleep-ok", tokio::spawn(sleep_ok_task(ms)).await.map(ok)))
}

async fn file_ok(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    Ok(finish_kind("file-ok", tokio::spawn(file_ok_task(ms)).await))
}

async fn mutex_ok(uri: Uri) -> Result<Response, Response> {
    let _req = InFlight::enter();
    let ms = ms_param(&uri)?;
    let shared = Arc::new(tokio::sync::Mutex::new(0u64));
    let (tx, rx) = oneshot::channel();
    tokio::spawn(mutex_ok_holder(shared.clone(), Duration::from_millis(ms), tx));
    let _ = rx.await;
    Ok(finish_kind("mutex-ok", tokio::spawn(mutex_ok_task(ms, shared)).await.map(ok)))
}

async fn not_found(uri: Uri) -> Response {
    (StatusCode::NOT_FOUND, format!("no such endpoint: {}\n", uri.path())).into_response()
}

fn router() -> Router {
    Router::new()
        .route("/hello", get(hello))
        .route("/work", get(work))
        .route("/cpu", get(cpu))
        .route("/sleep", get(sleep))
        .route("/file", get(file))
        .route("/mutex", get(mutex))
        .route("/nap", get(nap))
        .route("/cpu-ok", get(cpu_ok))
        .route("/sleep-ok", get(sleep_ok))
        .route("/file-ok", get(file_ok))
        .route("/mutex-ok", get(mutex_ok))
        .fallback(not_found)
}

// ---------------------------------------------------------------------------------------------
// Startup and shutdown (flags, runtime, listener and signals: the example-common crate)

const USAGE: &str = "usage: blocking-server [--port P] [--workers N | --current-thread]
  --port P          listen on 127.0.0.1:P (default 3000; 0 picks a free port)
  --workers N       multi-thread runtime with N worker threads (default 2)
  --current-thread  current_thread runtime (everything on the main thread)
env: GUARD_EXAMPLE_LOG=PATH  append one measurement line per blocking/twin request
     GUARD_EXAMPLE_DIR=DIR   scratch files of /file and /file-ok (default: temp dir)
";

async fn serve(cfg: ServerArgs) -> Result<(), String> {
    let mut stop = StopSignal::install()?;
    let (listener, _) = example_common::listen(cfg.port).await?;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });

    // The accept loop runs here, in block_on; each connection is a task spawned by axum.
    let server = axum::serve(listener, router());
    let name = tokio::select! {
        res = async { server.await } => return res.map_err(|e| format!("server: {e}")),
        name = stop.recv() => name,
    };
    eprintln!("blocking-server: {name}, shutting down");
    if tokio::time::timeout(Duration::from_secs(1), drained()).await.is_err() {
        eprintln!("blocking-server: requests still running 1s after the signal, exiting anyway");
    }
    Ok(())
}

fn main() -> ExitCode {
    example_common::run_server("blocking-server", USAGE, 3000, serve)
}
