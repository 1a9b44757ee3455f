//! blocking-main: the future a runtime's `block_on` polls blocks its thread, the way a
//! `#[tokio::main]` body with an accept loop or a startup step does. Target of tokio-guard's tests.
//!
//! ```text
//! blocking-main [--seconds N] [--block-ms D] [--period-ms P] [--current-thread] [--start-delay-ms S]
//! ```
//!
//! `main` builds the runtime and calls `block_on(async { .. })`, exactly what `#[tokio::main]`
//! expands to, so the body is the async block `blocking_main::main::{async_block#0}`; a flag picks
//! the flavor, which the attribute cannot. For N seconds (default 3) the body repeats: await
//! `tokio::time::sleep(P)` (the well-behaved way to wait, never a span), spin the CPU D ms in
//! `blocking_kinds::burn_cpu`, await again, `std::thread::sleep` D ms in `blocking_kinds::sleepy`
//! (default D 20, P 50). Every blocking section starts after an await, in a poll of its own. A
//! spawned ticker task keeps the runtime's workers busy with short, well-behaved polls.
//!
//! Ground truth: with `GUARD_EXAMPLE_LOG=PATH`, each blocking section appends one line (the
//! ground-truth crate): `kind=<cpu|sleep> ms=<D> wall_us=<N> cpu_us=<N> tid=<N>`.
//! Exits 0 after N seconds, or on SIGTERM/SIGINT. `--start-delay-ms S` waits S ms before building
//! the runtime: a Tokio program that polls nothing for a while (tokio-guard's "no polls observed").

use std::process::ExitCode;
use std::time::{Duration, Instant};

use blocking_kinds::black_box;
use example_common::StopSignal;
use ground_truth::{log_line, Meter};

struct Args {
    seconds: u64,
    block_ms: u64,
    period_ms: u64,
    current_thread: bool,
    start_delay_ms: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { seconds: 3, block_ms: 20, period_ms: 50, current_thread: false, start_delay_ms: 0 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            let v = it.next().ok_or_else(|| format!("{name} needs a value"))?;
            v.parse().map_err(|_| format!("{name}: not a number: {v}"))
        };
        match flag.as_str() {
            "--seconds" => a.seconds = num("--seconds")?,
            "--block-ms" => a.block_ms = num("--block-ms")?,
            "--period-ms" => a.period_ms = num("--period-ms")?,
            "--current-thread" => a.current_thread = true,
            "--start-delay-ms" => a.start_delay_ms = num("--start-delay-ms")?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(a)
}

async fn ticker() {
    loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        black_box(0u64);
    }
}

/// Exits 0 on SIGTERM or SIGINT, as tokio-guard's stop expects of a well-behaved target.
async fn exit_on_signal() {
    let Ok(mut stop) = StopSignal::install() else {
        return;
    };
    stop.recv().await;
    std::process::exit(0);
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("blocking-main: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = ground_truth::open_log() {
        eprintln!("blocking-main: {e}");
        return ExitCode::from(1);
    }
    std::thread::sleep(Duration::from_millis(a.start_delay_ms));
    let rt = match example_common::build_runtime(a.current_thread, 2) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("blocking-main: building the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let (d, period) = (Duration::from_millis(a.block_ms), Duration::from_millis(a.period_ms));
    rt.block_on(async move {
        tokio::spawn(ticker());
        tokio::spawn(exit_on_signal());
        println!("running");
        let end = Instant::now() + Duration::from_secs(a.seconds);
        while Instant::now() < end {
            tokio::time::sleep(period).await;
            let m = Meter::start();
            black_box(blocking_kinds::burn_cpu(d));
            log_line(&m.finish("cpu", a.block_ms));
            tokio::time::sleep(period).await;
            let m = Meter::start();
            black_box(blocking_kinds::sleepy(d));
            log_line(&m.finish("sleep", a.block_ms));
        }
    });
    ExitCode::SUCCESS
}
