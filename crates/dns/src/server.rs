//! The IO shell. UDP is our own receive loop (`udp`): each query is parsed and answered in
//! place; TCP is our own accept loop with a task per connection (`tcp`). Both hand the
//! question to the pure `Responder` through `Core`, trim the result for their transport,
//! forward names outside our zones to the recursors and encode hickory's `MessageResponse`
//! exactly as hickory-server's pipeline does (a test holds the two byte-identical).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{Name, Record, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use hickory_server::net::xfer::Protocol;
use hickory_server::server::Request;
use hickory_server::zone_handler::{MessageResponse, MessageResponseBuilder, Queries};
#[cfg(test)]
use hickory_server::{
    net::runtime::Time,
    server::{RequestHandler, ResponseHandler, ResponseInfo},
};
use tokio::net::{TcpListener, UdpSocket};
use tokio::runtime::Handle;

use crate::answer::{Answer, Env, Question, Responder};
use crate::catalog::CatalogView;
use crate::config::DnsConfig;
use crate::error::DnsError;
use crate::forward::Forwarder;
use crate::trim::{Transport, trim};
use crate::{tcp, udp};

/// Largest EDNS payload we advertise back (Consul's UDP ceiling).
const MAX_EDNS_PAYLOAD: u16 = 65535 - 68;
/// Attempts to find a port free for both UDP and TCP when binding port 0.
const BIND_ATTEMPTS: usize = 16;

/// A bound DNS server, not yet serving.
pub struct DnsServer {
    tcp: TcpListener,
    /// Blocking, with a read timeout: served by `udp::UdpLoop`'s thread.
    udp: std::net::UdpSocket,
    core: Arc<Core>,
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
        let bind_err = |source| DnsError::Bind {
            addr: listen,
            source,
        };
        let local_addr = udp.local_addr().map_err(bind_err)?;
        let udp = udp.into_std().map_err(bind_err)?;
        udp.set_nonblocking(false).map_err(bind_err)?;
        udp.set_read_timeout(Some(udp::STOP_POLL))
            .map_err(bind_err)?;
        let core = Arc::new(Core {
            view,
            responder,
            forwarder,
        });
        tracing::info!(address = %local_addr, "DNS server listening (udp, tcp)");
        Ok(Self {
            tcp,
            udp,
            core,
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes or a listener fails; open TCP connections are
    /// closed and UDP queries still waiting on a recursor are dropped. Returns once the UDP
    /// socket is closed.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), DnsError> {
        let mut udp = udp::UdpLoop::start(self.udp, self.core.clone(), Handle::current())?;
        let mut udp_finished = false;
        let result = tokio::select! {
            error = tcp::serve(self.tcp, self.core) => {
                Err(DnsError::Server(format!("DNS TCP listener failed: {error}")))
            }
            failed = &mut udp.done => {
                udp_finished = true;
                Err(failed.ok().flatten().unwrap_or_else(|| {
                    DnsError::Server("the DNS UDP thread stopped".into())
                }))
            }
            () = shutdown => Ok(()),
        };
        udp.stop();
        if !udp_finished {
            let _ = (&mut udp.done).await;
        }
        result
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

/// What answers a request, shared by the UDP loop and hickory's TCP handler.
pub(crate) struct Core {
    view: Arc<dyn CatalogView>,
    responder: Responder,
    forwarder: Option<Forwarder>,
}

/// hickory-server's handler, kept to prove our encoding matches its pipeline byte for byte.
#[cfg(test)]
struct Handler(Arc<Core>);

#[cfg(test)]
#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let reply = match self.0.local_reply(request) {
            Some(reply) => reply,
            None => self.0.forward_reply(request).await,
        };
        let sent = response_handle
            .send_response(reply.response(&request.queries))
            .await;
        sent.unwrap_or_else(|error| send_failed(request, &error))
    }
}

/// A response before encoding: everything hickory's `MessageResponse` borrows.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) metadata: Metadata,
    pub(crate) edns: Option<Edns>,
    pub(crate) answer: Answer,
}

/// The message both transports encode (hickory's type, so the bytes are hickory's).
pub(crate) type Response<'q> = MessageResponse<
    'q,
    'q,
    std::slice::Iter<'q, Record>,
    std::slice::Iter<'q, Record>,
    std::iter::Empty<&'q Record>,
    std::slice::Iter<'q, Record>,
>;

impl Reply {
    pub(crate) fn response<'q>(&'q self, queries: &'q Queries) -> Response<'q> {
        let mut builder = MessageResponseBuilder::new(queries, None);
        if let Some(edns) = &self.edns {
            builder.edns(edns);
        }
        builder.build(
            self.metadata,
            self.answer.answers.iter(),
            self.answer.authority.iter(),
            std::iter::empty(),
            self.answer.additional.iter(),
        )
    }
}

