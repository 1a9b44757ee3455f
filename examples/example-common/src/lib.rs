//! example-common: the startup and shutdown the example servers (blocking-server, grpc-server,
//! actix-app) and blocking-main share, so each keeps only its own endpoints and tasks.
//!
//! - [`parse_server_args`]: `--port P`, `--workers N`, `--current-thread` (where the server picks
//!   its runtime), `--help`; `--name=value` works too.
//! - [`start`]: those flags, then GUARD_EXAMPLE_LOG opened (ground-truth), errors printed the same
//!   way by every server.
//! - [`run_server`]: [`start`], the runtime the flags ask for, the server future in `block_on`, and
//!   an exit that waits for no blocking-pool work.
//! - [`listen`]: bind 127.0.0.1:P and say `listening on ADDR` (the line the tests wait for).
//! - [`StopSignal`]: SIGTERM / SIGINT, installed before the server says it is ready.
//!
//! blocking-tasks keeps its own copy of the signal handling: the tokio matrix builds its source
//! against blocking-kinds and ground-truth only (examples/matrix).

use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::runtime::{Builder, Runtime};
use tokio::signal::unix::{signal, Signal, SignalKind};

/// What a server's flags ask for.
pub struct ServerArgs {
    pub port: u16,
    pub workers: usize,
    pub current_thread: bool,
}

pub enum Parsed {
    Run(ServerArgs),
    Help,
}

/// Parses a server's flags (`args` without the program name): 2 workers by default; with
/// `flavors` false, `--current-thread` is an unknown argument (actix builds its own runtimes).
pub fn parse_server_args(
    mut args: impl Iterator<Item = String>,
    default_port: u16,
    flavors: bool,
) -> Result<Parsed, String> {
    let mut cfg = ServerArgs { port: default_port, workers: 2, current_thread: false };
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
            "--current-thread" if flavors => cfg.current_thread = true,
            "--help" | "-h" => return Ok(Parsed::Help),
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    Ok(Parsed::Run(cfg))
}

/// The process's flags, then GUARD_EXAMPLE_LOG opened. Err is the exit code to return at once:
/// 0 after `--help` (usage on stdout), 2 for a bad flag (message and usage on stderr), 1 when
/// the log cannot be opened.
pub fn start(name: &str, usage: &str, default_port: u16, flavors: bool) -> Result<ServerArgs, ExitCode> {
    let cfg = match parse_server_args(std::env::args().skip(1), default_port, flavors) {
        Ok(Parsed::Run(c)) => c,
        Ok(Parsed::Help) => {
            print!("{usage}");
            return Err(ExitCode::SUCCESS);
        }
        Err(msg) => {
            eprint!("{name}: {msg}\n{usage}");
            return Err(ExitCode::from(2));
        }
    };
    if let Err(e) = ground_truth::open_log() {
        eprintln!("{name}: {e}");
        return Err(ExitCode::from(1));
    }
    Ok(cfg)
}

/// A current_thread runtime, or a multi-thread one with `workers` workers; all drivers enabled.
pub fn build_runtime(current_thread: bool, workers: usize) -> io::Result<Runtime> {
    let mut builder = if current_thread {
        Builder::new_current_thread()
    } else {
        let mut b = Builder::new_multi_thread();
        b.worker_threads(workers);
        b
    };
    builder.enable_all().build()
}

/// Runs a server: [`start`], the runtime its flags ask for, `serve(args)` in `block_on` (so
/// its accept loop runs there, not in a task). Errors are printed as `NAME: message`, exit 1.
pub fn run_server<F, Fut>(name: &str, usage: &str, default_port: u16, serve: F) -> ExitCode
where
    F: FnOnce(ServerArgs) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let cfg = match start(name, usage, default_port, true) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rt = match build_runtime(cfg.current_thread, cfg.workers) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let res = rt.block_on(serve(cfg));
    // Do not wait for blocking-pool work (a long spawn_blocking twin) or idle connections at exit.
    rt.shutdown_timeout(Duration::from_millis(500));
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{name}: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Binds 127.0.0.1:`port` (0: a free one) and prints `listening on ADDR`, flushed: install the
/// [`StopSignal`] first, so a stop right after readiness is clean.
pub async fn listen(port: u16) -> Result<(TcpListener, SocketAddr), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("bind {addr}: {e}"))?;
    println!("listening on {local}");
    let _ = io::stdout().flush();
    Ok((listener, local))
}

/// SIGTERM and SIGINT, the two ways tokio-guard (or a user) stops a target.
pub struct StopSignal {
    term: Signal,
    int: Signal,
}

impl StopSignal {
    /// Installs both handlers; needs a runtime with the signal driver (any of [`build_runtime`]'s).
    pub fn install() -> Result<StopSignal, String> {
        let term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
        let int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
        Ok(StopSignal { term, int })
    }

    /// Waits for the next of them; returns its name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
