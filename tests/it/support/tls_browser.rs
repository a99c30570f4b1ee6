//! Playing a browser that accepts the https loopback listener's certificate, as a person does
//! after the warning: a TLS client that takes whatever certificate is presented, keeps it for the
//! test to examine, and sends one GET.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};

use super::browser::HttpAnswer;

/// Accepts any certificate and remembers it.
#[derive(Debug)]
struct Accepting(Arc<Mutex<Vec<CertificateDer<'static>>>>);

impl ServerCertVerifier for Accepting {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0.lock().unwrap().push(end_entity.clone().into_owned());
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            signature,
            &rustls::crypto::ring::default_provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            signature,
            &rustls::crypto::ring::default_provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The certificates an accepting browser was shown.
#[derive(Clone, Default)]
pub struct Shown(pub Arc<Mutex<Vec<CertificateDer<'static>>>>);

impl Shown {
    pub fn config(&self) -> Arc<ClientConfig> {
        Arc::new(
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Accepting(Arc::clone(&self.0))))
                .with_no_client_auth(),
        )
    }

    pub fn last(&self) -> CertificateDer<'static> {
        self.0
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a certificate was shown")
    }
}

/// GETs an absolute `https://` loopback URL (`localhost` connecting to `loopback`) over TLS with
/// `config`, sending `name` as the server name.
pub fn https_get(
    url: &str,
    loopback: IpAddr,
    config: Arc<ClientConfig>,
) -> Result<HttpAnswer, String> {
    let rest = url.strip_prefix("https://").expect("an https URL");
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let target = if target.is_empty() { "/" } else { target };
    let (host, port) = authority.rsplit_once(':').expect("a port");
    let ip: IpAddr = match host {
        "localhost" => loopback,
        "[::1]" => "::1".parse().unwrap(),
        other => other.parse().expect("an IP address"),
    };
    let addr = SocketAddr::new(ip, port.parse().unwrap());
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string()).unwrap();
    let socket =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let connection = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let mut stream = StreamOwned::new(connection, socket);
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: fake-browser\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // A server that closes without close_notify after a complete answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no HTTP status in {head:?}"))?;
    Ok(HttpAnswer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    })
}
