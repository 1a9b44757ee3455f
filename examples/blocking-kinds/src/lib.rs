//! blocking-kinds: the blocking functions of tokio-guard's example targets (blocking-server,
//! blocking-tasks), shared by both. Each kind of blocking has one function here, and the line of
//! that function which blocks is the culprit line tokio-guard must name:
//!
//! ```text
//! burn_cpu      CPU spin                                      (marker cpu)
//! sleepy        std::thread::sleep                            (marker sleep)
//! sync_file_io  std::fs write + fdatasync + read back, looped (marker file)
//! lock_shared   std::sync::Mutex::lock                        (marker mutex)
//! nap           std::thread::sleep as a tail call             (marker nap)
//! ```
//!
//! The culprit line ends with a marker comment, `guard:` followed by the kind, which the tests grep
//! for: exactly one line per kind, in this file only (never write a marker anywhere else).
//!
//! Every blocking function is `#[inline(never)]` (its own frame, under fat LTO too) and never ends
//! with a tail call to the blocking operation (that would drop its frame from the stack), except
//! `nap`, which exists to do exactly that: its body is a `jmp` into std::thread::sleep, so no
//! stack walk sees it and tokio-guard must put it back from the caller's `call nap`.
//! `#[rustfmt::skip]` keeps each marked line whole. Symbols: `blocking_kinds::burn_cpu`, ...
//!
//! This crate builds with Rust 1.63 (Debian bookworm's rustc) as well as with current rustup
//! toolchains: no std::hint::black_box. It reads no environment: callers pass paths and durations.

use std::fs::OpenOptions;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Hash rounds between two clock reads in burn_cpu (a few microseconds of work).
const SPIN_ROUNDS: u64 = 4096;
/// Size of one write/read round of sync_file_io (and of blocking-server's async twin of it).
pub const FILE_CHUNK: usize = 256 * 1024;

/// Keeps a value (and the work that produced it) from being optimized away.
#[inline(always)]
pub fn black_box<T: Copy>(x: T) -> T {
    // SAFETY: reads a valid, initialized local.
    unsafe { std::ptr::read_volatile(&x) }
}

/// Spins on the CPU for `d`; returns a hash of the work.
///
/// The hash uses plain operators only (a u128 product instead of wrapping_mul, shifts instead of
/// rotate_left): no inlined core function, so every instruction of the inner loop has the marker
/// line in the line table itself, even for a symbolizer that does not expand inlined frames.
#[inline(never)]
#[rustfmt::skip]
#[allow(clippy::manual_rotate)]
pub fn burn_cpu(d: Duration) -> u64 {
    let start = Instant::now();
    let rounds = black_box(SPIN_ROUNDS);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    // The clock check shares the marker line: samples that land in it (a slow clock read on a
    // loaded VM) still name the spin's line.
    loop {
        let mut i = 0; while i < rounds { let x = ((h ^ i) as u128 * 0x0100_0000_01b3) as u64; h = (x << 29) | (x >> 35); i += 1; } if start.elapsed() >= d { return black_box(h); } // guard:cpu
    }
}

/// Sleeps the thread for `d` (std::thread::sleep).
#[inline(never)]
#[rustfmt::skip]
pub fn sleepy(d: Duration) -> u64 {
    std::thread::sleep(d); // guard:sleep
    black_box(d.as_micros() as u64)
}

/// Synchronous file I/O for `d`: rounds of a FILE_CHUNK write + fdatasync + read back of the file
/// at `path` (created or truncated). The caller owns the path and removes the file. Returns the
/// number of rounds.
#[inline(never)]
#[rustfmt::skip]
pub fn sync_file_io(path: &Path, d: Duration) -> io::Result<u64> {
    let mut f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)?;
    let mut chunk = vec![0xa5u8; FILE_CHUNK];
    let mut back = vec![0u8; FILE_CHUNK];
    let start = Instant::now();
    let mut rounds = 0u64;
    loop {
        chunk[0] = rounds as u8;
        // One round of synchronous I/O on one line: samples in the read-back copy (more of them
        // on a loaded machine) name the same line as the waits in sync_data.
        f.seek(SeekFrom::Start(0))?; f.write_all(&chunk)?; f.sync_data()?; f.seek(SeekFrom::Start(0))?; f.read_exact(&mut back)?; // guard:file
        rounds += 1;
        if start.elapsed() >= d {
            return Ok(black_box(rounds));
        }
    }
}

/// Locks `m` (a std Mutex, waiting while another thread holds it) and bumps the counter inside.
#[inline(never)]
#[rustfmt::skip]
pub fn lock_shared(m: &Mutex<u64>) -> u64 {
    let mut g = m.lock().unwrap_or_else(PoisonError::into_inner); // guard:mutex
    *g += 1;
    black_box(*g)
}

/// Sleeps the thread for `d` as a tail call: nothing follows the sleep, so the body compiles to a
/// `jmp` into std::thread::sleep and `nap` has no frame of its own in any stack (check with
/// `objdump -d --disassemble=<nap's symbol>`). Keep it that way: no code after the call.
#[inline(never)]
#[rustfmt::skip]
pub fn nap(d: Duration) {
    std::thread::sleep(d) // guard:nap
}
