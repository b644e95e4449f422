//! Client TLS for checks: rustls with the ring provider passed explicitly (never the
//! process-wide default, which another part of the process may set differently).

use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::CheckError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds a client config. `skip_verify` accepts any certificate (Consul's
/// `TLSSkipVerify`); `server_name` verifies the certificate against that name instead of
/// the dialled host (Consul's `TLSServerName`).
pub(crate) fn client_config(
    skip_verify: bool,
    server_name: Option<&str>,
    alpn: &[&[u8]],
) -> Result<rustls::ClientConfig, CheckError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = if skip_verify {
        Arc::new(AcceptAny(provider.clone()))
    } else {
        let platform = rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|e| CheckError::Tls(e.to_string()))?;
        match server_name {
            Some(name) if !name.is_empty() => {
                let name = ServerName::try_from(name.to_string())
                    .map_err(|e| CheckError::Tls(format!("bad TLS server name: {e}")))?;
                Arc::new(RenamedVerifier {
                    inner: Arc::new(platform),
                    name,
                })
            }
            _ => Arc::new(platform),
        }
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CheckError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The name to send as SNI and to verify: the override, else the host part of `addr`.
pub(crate) fn server_name_for(
    addr: &str,
    server_name: Option<&str>,
) -> Result<ServerName<'static>, CheckError> {
    let host = match server_name {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => host_of(addr).to_string(),
    };
    ServerName::try_from(host).map_err(|e| CheckError::Tls(format!("bad TLS server name: {e}")))
}

/// `host` of `host:port`, with IPv6 brackets removed.
pub(crate) fn host_of(addr: &str) -> &str {
    let host = match addr.rfind(':') {
        Some(i) if !addr[i + 1..].contains(']') => &addr[..i],
        _ => addr,
    };
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Verifies the chain as usual but against a fixed name (Consul's `TLSServerName`).
#[derive(Debug)]
struct RenamedVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for RenamedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Accepts any certificate but still checks handshake signatures, so the session is at
/// least bound to the key the server presented.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_strips_port_and_brackets() {
        assert_eq!(host_of("example.com:443"), "example.com");
        assert_eq!(host_of("[::1]:8080"), "::1");
        assert_eq!(host_of("10.0.0.1:1"), "10.0.0.1");
        assert_eq!(host_of("noport"), "noport");
    }

    #[test]
    fn configs_build() {
        assert!(client_config(true, None, &[b"h2"]).is_ok());
        assert!(client_config(false, Some("example.com"), &[]).is_ok());
    }
}
