//! scale-target: N distinct async fns (written by build.rs, expanded by scale_tasks!), each spawned
//! once a round as a task of its own type; every task counts its own polls, and the program prints
//! what it spawned and counted, the ground truth tokio-guard's figures are checked against.
//!
//! `scale-target [--rounds R] [--every MS]`: R rounds (0: until SIGTERM, the bench's steady
//! load), MS milliseconds apart. After each round: `round=R types=N spawned=S polls_total=M`
//! (cumulative). After the last of R > 0 rounds: one `task=NAME polls=K` line per type, then
//! `done rounds=R types=N spawned=S polls_total=M`, and it idles until stopped, so a run under
//! tokio-guard ends when tokio-guard stops it, not before.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

/// Defines one async fn per `INDEX => NAME` and the binary's `main`. Each task is polled exactly
/// three times: `yield_now` is pending once, so every await is one more poll; the count is kept
/// at the start of each resumed segment, by the task itself.
#[macro_export]
macro_rules! scale_tasks {
    ($($i:literal => $name:ident,)*) => {
        const NAMES: &[&str] = &[$(stringify!($name)),*];
        static COUNTS: [::std::sync::atomic::AtomicU64; NAMES.len()] =
            [const { ::std::sync::atomic::AtomicU64::new(0) }; NAMES.len()];
        $(
            async fn $name() -> u64 {
                let seen = &COUNTS[$i];
                seen.fetch_add(1, ::std::sync::atomic::Ordering::Relaxed);
                let x = $crate::work($i);
                ::tokio::task::yield_now().await;
                seen.fetch_add(1, ::std::sync::atomic::Ordering::Relaxed);
                let x = $crate::work(x);
                ::tokio::task::yield_now().await;
                seen.fetch_add(1, ::std::sync::atomic::Ordering::Relaxed);
                x
            }
        )*
        fn spawn_round() -> Vec<::tokio::task::JoinHandle<u64>> {
            vec![$(::tokio::spawn($name())),*]
        }
        fn main() {
            $crate::run(NAMES, &COUNTS, spawn_round)
        }
    };
}

/// A few microseconds of CPU the optimizer cannot drop.
#[inline(never)]
pub fn work(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

struct Args {
    rounds: u64,
    every: Duration,
}

fn parse_args() -> Args {
    let mut a = Args { rounds: 1, every: Duration::from_millis(100) };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().and_then(|v| v.parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--rounds", Some(r)) => a.rounds = r,
            ("--every", Some(ms)) => a.every = Duration::from_millis(ms),
            _ => {
                eprintln!("usage: scale-target [--rounds R (0: until SIGTERM)] [--every MS]");
                std::process::exit(2);
            }
        }
    }
    a
}

fn total(counts: &[AtomicU64]) -> u64 {
    counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
}

/// Runs the rounds, printing the ground truth; never returns (SIGTERM ends it).
pub fn run(names: &[&str], counts: &'static [AtomicU64], spawn_round: fn() -> Vec<JoinHandle<u64>>) {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("tokio runtime");
    let (mut spawned, mut check) = (0u64, 0u64);
    rt.block_on(async {
        let mut round = 0;
        loop {
            round += 1;
            let handles = spawn_round();
            spawned += handles.len() as u64;
            for h in handles {
                check = check.wrapping_add(h.await.expect("a scale task panicked"));
            }
            println!("round={round} types={} spawned={spawned} polls_total={}", names.len(), total(counts));
            if args.rounds != 0 && round >= args.rounds {
                break;
            }
            tokio::time::sleep(args.every).await;
        }
    });
    for (name, c) in names.iter().zip(counts) {
        println!("task={name} polls={}", c.load(Ordering::Relaxed));
    }
    println!(
        "done rounds={} types={} spawned={spawned} polls_total={} check={check:x}",
        args.rounds,
        names.len(),
        total(counts)
    );
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
