//! costs: known amounts for what tokio-guard measures beyond one slow poll. Each mode logs its own
//! measurement (GUARD_EXAMPLE_LOG, one flushed line each) so that tests compare against the
//! target, never against tokio-guard's previous output.
//!
//! ```text
//! costs --cascade [--rounds R] [--delayed N] [--block-ms B] [--workers W]
//! costs --hotspot [--seconds S] [--hot-pct P] [--tasks T]
//! costs --leak [--requests N] [--leak-bytes B] [--rate R]
//! ```
//!
//! - `--cascade` (a 1-worker runtime by default): each round, N tasks `costs::delayed_task` wait on
//!   a oneshot, then `costs::blocker_task` holds the worker in `std::thread::sleep(B)`; while it
//!   does, a plain thread wakes the N tasks one after another over the first half of the block.
//!   They are ready but queued behind the blocker. Each logs
//!   `kind=delayed round=<r> task=<i> wait_us=<wake to first poll after it> tid=<tid> pid=<pid>`;
//!   the blocker logs `kind=blocker round=<r> ms=<B> wall_us=<N> cpu_us=<N> tid=<tid> pid=<pid>`.
//!   Defaults: 5 rounds, 8 tasks, 25 ms. The blocking line is marked `guard:cascade`.
//! - `--hotspot` (2 workers): T tasks (default 2) loop for S seconds (default 3): `hot_function`
//!   spins, then `cold_function` spins, in the ratio P : 100-P (default 40), then `yield_now` (so
//!   no poll blocks). At the end: `kind=hotspot hot_us=<CPU in hot_function> cold_us=<…>
//!   process_us=<the whole process's CPU (getrusage)>` — hot_us / process_us is the known share.
//! - `--leak` (2 workers): N requests (default 2000) at R per second (default 2000) through a
//!   channel to `costs::handle_request`, which allocates and frees a 4 KB buffer and leaks B bytes
//!   (default 1000) at the line marked `guard:leak`. At the end:
//!   `kind=leak requests=<N> leak_bytes=<B> leaked=<N*B> freed_allocs=<N>`.
//!
//! Every mode then waits for SIGTERM/SIGINT (or 60 s) and exits 0: the probes see the whole run.

use std::hint::black_box;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use ground_truth::{log_line, Meter};
use tokio::sync::oneshot;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Cascade,
    Hotspot,
    Leak,
}

struct Config {
    mode: Mode,
    rounds: u64,
    delayed: usize,
    block_ms: u64,
    workers: usize,
    seconds: u64,
    hot_pct: u64,
    tasks: usize,
    requests: u64,
    leak_bytes: usize,
    rate: u64,
}

fn thread_cpu_us() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

fn process_cpu_us() -> u64 {
    // SAFETY: getrusage only writes the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(ru.ru_utime) + us(ru.ru_stime)
}

fn tid() -> i64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as i64 }
}

// ---- cascade

async fn delayed_task(round: u64, i: usize, armed: Arc<AtomicUsize>, rx: oneshot::Receiver<Instant>) {
    armed.fetch_add(1, Ordering::SeqCst);
    let Ok(woken) = rx.await else { return };
    let wait = woken.elapsed();
    log_line(&format!(
        "kind=delayed round={round} task={i} wait_us={} tid={} pid={}\n",
        wait.as_micros(),
        tid(),
        std::process::id()
    ));
}

#[inline(never)]
fn hold_worker(d: Duration, started: &mpsc::Sender<()>) {
    let _ = started.send(());
    std::thread::sleep(d); // guard:cascade
}

async fn blocker_task(d: Duration, started: mpsc::Sender<()>) {
    let m = Meter::start();
    hold_worker(d, &started);
    log_line(&m.finish("blocker", d.as_millis() as u64));
}

