//! actix-app (examples/actix-server): an actix-web 4 app with blocking handlers and well-behaved
//! twins, a target of tokio-guard's end-to-end tests. (Not named actix-server: that is a crate of
//! actix itself, and its symbols would read like ours.) Its workers are actix's: each a thread
//! with a current_thread Tokio runtime and a LocalSet, where every connection is a `spawn_local`
//! task and the handlers run inside that task's polls.
//!
//! ```text
//! actix-app [--port P] [--workers N]
//!
//! GET /hello          "hello\n"
//! GET /cpu?ms=D       blocking: CPU spin in the handler          blocking_kinds::burn_cpu
//! GET /sleep?ms=D     blocking: std::thread::sleep in it         blocking_kinds::sleepy
//! GET /cpu-ok?ms=D    burn_cpu inside actix_web::web::block (the blocking pool)
//! GET /sleep-ok?ms=D  tokio::time::sleep
//! ```
//!
//! The culprit lines and their `guard:<kind>` markers are in blocking-kinds/src/lib.rs. Ground
//! truth: with GUARD_EXAMPLE_LOG=PATH each /cpu, /sleep, /cpu-ok and /sleep-ok request appends
//! one line (see the ground-truth crate), which is also the response body.

use std::process::ExitCode;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use blocking_kinds::black_box;
use example_common::ServerArgs;
use ground_truth::{log_line, measure_async, Meter};

/// Largest duration an endpoint accepts, in ms.
const MAX_MS: u64 = 60_000;

fn text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(body)
}

/// `ms` of the query string in 0..=MAX_MS, 20 when absent, Err(response) when malformed.
fn ms_param(req: &HttpRequest) -> Result<u64, HttpResponse> {
    let value = req.query_string().split('&').find_map(|kv| kv.strip_prefix("ms="));
    match value {
        None => Ok(20),
        Some(v) => match v.parse::<u64>() {
            Ok(ms) if ms <= MAX_MS => Ok(ms),
            _ => Err(text(StatusCode::BAD_REQUEST, format!("bad ms={v:?}: want an integer 0..={MAX_MS}\n"))),
        },
    }
}

fn logged(line: String) -> HttpResponse {
    log_line(&line);
    text(StatusCode::OK, line)
}

async fn hello() -> HttpResponse {
    text(StatusCode::OK, "hello\n".into())
}

/// Blocks the worker (and every connection of its LocalSet) inside the handler.
async fn cpu(req: HttpRequest) -> HttpResponse {
    let ms = match ms_param(&req) {
        Ok(ms) => ms,
        Err(resp) => return resp,
    };
    let m = Meter::start();
    black_box(blocking_kinds::burn_cpu(Duration::from_millis(ms)));
    logged(m.finish("cpu", ms))
}

async fn sleep(req: HttpRequest) -> HttpResponse {
    let ms = match ms_param(&req) {
        Ok(ms) => ms,
        Err(resp) => return resp,
    };
    let m = Meter::start();
    black_box(blocking_kinds::sleepy(Duration::from_millis(ms)));
    logged(m.finish("sleep", ms))
}

async fn cpu_ok(req: HttpRequest) -> HttpResponse {
    let ms = match ms_param(&req) {
        Ok(ms) => ms,
        Err(resp) => return resp,
    };
    let work = web::block(move || {
        let m = Meter::start();
        black_box(blocking_kinds::burn_cpu(Duration::from_millis(ms)));
        m.finish("cpu-ok", ms)
    });
    match work.await {
        Ok(line) => logged(line),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("kind=cpu-ok error={e}\n")),
    }
}

async fn sleep_ok(req: HttpRequest) -> HttpResponse {
    let ms = match ms_param(&req) {
        Ok(ms) => ms,
        Err(resp) => return resp,
    };
    logged(measure_async("sleep-ok", ms, tokio::time::sleep(Duration::from_millis(ms))).await.1)
}

// ---------------------------------------------------------------------------------------------
// Startup and shutdown

const USAGE: &str = "usage: actix-app [--port P] [--workers N]
  --port P     listen on 127.0.0.1:P (default 8080; 0 picks a free port)
  --workers N  actix workers, each a thread with a current_thread runtime and a LocalSet (default 2)
env: GUARD_EXAMPLE_LOG=PATH  append one measurement line per blocking/twin request
";

/// Runs the server until actix's own signal handling stops it (SIGTERM: graceful, at most 1 s).
async fn serve(cfg: &ServerArgs) -> Result<(), String> {
    let server = HttpServer::new(|| {
        App::new()
            .route("/hello", web::get().to(hello))
            .route("/cpu", web::get().to(cpu))
            .route("/sleep", web::get().to(sleep))
            .route("/cpu-ok", web::get().to(cpu_ok))
            .route("/sleep-ok", web::get().to(sleep_ok))
    })
    .workers(cfg.workers)
    .shutdown_timeout(1)
    .bind(("127.0.0.1", cfg.port))
    .map_err(|e| format!("bind 127.0.0.1:{}: {e}", cfg.port))?;
    for addr in server.addrs() {
        println!("listening on {addr}");
    }
    server.run().await.map_err(|e| format!("server: {e}"))
}

fn main() -> ExitCode {
    // Flags and GUARD_EXAMPLE_LOG as the other servers; no --current-thread (actix's workers).
    let cfg = match example_common::start("actix-app", USAGE, 8080, false) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match actix_web::rt::System::new().block_on(serve(&cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("actix-app: {msg}");
            ExitCode::from(1)
        }
    }
}
