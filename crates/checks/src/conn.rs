//! Dialling for the HTTP/2 based checks (gRPC, H2 ping): TCP, optionally wrapped in TLS
//! with ALPN `h2`.

use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::error::CheckError;
use crate::tls;

pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}
pub(crate) type BoxedIo = Pin<Box<dyn Io>>;

/// TLS settings prepared once per check.
#[derive(Clone)]
pub(crate) struct TlsDial {
    connector: tokio_rustls::TlsConnector,
    server_name: rustls::pki_types::ServerName<'static>,
}

impl std::fmt::Debug for TlsDial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsDial")
            .field("server_name", &self.server_name)
            .finish()
    }
}

impl TlsDial {
    pub(crate) fn new(
        addr: &str,
        skip_verify: bool,
        server_name: Option<&str>,
    ) -> Result<Self, CheckError> {
        let config = tls::client_config(skip_verify, server_name, &[b"h2"])?;
        Ok(TlsDial {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            server_name: tls::server_name_for(addr, server_name)?,
        })
    }
}

/// Connects to `addr`; errors are Go-like `dial tcp <addr>: <reason>` texts, TLS failures
/// `tls: <reason>`.
pub(crate) async fn dial(addr: &str, tls: Option<&TlsDial>) -> Result<BoxedIo, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("dial tcp {addr}: {e}"))?;
    // Checks send tiny frames; don't let Nagle delay them.
    let _ = tcp.set_nodelay(true);
    match tls {
        None => Ok(Box::pin(tcp)),
        Some(t) => {
            let s = t
                .connector
                .connect(t.server_name.clone(), tcp)
                .await
                .map_err(|e| format!("tls: {e}"))?;
            Ok(Box::pin(s))
        }
    }
}