impl Core {
    /// The reply when the request can be answered without the network; `None` when it
    /// goes to the recursors (`forward_reply`).
    pub(crate) fn local_reply(&self, request: &Request) -> Option<Reply> {
        if request.metadata.op_code != OpCode::Query {
            return Some(self.code_reply(request, ResponseCode::NotImp));
        }
        // Consul answers the first question only and refuses a message without one.
        let Some(query) = request.queries.queries().first() else {
            return Some(self.code_reply(request, ResponseCode::Refused));
        };
        let name: &Name = query.original().name();
        let qtype = query.query_type();
        match self.answer_locally(name, qtype) {
            Some(answer) => Some(self.answer_reply(request, name, qtype, answer, false)),
            None if self.forwarder.is_some() => None,
            // Out-of-zone names without recursors: REFUSED, as Consul 1.19+ does.
            None => Some(self.code_reply(request, ResponseCode::Refused)),
        }
    }

    /// The recursors' answer to a request `local_reply` left to them.
    pub(crate) async fn forward_reply(&self, request: &Request) -> Reply {
        let (Some(forwarder), Some(query)) = (&self.forwarder, request.queries.queries().first())
        else {
            return self.code_reply(request, ResponseCode::Refused);
        };
        let name: &Name = query.original().name();
        let qtype = query.query_type();
        let answer = forwarder.forward(name, qtype).await;
        self.answer_reply(request, name, qtype, answer, true)
    }

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

    fn answer_reply(
        &self,
        request: &Request,
        name: &Name,
        qtype: RecordType,
        mut answer: Answer,
        relayed: bool,
    ) -> Reply {
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
        Reply {
            metadata,
            edns: response_edns(edns_payload),
            answer,
        }
    }

    fn code_reply(&self, request: &Request, code: ResponseCode) -> Reply {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.response_code = code;
        metadata.recursion_available = self.recursion_available();
        Reply {
            metadata,
            edns: response_edns(request.edns.as_ref().map(Edns::max_payload)),
            answer: Answer::with(ResponseCode::NoError),
        }
    }
}

