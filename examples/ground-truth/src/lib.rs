//! ground-truth: the example targets' own measurement of each blocking section, the reference
//! tokio-guard's end-to-end tests compare against (never tokio-guard's own output).
//!
//! With `GUARD_EXAMPLE_LOG=PATH` (opened by [`open_log`] at startup), every measured section
//! appends one flushed line:
//!
//! ```text
//! kind=<kind> ms=<requested> wall_us=<wall time of the section> cpu_us=<CPU time> tid=<tid> pid=<pid>
//! ```
//!
//! (pid: the process, for targets that fork; readers may ignore it.)
//!
//! A synchronous section ([`Meter`]) is measured with CLOCK_THREAD_CPUTIME_ID on the thread that
//! runs it; an async section ([`measure_async`]) sums the thread CPU time of each of its polls, and
//! tid is the thread of its first poll. Every example target that logs sections writes them with
//! this crate (blocking-server, grpc-server, actix-app, blocking-main).

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{self, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec we pass.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn gettid() -> i64 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) as i64 }
}

/// The log line of one section.
pub fn format_line(kind: &str, ms: u64, wall_us: u64, cpu_us: u64, tid: i64) -> String {
    let pid = std::process::id();
    format!("kind={kind} ms={ms} wall_us={wall_us} cpu_us={cpu_us} tid={tid} pid={pid}\n")
}

/// Wall and thread-CPU time of a synchronous section on the current thread.
pub struct Meter {
    wall: Instant,
    cpu_ns: u64,
    tid: i64,
}

impl Meter {
    /// Starts measuring; call right before the section.
    pub fn start() -> Meter {
        Meter { wall: Instant::now(), cpu_ns: thread_cpu_ns(), tid: gettid() }
    }

    /// Stops measuring (right after the section) and returns the section's line.
    pub fn finish(self, kind: &str, ms: u64) -> String {
        let wall_us = self.wall.elapsed().as_micros() as u64;
        let cpu_us = thread_cpu_ns().saturating_sub(self.cpu_ns) / 1000;
        format_line(kind, ms, wall_us, cpu_us, self.tid)
    }
}

/// Polls an async section, adding up the thread CPU time spent inside each of its polls.
struct PollMeter<F> {
    section: Pin<Box<F>>,
    cpu_ns: u64,
    tid: Option<i64>,
}

impl<F: Future> Future for PollMeter<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        this.tid.get_or_insert_with(gettid);
        let c0 = thread_cpu_ns();
        let r = this.section.as_mut().poll(cx);
        this.cpu_ns += thread_cpu_ns().saturating_sub(c0);
        r
    }
}

/// Runs an async section, measuring its wall time and the thread CPU time spent inside its polls.
pub async fn measure_async<F: Future>(kind: &str, ms: u64, section: F) -> (F::Output, String) {
    let wall = Instant::now();
    let mut meter = PollMeter { section: Box::pin(section), cpu_ns: 0, tid: None };
    let out = (&mut meter).await;
    let wall_us = wall.elapsed().as_micros() as u64;
    (out, format_line(kind, ms, wall_us, meter.cpu_ns / 1000, meter.tid.unwrap_or(0)))
}

/// GUARD_EXAMPLE_LOG, opened once at startup.
static LOG: Mutex<Option<File>> = Mutex::new(None);

/// Opens GUARD_EXAMPLE_LOG for appending when it is set; Err says which path failed.
pub fn open_log() -> io::Result<()> {
    if let Some(p) = std::env::var_os("GUARD_EXAMPLE_LOG").filter(|p| !p.is_empty()) {
        let f = OpenOptions::new().create(true).append(true).open(&p).map_err(|e| {
            io::Error::new(e.kind(), format!("GUARD_EXAMPLE_LOG={}: {e}", PathBuf::from(&p).display()))
        })?;
        *LOG.lock().unwrap_or_else(PoisonError::into_inner) = Some(f);
    }
    Ok(())
}

/// Appends LINE to the log (when open) and flushes it, so a killed target loses nothing.
pub fn log_line(line: &str) {
    if let Some(f) = LOG.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
        let _ = f.write_all(line.as_bytes());
        let _ = f.flush();
    }
}
