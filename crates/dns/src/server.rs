//! The IO shell: hickory-server listeners on UDP and TCP and our `RequestHandler`, which
//! hands each question to the pure `Responder`, trims the result for its transport and
//! forwards names outside our zones to the recursors.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Edns, Header, HeaderCounts, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use tokio::net::{TcpListener, UdpSocket};

use crate::answer::{Answer, Env, Question, Responder};
use crate::catalog::CatalogView;
use crate::config::DnsConfig;
use crate::error::DnsError;
use crate::forward::Forwarder;
use crate::trim::{Transport, trim};

/// Idle TCP connections are closed after this long (bounds per-connection resources).
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Responses queued per TCP connection.
const TCP_RESPONSE_BUFFER: usize = 32;
/// Largest EDNS payload we advertise back (Consul's UDP ceiling).
const MAX_EDNS_PAYLOAD: u16 = 65535 - 68;
/// Attempts to find a port free for both UDP and TCP when binding port 0.
const BIND_ATTEMPTS: usize = 16;

/// A bound DNS server, not yet serving.
pub struct DnsServer {
    server: Server<Handler>,
    local_addr: SocketAddr,
}

impl DnsServer {
    /// Binds UDP and TCP on the same address; with port 0 both get the same free port.
    pub async fn bind(
        listen: SocketAddr,
        view: Arc<dyn CatalogView>,
        config: DnsConfig,
    ) -> Result<Self, DnsError> {
        let forwarder = Forwarder::new(&config)?;
        let responder = Responder::new(config)?;
        let (udp, tcp) = bind_pair(listen).await?;
        let local_addr = udp.local_addr().map_err(|source| DnsError::Bind {
            addr: listen,
            source,
        })?;
        let handler = Handler {
            view,
            responder,
            forwarder,
        };
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        tracing::info!(address = %local_addr, "DNS server listening (udp, tcp)");
        Ok(Self { server, local_addr })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes (then drains) or a listener fails.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<(), DnsError> {
        let result = tokio::select! {
            done = self.server.block_until_done() => done,
            () = shutdown => self.server.shutdown_gracefully().await,
        };
        result.map_err(|e| DnsError::Server(e.to_string()))
    }
}

/// Binds and serves until `shutdown`: the agent's entry point.
pub async fn serve(
    listen: SocketAddr,
    view: Arc<dyn CatalogView>,
    config: DnsConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DnsError> {
    DnsServer::bind(listen, view, config)
        .await?
        .run(shutdown)
        .await
}

async fn bind_pair(listen: SocketAddr) -> Result<(UdpSocket, TcpListener), DnsError> {
    let err = |addr, source| DnsError::Bind { addr, source };
    let attempts = if listen.port() == 0 { BIND_ATTEMPTS } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(listen).await.map_err(|e| err(listen, e))?;
        let addr = udp.local_addr().map_err(|e| err(listen, e))?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            // Port 0 gave a UDP port whose TCP twin is taken: try another.
            Err(e) => last = Some(err(addr, e)),
        }
    }
    Err(last.unwrap_or_else(|| err(listen, std::io::ErrorKind::AddrInUse.into())))
}

struct Handler {
    view: Arc<dyn CatalogView>,
    responder: Responder,
    forwarder: Option<Forwarder>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        if request.metadata.op_code != OpCode::Query {
            return self
                .send_code(request, response_handle, ResponseCode::NotImp)
                .await;
        }
        // Consul answers the first question only and refuses a message without one.
        let Some(query) = request.queries.queries().first() else {
            return self
                .send_code(request, response_handle, ResponseCode::Refused)
                .await;
        };
        let name: &Name = query.original().name();
        let qtype = query.query_type();
        let local = self.answer_locally(name, qtype);
        let (answer, relayed) = match (local, &self.forwarder) {
            (Some(answer), _) => (answer, false),
            (None, Some(forwarder)) => (forwarder.forward(name, qtype).await, true),
            // Out-of-zone names without recursors: REFUSED, as Consul 1.19+ does.
            (None, None) => {
                return self
                    .send_code(request, response_handle, ResponseCode::Refused)
                    .await;
            }
        };
        self.send_answer(request, response_handle, name, qtype, answer, relayed)
            .await
    }
}

impl Handler {
    /// Builds the answer in a block of its own: the thread-local RNG must not live across
    /// an await point.
    fn answer_locally(&self, name: &Name, qtype: RecordType) -> Option<Answer> {
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut rng = rand::rng();
        let mut env = Env {
            view: self.view.as_ref(),
            rng: &mut rng,
            now_unix,
        };
        self.responder.respond(Question { name, qtype }, &mut env)
    }

    fn recursion_available(&self) -> bool {
        self.forwarder.is_some()
    }

    async fn send_answer<R: ResponseHandler>(
        &self,
        request: &Request,
        mut handle: R,
        name: &Name,
        qtype: RecordType,
        mut answer: Answer,
        relayed: bool,
    ) -> ResponseInfo {
        let config = self.responder.config();
        let edns_payload = request.edns.as_ref().map(Edns::max_payload);
        let transport = match request.protocol() {
            Protocol::Udp => Transport::Udp { edns_payload },
            _ => Transport::Tcp,
        };
        let limit = (!relayed).then_some(config.udp_answer_limit);
        let trimmed = trim(&mut answer, name, qtype, transport, limit);
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = !relayed;
        metadata.recursion_available = self.recursion_available();
        metadata.response_code = answer.rcode;
        // Consul's rule: TC only when asked for, so clients do not retry over TCP by default.
        metadata.truncation = trimmed && config.enable_truncate;
        let edns = response_edns(edns_payload);
        let mut builder = MessageResponseBuilder::new(&request.queries, None);
        if let Some(edns) = &edns {
            builder.edns(edns);
        }
        let response = builder.build(
            metadata,
            answer.answers.iter(),
            answer.authority.iter(),
            std::iter::empty(),
            answer.additional.iter(),
        );
        let sent = handle.send_response(response).await;
        sent.unwrap_or_else(|error| send_failed(request, &error))
    }

    async fn send_code<R: ResponseHandler>(
        &self,
        request: &Request,
        mut handle: R,
        code: ResponseCode,
    ) -> ResponseInfo {
        let edns = response_edns(request.edns.as_ref().map(Edns::max_payload));
        let mut builder = MessageResponseBuilder::new(&request.queries, None);
        if let Some(edns) = &edns {
            builder.edns(edns);
        }
        let mut response = builder.error_msg(&request.metadata, code);
        response.metadata_mut().recursion_available = self.recursion_available();
        let sent = handle.send_response(response).await;
        sent.unwrap_or_else(|error| send_failed(request, &error))
    }
}

/// The OPT record echoed to EDNS clients; never below 512 so the encoder keeps its limit
/// sane for clients that advertise less.
fn response_edns(requested: Option<u16>) -> Option<Edns> {
    requested.map(|size| {
        let mut edns = Edns::new();
        edns.set_max_payload(size.clamp(512, MAX_EDNS_PAYLOAD));
        edns
    })
}

fn send_failed(request: &Request, error: &dyn std::fmt::Display) -> ResponseInfo {
    tracing::warn!(src = %request.src(), %error, "failed to send DNS response");
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.response_code = ResponseCode::ServFail;
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}