/// Encodes `response` into `out` exactly as hickory-server's `ResponseHandle` does for
/// `protocol`: over UDP at most the echoed EDNS size (512 bytes without EDNS), over TCP 64
/// KiB; if encoding fails, a bare SERVFAIL header.
pub(crate) fn encode(response: Response<'_>, protocol: Protocol, out: &mut Vec<u8>) {
    let id = response.metadata().id;
    let max_size = match protocol {
        Protocol::Udp => response.edns().map_or(512, Edns::max_payload),
        _ => u16::MAX,
    };
    out.clear();
    let mut encoder = BinEncoder::new(out);
    encoder.set_max_size(max_size);
    let Err(error) = response.destructive_emit(&mut encoder) else {
        return;
    };
    tracing::error!(%error, "error encoding DNS response");
    out.clear();
    let mut encoder = BinEncoder::new(out);
    encoder.set_max_size(512);
    let mut metadata = Metadata::new(id, MessageType::Response, OpCode::Query);
    metadata.response_code = ResponseCode::ServFail;
    let header = Header {
        metadata,
        counts: HeaderCounts::default(),
    };
    if let Err(error) = header.emit(&mut encoder) {
        tracing::error!(%error, "error encoding DNS SERVFAIL");
        out.clear();
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

#[cfg(test)]
fn send_failed(request: &Request, error: &dyn std::fmt::Display) -> ResponseInfo {
    tracing::warn!(src = %request.src(), %error, "failed to send DNS response");
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.response_code = ResponseCode::ServFail;
    ResponseInfo::from(Header {
        metadata,
        counts: HeaderCounts::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Health, InstanceRecord, NodeRecord, Weights};
    use crate::memory::MemoryCatalog;
    use crate::udp::{Datagram, handle_message};
    use futures_util::StreamExt;
    use hickory_proto::op::{Message, Query};
    use hickory_proto::serialize::binary::BinDecodable;
    use hickory_server::net::BufDnsStreamHandle;
    use hickory_server::net::runtime::TokioTime;
    use hickory_server::server::ResponseHandle;

    fn core() -> Arc<Core> {
        let mut cat = MemoryCatalog::new("dc1");
        let mut node1 = NodeRecord {
            name: "node1".into(),
            datacenter: "dc1".into(),
            address: "10.0.0.1".into(),
            ..NodeRecord::default()
        };
        node1.meta.insert("env".into(), "prod".into());
        let mut big = NodeRecord {
            name: "big".into(),
            datacenter: "dc1".into(),
            address: "fd00::1".into(),
            ..NodeRecord::default()
        };
        for i in 0..40 {
            big.meta.insert(format!("key{i:02}"), "v".repeat(30));
        }
        cat.instances.push(InstanceRecord {
            node: node1.clone(),
            service: "db".into(),
            service_address: "10.1.0.1".into(),
            port: 5432,
            tags: vec!["primary".into()],
            health: Health::Passing,
            weights: Weights::default(),
        });
        cat.nodes.extend([node1, big]);
        Arc::new(Core {
            view: Arc::new(cat),
            responder: Responder::new(DnsConfig::default()).expect("config"),
            forwarder: None,
        })
    }

    fn query(name: &str, qtype: RecordType, edns: Option<u16>, op_code: OpCode) -> Vec<u8> {
        let mut msg = Message::new(0x1234, MessageType::Query, op_code);
        msg.metadata.recursion_desired = true;
        if !name.is_empty() {
            msg.add_query(Query::query(Name::from_ascii(name).expect("name"), qtype));
        }
        if let Some(size) = edns {
            let mut e = Edns::new();
            e.set_max_payload(size);
            msg.edns = Some(e);
        }
        msg.to_vec().expect("encode")
    }

    fn src() -> SocketAddr {
        "127.0.0.1:5353".parse().expect("addr")
    }

    /// The bytes hickory-server's own pipeline sends: `Handler` and `ResponseHandle`.
    async fn via_hickory(core: &Arc<Core>, bytes: &[u8], protocol: Protocol) -> Vec<u8> {
        let request = Request::from_bytes(bytes.to_vec(), src(), protocol).expect("parse");
        let (stream, mut sent) = BufDnsStreamHandle::new(src());
        let handle = ResponseHandle::new(src(), stream, protocol);
        Handler(core.clone())
            .handle_request::<_, TokioTime>(&request, handle)
            .await;
        sent.next().await.expect("a response").into_parts().0
    }

    /// The bytes of our own path: the UDP loop's, or `encode` for TCP.
    fn via_fast_path(core: &Core, bytes: &[u8], protocol: Protocol) -> Vec<u8> {
        let mut out = vec![0xff; 3];
        if protocol == Protocol::Udp {
            let handled = handle_message(core, bytes, src(), Protocol::Udp, &mut out);
            assert!(matches!(handled, Datagram::Reply), "answered locally");
        } else {
            let request = Request::from_bytes(bytes.to_vec(), src(), protocol).expect("parse");
            let reply = core.local_reply(&request).expect("local");
            encode(reply.response(&request.queries), protocol, &mut out);
        }
        out
    }

    #[tokio::test]
    async fn udp_fast_path_and_hickory_pipeline_encode_identically() {
        let core = core();
        let questions = [
            query("node1.node.consul.", RecordType::A, None, OpCode::Query),
            query(
                "NODE1.node.dc1.consul.",
                RecordType::ANY,
                Some(1232),
                OpCode::Query,
            ),
            query("big.node.consul.", RecordType::TXT, None, OpCode::Query),
            query(
                "big.node.consul.",
                RecordType::TXT,
                Some(1000),
                OpCode::Query,
            ),
            query(
                "big.node.consul.",
                RecordType::AAAA,
                Some(4096),
                OpCode::Query,
            ),
            query("db.service.consul.", RecordType::SRV, None, OpCode::Query),
            query(
                "primary.db.service.consul.",
                RecordType::A,
                Some(100),
                OpCode::Query,
            ),
            query(
                "1.0.0.10.in-addr.arpa.",
                RecordType::PTR,
                None,
                OpCode::Query,
            ),
            query("nope.service.consul.", RecordType::A, None, OpCode::Query),
            query("consul.", RecordType::SOA, Some(4096), OpCode::Query),
            query("example.com.", RecordType::A, Some(1232), OpCode::Query),
            query("node1.node.consul.", RecordType::A, None, OpCode::Status),
            query("", RecordType::A, Some(1232), OpCode::Query),
        ];
        for bytes in &questions {
            for protocol in [Protocol::Udp, Protocol::Tcp] {
                // SOA serials are the current second: retry across a second boundary.
                let mut same = false;
                for _ in 0..3 {
                    let hickory = via_hickory(&core, bytes, protocol).await;
                    let ours = via_fast_path(&core, bytes, protocol);
                    Message::from_bytes(&ours).expect("decodes");
                    if hickory == ours {
                        same = true;
                        break;
                    }
                }
                let asked = Message::from_bytes(bytes).expect("query");
                assert!(same, "{protocol} {:?} differs", asked.queries);
            }
        }
    }

    #[test]
    fn malformed_datagrams_get_formerr_or_nothing() {
        let core = core();
        let mut out = Vec::new();
        let valid = query("node1.node.consul.", RecordType::A, None, OpCode::Query);
        let short = &valid[..11];
        assert!(matches!(
            handle_message(&core, short, src(), Protocol::Udp, &mut out),
            Datagram::Drop
        ));
        let cut = &valid[..valid.len() - 3];
        assert!(matches!(
            handle_message(&core, cut, src(), Protocol::Udp, &mut out),
            Datagram::Reply
        ));
        let formerr = Message::from_bytes(&out).expect("decodes");
        assert_eq!(formerr.metadata.response_code, ResponseCode::FormErr);
        assert_eq!(formerr.metadata.id, 0x1234);
        assert_eq!(formerr.metadata.message_type, MessageType::Response);
        let mut response = valid.clone();
        response[2] |= 0x80;
        assert!(matches!(
            handle_message(&core, &response, src(), Protocol::Udp, &mut out),
            Datagram::Drop
        ));
    }
}
