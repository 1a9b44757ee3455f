//! blocking-tasks: a Tokio-only job runner whose tasks block a worker periodically, each kind paired
//! with a well-behaved twin. Target of tokio-guard's tests; built twice by build.sh (see README).
//!
//! ```text
//! blocking-tasks [--seconds N] [--block-ms D] [--period-ms P]
//! blocking-tasks --storm T [--storm-polls K] [--storm-us U]
//! blocking-tasks [--fork N | --daemonize] [--runtimes 2] ...
//! ```
//!
//! A 2-worker multi-thread runtime runs for N seconds (default 3), then exits 0 (also on
//! SIGTERM/SIGINT). Every P ms (default 100) it spawns one task of each kind and awaits them all:
//!
//! ```text
//! blocking_tasks::cpu_task       CPU spin on the worker, D ms               blocking_kinds::burn_cpu
//! blocking_tasks::sleep_task     std::thread::sleep(D)                      blocking_kinds::sleepy
//! blocking_tasks::mutex_task     std Mutex held D ms by a spawn_blocking    blocking_kinds::lock_shared
//! blocking_tasks::cpu_ok_task    burn_cpu inside spawn_blocking
//! blocking_tasks::sleep_ok_task  tokio::time::sleep(D)
//! ```
//!
//! Ground truth: with `GUARD_EXAMPLE_LOG=PATH`, each blocking section appends one line (the
//! ground-truth crate): `kind=<cpu|sleep|mutex> ms=<D> wall_us=<N> cpu_us=<N> tid=<N>`.
//!
//! Probe storm (`--storm T`): instead of rounds, T tasks `blocking_tasks::storm_task` each poll K
//! times (default 5000), every poll a spin of U µs (default 50) then `yield_now`, so every poll of
//! them is over a low trace floor; then it logs (GUARD_EXAMPLE_LOG) the polls they counted
//! themselves, `kind=storm tasks=<T> polls=<T*K> spin_us=<U>`, prints `storm of <N> polls`, and
//! waits for SIGTERM/SIGINT or the end of the N seconds before it exits 0.
//!
//! Process shapes, for tokio-guard's fault matrix:
//! - `--fork N`: N child processes of this program, forked before any runtime exists (a pre-fork
//!   server); each prints `blocking-tasks: forked <pid>` and runs the same rounds in its own runtime.
//! - `--daemonize`: the classic daemon start: fork, the parent prints `blocking-tasks: daemon <pid>`
//!   and exits 0 at once, the child leaves the session (setsid) and runs the rounds.
//! - `--runtimes 2`: a second runtime, current-thread on its own thread `second-rt`, runs rounds
//!   too, its blocking sections 10 ms longer than D (so the ground truth tells the two apart).
//!
//! A blocking kind blocks in ONE poll of its own task, in a function of the blocking-kinds crate
//! (shared with blocking-server): the culprit lines and their `guard:<kind>` marker comments are in
//! blocking-kinds/src/lib.rs, never in this file.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::{Duration, Instant};

use blocking_kinds::black_box;
use ground_truth::{log_line, Meter};
use tokio::sync::oneshot;

// Tasks: one spawned task per kind per round (distinct task type names).

async fn cpu_task(d: Duration) -> u64 {
    let m = Meter::start();
    let v = black_box(blocking_kinds::burn_cpu(d));
    log_line(&m.finish("cpu", d.as_millis() as u64));
    v
}

async fn sleep_task(d: Duration) -> u64 {
    let m = Meter::start();
    let v = black_box(blocking_kinds::sleepy(d));
    log_line(&m.finish("sleep", d.as_millis() as u64));
    v
}

async fn mutex_task(shared: Arc<StdMutex<u64>>, d: Duration) -> u64 {
    let m = Meter::start();
    let v = black_box(blocking_kinds::lock_shared(&shared));
    log_line(&m.finish("mutex", d.as_millis() as u64));
    v
}

