//! TLS with rustls (ring as the crypto provider): the server side of SSL and SASL_SSL
//! listeners, and the client side a broker uses to reach another broker's listener.
//!
//! Keys and certificates are PEM ([`crate::config::tls`]); an encrypted private key is
//! refused with a message that says so. A client certificate, when `ssl.client.auth` asks for
//! one, must chain to the truststore; its subject in RFC 2253 form ([`super::dn`]) is the
//! connection's principal on an SSL listener (`User:CN=...`), as Kafka's default principal
//! builder makes it.

use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
    SignatureScheme, SupportedProtocolVersion,
};

use crate::config::tls::{ClientAuth, Pem, SslSettings};

/// ring's provider: X25519 and the NIST curves, AES-GCM and ChaCha20-Poly1305. rustls marks
/// it deprecated for lacking post-quantum key exchange (aws-lc-rs has it, at the cost of a
/// C/CMake build of AWS-LC); Kafka's Java clients do not offer one either.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_pem(pem: &Pem, what: &str) -> Result<Vec<u8>, String> {
    match pem {
        Pem::Inline(text) => Ok(text.as_bytes().to_vec()),
        Pem::File(path) => std::fs::read(path).map_err(|e| format!("{what} {path}: {e}")),
    }
}

fn versions(s: &SslSettings) -> Vec<&'static SupportedProtocolVersion> {
    let mut v = Vec::new();
    if s.tls13 {
        v.push(&rustls::version::TLS13);
    }
    if s.tls12 {
        v.push(&rustls::version::TLS12);
    }
    v
}

/// The certificate chain and private key of the keystore.
fn identity(
    s: &SslSettings,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, String> {
    let Some((key_pem, chain_pem)) = &s.keystore else {
        return Ok(None);
    };
    let key_text = read_pem(key_pem, "ssl.keystore")?;
    let chain_text = match chain_pem {
        Some(c) => read_pem(c, "ssl.keystore.certificate.chain")?,
        None => key_text.clone(),
    };
    if key_text
        .windows(b"ENCRYPTED PRIVATE KEY".len())
        .any(|w| w == b"ENCRYPTED PRIVATE KEY")
    {
        return Err(
            "the keystore's private key is encrypted; weir reads unencrypted PEM keys \
             (decrypt it with `openssl pkcs8 -in key.pem -out plain.pem`)"
                .into(),
        );
    }
    let key = PrivateKeyDer::from_pem_slice(&key_text)
        .map_err(|e| format!("the keystore holds no usable private key: {e}"))?;
    let chain = CertificateDer::pem_slice_iter(&chain_text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the keystore's certificate chain: {e}"))?;
    if chain.is_empty() {
        return Err("the keystore holds no certificate".into());
    }
    Ok(Some((chain, key)))
}

fn roots(s: &SslSettings) -> Result<Option<RootCertStore>, String> {
    let Some(pem) = &s.truststore else {
        return Ok(None);
    };
    let text = read_pem(pem, "ssl.truststore")?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&text) {
        let cert = cert.map_err(|e| format!("the truststore: {e}"))?;
        store
            .add(cert)
            .map_err(|e| format!("the truststore holds a certificate rustls refuses: {e}"))?;
    }
    if store.is_empty() {
        return Err("the truststore holds no certificate".into());
    }
    Ok(Some(store))
}

/// The server configuration of a TLS listener.
pub fn server_config(s: &SslSettings) -> Result<Arc<ServerConfig>, String> {
    let (chain, key) = identity(s)?.ok_or(
        "a TLS listener needs ssl.keystore.location (or ssl.keystore.key and \
         ssl.keystore.certificate.chain)",
    )?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions(s))
        .map_err(|e| e.to_string())?;
    let builder = match s.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        auth => {
            let roots = roots(s)?.ok_or(
                "ssl.client.auth asks for client certificates: give ssl.truststore.location \
                 (or ssl.truststore.certificates)",
            )?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
            let verifier = match auth {
                ClientAuth::Requested => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| e.to_string())?)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("the keystore's key does not fit its certificate: {e}"))?;
    // No session tickets or resumption state to keep per client: a broker's connections are
    // long-lived.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok(Arc::new(config))
}

/// The client configuration a broker uses to reach another broker's TLS listener: the
/// truststore (required), this broker's own certificate when it has a keystore, and the host
/// name check unless `ssl.endpoint.identification.algorithm` is empty.
pub fn client_config(s: &SslSettings) -> Result<Arc<ClientConfig>, String> {
    let roots = roots(s)?.ok_or(
        "a broker reaching another over TLS needs ssl.truststore.location (or \
         ssl.truststore.certificates)",
    )?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions(s))
        .map_err(|e| e.to_string())?;
    let builder = if s.verify_hostname {
        builder.with_root_certificates(roots)
    } else {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| e.to_string())?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
    };
    let config = match identity(s)? {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("the keystore's key does not fit its certificate: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The principal of a client that presented `cert` (its subject, RFC 2253).
pub fn principal_of(cert: &CertificateDer<'_>) -> Option<String> {
    super::dn::subject_of(cert).map(|dn| format!("User:{dn}"))
}

/// The name to present in SNI and check the certificate against, for `addr` (host:port,
/// an IPv6 host in brackets).
pub fn server_name_of(addr: &str) -> io::Result<ServerName<'static>> {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    server_name(host.trim_start_matches('[').trim_end_matches(']'))
}

/// The name to present in SNI and check the certificate against.
pub fn server_name(host: &str) -> io::Result<ServerName<'static>> {
    ServerName::try_from(host.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// Checks the chain, not the host name (`ssl.endpoint.identification.algorithm=`).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
