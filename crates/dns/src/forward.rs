//! Forwarding names outside our zones to the configured recursors (IO shell), with Consul's
//! rules: recursors tried in order (or shuffled with `recursor_strategy = "random"`), an
//! upstream NOERROR or NXDOMAIN is relayed, any other outcome moves on to the next recursor,
//! and when all fail the client gets SERVFAIL.

use std::net::SocketAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as UpstreamError, NetError};
use rand::seq::SliceRandom;

use crate::answer::Answer;
use crate::config::{DnsConfig, RecursorStrategy};
use crate::error::DnsError;

/// One resolver per recursor, so that ordering and the per-recursor timeout are ours.
pub struct Forwarder {
    upstreams: Vec<(SocketAddr, TokioResolver)>,
    strategy: RecursorStrategy,
}

impl Forwarder {
    /// `None` when no recursors are configured.
    pub fn new(config: &DnsConfig) -> Result<Option<Self>, DnsError> {
        if config.recursors.is_empty() {
            return Ok(None);
        }
        let mut upstreams = Vec::new();
        for addr in &config.recursors {
            upstreams.push((*addr, resolver(*addr, config)?));
        }
        Ok(Some(Self {
            upstreams,
            strategy: config.recursor_strategy,
        }))
    }

    /// The upstream answer, or SERVFAIL once every recursor failed.
    pub async fn forward(&self, name: &Name, qtype: RecordType) -> Answer {
        let mut order: Vec<usize> = (0..self.upstreams.len()).collect();
        if self.strategy == RecursorStrategy::Random {
            order.shuffle(&mut rand::rng());
        }
        for index in order {
            let (addr, resolver) = &self.upstreams[index];
            match relayable(resolver.lookup(name.clone(), qtype).await) {
                Ok(answer) => return answer,
                Err(reason) => tracing::debug!(recursor = %addr, %name, %reason, "recursor failed"),
            }
        }
        tracing::warn!(%name, "all recursors failed");
        Answer {
            rcode: ResponseCode::ServFail,
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }
}

/// NOERROR (with or without records) and NXDOMAIN are final; everything else is a failure
/// of this recursor.
fn relayable(result: Result<hickory_resolver::lookup::Lookup, NetError>) -> Result<Answer, String> {
    match result {
        Ok(lookup) => Ok(Answer {
            rcode: ResponseCode::NoError,
            answers: lookup.answers().to_vec(),
            authority: lookup.authorities().to_vec(),
            additional: lookup.additionals().to_vec(),
        }),
        Err(NetError::Dns(UpstreamError::NoRecordsFound(none)))
            if matches!(
                none.response_code,
                ResponseCode::NoError | ResponseCode::NXDomain
            ) =>
        {
            let soa = none.soa.map(|soa| soa.into_record_of_rdata());
            Ok(Answer {
                rcode: none.response_code,
                answers: Vec::new(),
                authority: soa.into_iter().collect(),
                additional: Vec::new(),
            })
        }
        Err(other) => Err(other.to_string()),
    }
}

fn resolver(addr: SocketAddr, config: &DnsConfig) -> Result<TokioResolver, DnsError> {
    let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
        .into_iter()
        .map(|mut c| {
            c.port = addr.port();
            c
        })
        .collect();
    let server = NameServerConfig::new(addr.ip(), true, connections);
    let mut opts = ResolverOpts::default();
    opts.timeout = config.recursor_timeout;
    // One try per recursor: moving on to the next one is our retry policy, like Consul's.
    opts.attempts = 1;
    // Consul does not cache upstream answers; neither do we.
    opts.cache_size = 0;
    opts.use_hosts_file = ResolveHosts::Never;
    opts.ndots = 0;
    let resolver_config = ResolverConfig::from_name_servers(vec![server]);
    TokioResolver::builder_with_config(resolver_config, TokioRuntimeProvider::default())
        .with_options(opts)
        .build()
        .map_err(|e| DnsError::Config(format!("recursor {addr}: {e}")))
}