async fn cascade(cfg: &Config) {
    let d = Duration::from_millis(cfg.block_ms);
    for round in 0..cfg.rounds {
        let armed = Arc::new(AtomicUsize::new(0));
        let mut senders = Vec::new();
        let mut waiters = Vec::new();
        for i in 0..cfg.delayed {
            let (tx, rx) = oneshot::channel();
            senders.push(tx);
            waiters.push(tokio::spawn(delayed_task(round, i, armed.clone(), rx)));
        }
        while armed.load(Ordering::SeqCst) < cfg.delayed {
            tokio::task::yield_now().await;
        }
        let (started_tx, started_rx) = mpsc::channel();
        let n = cfg.delayed as u32;
        // the waker: a plain thread, so that the wakes come while the only worker is held
        let waker = std::thread::spawn(move || {
            if started_rx.recv().is_err() {
                return;
            }
            let t0 = Instant::now();
            for (i, tx) in senders.into_iter().enumerate() {
                let at = d / 2 * i as u32 / n.max(1);
                if let Some(left) = at.checked_sub(t0.elapsed()) {
                    std::thread::sleep(left);
                }
                let _ = tx.send(Instant::now());
            }
        });
        let _ = tokio::spawn(blocker_task(d, started_tx)).await;
        for w in waiters {
            let _ = w.await;
        }
        let _ = waker.join();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- hotspot

#[inline(never)]
fn spin(us: u64) -> u64 {
    let start = thread_cpu_us();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    while thread_cpu_us() - start < us {
        for i in 0..64u64 {
            h = (h ^ i).wrapping_mul(0x0100_0000_01b3);
        }
    }
    black_box(h)
}

#[inline(never)]
fn hot_function(us: u64) -> u64 {
    black_box(spin(us)) // guard:hot
}

// Its body differs from hot_function's: identical bodies are merged into one symbol (LLVM's
// mergefunc), and no profile could then tell the two apart.
#[inline(never)]
fn cold_function(us: u64) -> u64 {
    black_box(spin(us)).rotate_left(1) // guard:cold
}

async fn hotspot_task(until: Instant, hot_us: u64, cold_us: u64) -> (u64, u64) {
    let (mut hot, mut cold) = (0, 0);
    while Instant::now() < until {
        let t = thread_cpu_us();
        hot_function(hot_us);
        let u = thread_cpu_us();
        cold_function(cold_us);
        hot += u - t;
        cold += thread_cpu_us() - u;
        tokio::task::yield_now().await;
    }
    (hot, cold)
}

async fn hotspot(cfg: &Config) {
    let until = Instant::now() + Duration::from_secs(cfg.seconds);
    let pct = cfg.hot_pct.clamp(1, 99);
    // 1 ms of work per poll: well under any blocking threshold
    let (hot_us, cold_us) = (10 * pct, 10 * (100 - pct));
    let tasks: Vec<_> =
        (0..cfg.tasks).map(|_| tokio::spawn(hotspot_task(until, hot_us, cold_us))).collect();
    let (mut hot, mut cold) = (0, 0);
    for t in tasks {
        if let Ok((h, c)) = t.await {
            hot += h;
            cold += c;
        }
    }
    log_line(&format!(
        "kind=hotspot hot_us={hot} cold_us={cold} process_us={} pid={}\n",
        process_cpu_us(),
        std::process::id()
    ));
}

// ---- leak

#[inline(never)]
fn handle_request(i: u64, leak_bytes: usize) -> u64 {
    let scratch = vec![i as u8; 4096];
    let leaked: &'static mut [u8] = Box::leak(vec![i as u8; leak_bytes].into_boxed_slice()); // guard:leak
    black_box(scratch[0] as u64 + leaked[0] as u64)
}

async fn leak(cfg: &Config) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(1024);
    let (n, rate, bytes) = (cfg.requests, cfg.rate.max(1), cfg.leak_bytes);
    let gen = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        for i in 0..n {
            tick.tick().await;
            if tx.send(i).await.is_err() {
                break;
            }
        }
    });
    let server = tokio::spawn(async move {
        let mut handled = 0u64;
        while let Some(i) = rx.recv().await {
            black_box(handle_request(i, bytes));
            handled += 1;
        }
        handled
    });
    let _ = gen.await;
    let handled = server.await.unwrap_or(0);
    log_line(&format!(
        "kind=leak requests={handled} leak_bytes={bytes} leaked={} freed_allocs={handled} pid={}\n",
        handled * bytes as u64,
        std::process::id()
    ));
}

async fn until_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = tokio::time::sleep(Duration::from_secs(60)) => {}
    }
}

fn parse_args() -> Result<Config, String> {
    let mut cfg = Config {
        mode: Mode::Cascade,
        rounds: 5,
        delayed: 8,
        block_ms: 25,
        workers: 0,
        seconds: 3,
        hot_pct: 40,
        tasks: 2,
        requests: 2000,
        leak_bytes: 1000,
        rate: 2000,
    };
    let mut mode = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--cascade" => mode = Some(Mode::Cascade),
            "--hotspot" => mode = Some(Mode::Hotspot),
            "--leak" => mode = Some(Mode::Leak),
            "--rounds" => cfg.rounds = num("--rounds")?,
            "--delayed" => cfg.delayed = num("--delayed")? as usize,
            "--block-ms" => cfg.block_ms = num("--block-ms")?,
            "--workers" => cfg.workers = num("--workers")? as usize,
            "--seconds" => cfg.seconds = num("--seconds")?,
            "--hot-pct" => cfg.hot_pct = num("--hot-pct")?,
            "--tasks" => cfg.tasks = num("--tasks")? as usize,
            "--requests" => cfg.requests = num("--requests")?,
            "--leak-bytes" => cfg.leak_bytes = num("--leak-bytes")? as usize,
            "--rate" => cfg.rate = num("--rate")?,
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    cfg.mode = mode.ok_or("one of --cascade, --hotspot, --leak")?;
    if cfg.workers == 0 {
        cfg.workers = if cfg.mode == Mode::Cascade { 1 } else { 2 };
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("costs: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = ground_truth::open_log() {
        eprintln!("costs: GUARD_EXAMPLE_LOG: {e}");
        return ExitCode::from(1);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("costs: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(async {
        match cfg.mode {
            Mode::Cascade => cascade(&cfg).await,
            Mode::Hotspot => hotspot(&cfg).await,
            Mode::Leak => leak(&cfg).await,
        }
        println!("costs: done");
        until_signal().await;
    });
    ExitCode::SUCCESS
}
