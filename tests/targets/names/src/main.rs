//! names-target: one task of every shape whose name tokio-guard must get right, the same in every
//! build. `names-target [PORT]` serves HTTP/1 on 127.0.0.1:PORT (0: any; the port is printed) and
//! runs the other tasks once. The expected names are written down in tests/unit/test_task_names.c.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// An async fn spawned as a task: names_target::ticker
async fn ticker(n: u64) -> u64 {
    for _ in 0..n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    n
}

/// A hyper service function: its connection task is hyper's, carrying this fn as a generic.
async fn handle(req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    Ok(Response::new(format!("hello {}\n", req.uri().path())))
}

/// An async fn in a module, generic over the job: names_target::jobs::worker
mod jobs {
    pub trait Job {
        fn run(&self) -> u64;
    }

    pub struct Sum(pub u64);

    impl Job for Sum {
        fn run(&self) -> u64 {
            (0..self.0).sum()
        }
    }

    pub async fn worker<J: Job + Send + 'static>(job: J) -> u64 {
        tokio::task::yield_now().await;
        job.run()
    }
}

/// A plain fn that returns an async block: names_target::make_job
fn make_job(n: u64) -> impl Future<Output = u64> + Send {
    async move {
        tokio::time::sleep(Duration::from_millis(n)).await;
        n * 2
    }
}

/// The user's own future type around another future (nested generics):
/// names_target::Timed (names_target::ticker)
struct Timed<F> {
    inner: Pin<Box<F>>,
    started: Instant,
}

impl<F: Future> Timed<F> {
    fn new(inner: F) -> Self {
        Timed { inner: Box::pin(inner), started: Instant::now() }
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = (F::Output, Duration);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let started = self.started;
        self.inner.as_mut().poll(cx).map(|out| (out, started.elapsed()))
    }
}

/// A method's future: names_target::Counter::run
struct Counter {
    every: Duration,
}

impl Counter {
    async fn run(self, n: u32) -> u32 {
        for _ in 0..n {
            tokio::time::sleep(self.every).await;
        }
        n
    }
}

/// The accept loop, spawned: names_target::serve; each connection is a task of hyper's own type.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(handle)));
    }
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    // What #[tokio::main] expands to: the body is an async block in main, given to block_on.
    let body = async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        println!("listening on {}", listener.local_addr().expect("local addr"));
        tokio::spawn(serve(listener));

        let ticks = tokio::spawn(ticker(3));
        // an async block spawned from main's body: names_target::main
        let block = tokio::spawn(async move { ticker(2).await + 1 });
        // a closure that returns a future: names_target::main (the closure is in main)
        let make = |id: u64| async move {
            tokio::task::yield_now().await;
            id
        };
        let from_closure = tokio::spawn(make(7));
        let job = tokio::spawn(make_job(2));
        let generic = tokio::spawn(jobs::worker(jobs::Sum(100)));
        let timed = tokio::spawn(Timed::new(ticker(2)));
        let timeout = tokio::spawn(tokio::time::timeout(Duration::from_secs(5), ticker(1)));
        let method = tokio::spawn(Counter { every: Duration::from_millis(1) }.run(2));
        let blocking = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(1)));

        let (a, b, c, d, e) = (ticks.await, block.await, from_closure.await, job.await, generic.await);
        let (f, g, h, i) = (timed.await, timeout.await, method.await, blocking.await);
        let all_ok = [a.is_ok(), b.is_ok(), c.is_ok(), d.is_ok(), e.is_ok(), f.is_ok(), g.is_ok(), h.is_ok(), i.is_ok()];
        let all_ok = all_ok.iter().all(|ok| *ok);
        println!("tasks done: {}", if all_ok { "ok" } else { "failed" });
        std::future::pending::<()>().await;
    };
    rt.block_on(body);
}