async fn cpu_ok_task(d: Duration) -> u64 {
    tokio::task::spawn_blocking(move || blocking_kinds::burn_cpu(d)).await.unwrap_or(0)
}

async fn sleep_ok_task(d: Duration) -> u64 {
    tokio::time::sleep(d).await;
    black_box(d.as_micros() as u64)
}

/// One round: every kind once, concurrently. The mutex holder (a blocking-pool thread) takes the
/// lock before mutex_task is spawned, so lock_shared waits about `d`.
async fn round(d: Duration) {
    let shared = Arc::new(StdMutex::new(0u64));
    let (tx, rx) = oneshot::channel();
    let holder_m = shared.clone();
    let holder = tokio::task::spawn_blocking(move || {
        let g = holder_m.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = tx.send(());
        std::thread::sleep(d);
        drop(g);
    });
    let _ = rx.await;
    let tasks = [
        tokio::spawn(mutex_task(shared, d)),
        tokio::spawn(cpu_task(d)),
        tokio::spawn(sleep_task(d)),
        tokio::spawn(cpu_ok_task(d)),
        tokio::spawn(sleep_ok_task(d)),
    ];
    for t in tasks {
        let _ = t.await;
    }
    let _ = holder.await;
}

/// One storm task: POLLS polls, each a SPIN of wall time (the trace floor is on wall time) and a
/// yield; each poll it made is counted in COUNT when it ends.
async fn storm_task(polls: u64, spin: Duration, count: Arc<AtomicU64>) {
    for i in 0..polls {
        let t = Instant::now();
        while t.elapsed() < spin {
            std::hint::spin_loop();
        }
        count.fetch_add(1, Ordering::Relaxed);
        if i + 1 < polls {
            tokio::task::yield_now().await;
        }
    }
}

async fn storm(cfg: &Config) -> Result<u64, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
    let deadline = tokio::time::sleep(Duration::from_secs(cfg.seconds));
    let count = Arc::new(AtomicU64::new(0));
    let spin = Duration::from_micros(cfg.storm_us);
    let tasks: Vec<_> = (0..cfg.storm)
        .map(|_| tokio::spawn(storm_task(cfg.storm_polls, spin, count.clone())))
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let polls = count.load(Ordering::Relaxed);
    log_line(&format!("kind=storm tasks={} polls={polls} spin_us={}\n", cfg.storm, cfg.storm_us));
    println!("blocking-tasks: storm of {polls} polls");
    tokio::select! {
        _ = deadline => {}
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(polls)
}

#[derive(Clone)]
struct Config {
    seconds: u64,
    block_ms: u64,
    period_ms: u64,
    storm: u64,
    storm_polls: u64,
    storm_us: u64,
    fork: u64,
    daemonize: bool,
    runtimes: u64,
}

const USAGE: &str = "usage: blocking-tasks [--seconds N] [--block-ms D] [--period-ms P]
       blocking-tasks --storm T [--storm-polls K] [--storm-us U]
  --seconds N    run N seconds, then exit 0 (default 3)
  --block-ms D   each blocking task blocks D ms (default 20)
  --period-ms P  start a round of tasks every P ms (default 100)
  --storm T      probe storm instead: T tasks poll K times each, U us of spin a poll, then exit
  --storm-polls K, --storm-us U   (defaults 5000 and 50)
  --fork N       N child processes run the rounds too (forked before any runtime)
  --daemonize    fork; the parent exits 0 at once, the child (setsid) runs the rounds
  --runtimes 2   a second, current-thread runtime on thread second-rt runs rounds of D+10 ms
";

