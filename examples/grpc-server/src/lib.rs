//! The `guard.example.Demo` gRPC service of proto/demo.proto: prost messages and the tonic server
//! and client glue, written by hand in the shape tonic-prost-build generates, so the build needs
//! neither protoc nor tonic-build (and their build-time dependencies).

use tonic::codegen::{http, Arc, Body, BoxFuture, Context, Poll, Service, StdError};

/// Request of every RPC.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KindRequest {
    /// "cpu" or "sleep"; ignored by Hello.
    #[prost(string, tag = "1")]
    pub kind: String,
    /// Length of the section in ms.
    #[prost(uint64, tag = "2")]
    pub ms: u64,
}

/// Reply of every RPC.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KindReply {
    /// The section's ground-truth line ("hello" for Hello).
    #[prost(string, tag = "1")]
    pub line: String,
}

/// gRPC path of each RPC.
pub const HELLO: &str = "/guard.example.Demo/Hello";
pub const BLOCKING: &str = "/guard.example.Demo/Blocking";
pub const NICE: &str = "/guard.example.Demo/Nice";

type Reply = Result<tonic::Response<KindReply>, tonic::Status>;

/// The server side: what a service implementation provides.
#[tonic::async_trait]
pub trait Demo: Send + Sync + 'static {
    async fn hello(&self, req: tonic::Request<KindRequest>) -> Reply;
    async fn blocking(&self, req: tonic::Request<KindRequest>) -> Reply;
    async fn nice(&self, req: tonic::Request<KindRequest>) -> Reply;
}

/// The tower service tonic's router serves: dispatches on the path to the Demo implementation.
pub struct DemoServer<T> {
    inner: Arc<T>,
}

impl<T> DemoServer<T> {
    pub fn new(inner: T) -> Self {
        DemoServer { inner: Arc::new(inner) }
    }
}

impl<T> Clone for DemoServer<T> {
    fn clone(&self) -> Self {
        DemoServer { inner: self.inner.clone() }
    }
}

impl<T> tonic::server::NamedService for DemoServer<T> {
    const NAME: &'static str = "guard.example.Demo";
}

#[derive(Clone, Copy)]
enum Rpc {
    Hello,
    Blocking,
    Nice,
}

/// One RPC of the implementation as tonic's UnaryService.
struct RpcSvc<T> {
    inner: Arc<T>,
    rpc: Rpc,
}

impl<T: Demo> tonic::server::UnaryService<KindRequest> for RpcSvc<T> {
    type Response = KindReply;
    type Future = BoxFuture<tonic::Response<KindReply>, tonic::Status>;

    fn call(&mut self, req: tonic::Request<KindRequest>) -> Self::Future {
        let (inner, rpc) = (self.inner.clone(), self.rpc);
        Box::pin(async move {
            match rpc {
                Rpc::Hello => inner.hello(req).await,
                Rpc::Blocking => inner.blocking(req).await,
                Rpc::Nice => inner.nice(req).await,
            }
        })
    }
}

impl<T, B> Service<http::Request<B>> for DemoServer<T>
where
    T: Demo,
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let rpc = match req.uri().path() {
            HELLO => Rpc::Hello,
            BLOCKING => Rpc::Blocking,
            NICE => Rpc::Nice,
            _ => return Box::pin(async { Ok(tonic::Status::unimplemented("no such RPC").into_http()) }),
        };
        let svc = RpcSvc { inner: self.inner.clone(), rpc };
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(svc, req).await)
        })
    }
}

/// The client side: one call of an RPC on a (shared, multiplexed) channel.
pub async fn call(
    channel: tonic::transport::Channel,
    path: &'static str,
    req: KindRequest,
) -> Result<KindReply, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(format!("channel not ready: {e}")))?;
    let path = http::uri::PathAndQuery::from_static(path);
    let reply = grpc.unary(tonic::Request::new(req), path, tonic_prost::ProstCodec::default()).await?;
    Ok(reply.into_inner())
}