fn parse_args() -> Result<Config, String> {
    let mut cfg = Config {
        seconds: 3,
        block_ms: 20,
        period_ms: 100,
        storm: 0,
        storm_polls: 5000,
        storm_us: 50,
        fork: 0,
        daemonize: false,
        runtimes: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let slot = match a.as_str() {
            "--seconds" => &mut cfg.seconds,
            "--block-ms" => &mut cfg.block_ms,
            "--period-ms" => &mut cfg.period_ms,
            "--storm" => &mut cfg.storm,
            "--storm-polls" => &mut cfg.storm_polls,
            "--storm-us" => &mut cfg.storm_us,
            "--fork" => &mut cfg.fork,
            "--runtimes" => &mut cfg.runtimes,
            "--daemonize" => {
                cfg.daemonize = true;
                continue;
            }
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {a:?}")),
        };
        let v = args.next().ok_or(format!("{a} needs a number"))?;
        *slot = v.parse().map_err(|_| format!("bad {a} value {v:?}"))?;
    }
    if cfg.runtimes == 0 || cfg.runtimes > 2 {
        return Err(format!("--runtimes is 1 or 2, got {}", cfg.runtimes));
    }
    Ok(cfg)
}

async fn run(cfg: &Config) -> Result<u64, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
    let deadline = tokio::time::sleep(Duration::from_secs(cfg.seconds));
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(Duration::from_millis(cfg.period_ms.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let d = Duration::from_millis(cfg.block_ms);
    let mut rounds = 0;
    loop {
        tokio::select! {
            _ = &mut deadline => return Ok(rounds),
            _ = term.recv() => return Ok(rounds),
            _ = int.recv() => return Ok(rounds),
            _ = tick.tick() => {}
        }
        round(d).await;
        rounds += 1;
    }
}

/// Forks before any thread exists (the runtime's included), so the child is a plain copy.
/// Returns the child's pid in the parent, 0 in the child.
fn fork() -> Result<i32, String> {
    // SAFETY: called from main before any other thread is started.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    Ok(pid)
}

/// --daemonize and --fork: true in the process that goes on to run the rounds.
fn shape_process(cfg: &Config) -> Result<bool, String> {
    if cfg.daemonize {
        let pid = fork()?;
        if pid > 0 {
            println!("blocking-tasks: daemon {pid}");
            return Ok(false);
        }
        // SAFETY: setsid has no preconditions; the child is not a group leader.
        unsafe { libc::setsid() };
    }
    for _ in 0..cfg.fork {
        let pid = fork()?;
        if pid == 0 {
            println!("blocking-tasks: forked {}", std::process::id());
            break;
        }
    }
    Ok(true)
}

/// The second runtime of --runtimes 2: current-thread, on its own thread.
fn second_runtime(cfg: &Config) -> Result<std::thread::JoinHandle<Result<u64, String>>, String> {
    let mut cfg = cfg.clone();
    cfg.block_ms += 10;
    std::thread::Builder::new()
        .name("second-rt".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            rt.map_err(|e| format!("second runtime: {e}")).and_then(|rt| rt.block_on(run(&cfg)))
        })
        .map_err(|e| format!("second-rt thread: {e}"))
}

fn run_runtimes(cfg: &Config) -> Result<u64, String> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let rt = rt.map_err(|e| format!("runtime: {e}"))?;
    let second = if cfg.runtimes > 1 { Some(second_runtime(cfg)?) } else { None };
    let res = if cfg.storm > 0 { rt.block_on(storm(cfg)) } else { rt.block_on(run(cfg)) };
    rt.shutdown_timeout(Duration::from_millis(500));
    let second = second.map(|h| h.join().unwrap_or_else(|_| Err("second runtime panicked".into())));
    Ok(res? + second.transpose()?.unwrap_or(0))
}

fn main() -> ExitCode {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(msg) => {
            eprint!("blocking-tasks: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = ground_truth::open_log() {
        eprintln!("blocking-tasks: {e}");
        return ExitCode::from(1);
    }
    match shape_process(&cfg) {
        Ok(true) => {}
        Ok(false) => return ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("blocking-tasks: {msg}");
            return ExitCode::from(1);
        }
    }
    match run_runtimes(&cfg) {
        Ok(_) if cfg.storm > 0 => ExitCode::SUCCESS,
        Ok(rounds) => {
            println!("blocking-tasks: {rounds} rounds");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("blocking-tasks: {msg}");
            ExitCode::from(1)
        }
    }
}
