//! TLS against a real rustls server on 127.0.0.1 whose certificate comes from a private CA made
//! for the test (rcgen): refused without the CA (and the message says which option fixes it),
//! accepted with `--ca-cert`, `ALLSTACKS_CA_CERT` or `SSL_CERT_FILE`; and `HTTPS_PROXY` /
//! `NO_PROXY`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::{
    Reply, Server, TOKEN, assert_no_token, job_payload, outbox_files, temp_path, tool,
};

/// A private CA (its PEM in a file) and a server certificate it signed for `localhost` and
/// `127.0.0.1`.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: PathBuf,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "allstacks-cd test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("CA cert");
        let issuer = Issuer::new(ca, ca_key);

        let key = KeyPair::generate().expect("server key");
        let mut leaf =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("server params");
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = leaf.signed_by(&key, &issuer).expect("server cert");

        let dir = tempfile::tempdir().expect("tmp");
        let ca_pem = dir.path().join("ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).expect("write CA");
        Pki {
            dir,
            ca_pem,
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }
}

/// A request's body and its Authorization header.
type Got = (String, Option<String>);

/// An HTTPS server that answers every request 201 and records the bodies, and counts the
/// connections that never got as far as a request (a refused handshake).
struct TlsServer {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<Got>>>,
    failed: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl TlsServer {
    fn start(pki: &Pki) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), PrivateKeyDer::Pkcs8(pki.key.clone_key()))
            .expect("server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let failed = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, f, st) = (bodies.clone(), failed.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            let give_up = Instant::now() + Duration::from_secs(60);
            let mut workers = Vec::new();
            while !st.load(Ordering::SeqCst) && Instant::now() < give_up {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (config, b, f) = (config.clone(), b.clone(), f.clone());
                        workers.push(std::thread::spawn(move || {
                            match serve_tls(stream, config) {
                                Some(got) => b.lock().expect("lock").push(got),
                                None => {
                                    f.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        TlsServer {
            addr,
            bodies,
            failed,
            stop,
            handle: Some(handle),
        }
    }

    fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.addr.port())
    }

    /// The bodies received, with their Authorization header.
    fn bodies(&self) -> Vec<Got> {
        self.bodies.lock().expect("lock").clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// One request over TLS: returns its body and Authorization header, or `None` when the
/// handshake or the request failed.
fn serve_tls(stream: TcpStream, config: Arc<rustls::ServerConfig>) -> Option<Got> {
    stream.set_nonblocking(false).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let conn = rustls::ServerConnection::new(config).ok()?;
    let mut tls = rustls::StreamOwned::new(conn, stream);
    let (body, auth) = {
        let mut reader = BufReader::new(&mut tls);
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let (mut length, mut auth) = (0usize, None);
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).ok()? == 0 {
                break;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if k.eq_ignore_ascii_case("authorization") {
                    auth = Some(v.trim().to_string());
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).ok()?;
        (String::from_utf8_lossy(&body).into_owned(), auth)
    };
    let _ =
        tls.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Some((body, auth))
}

fn conn(url: &str) -> [(&'static str, String); 4] {
    [
        ("ALLSTACKS_URL", url.to_string()),
        ("ALLSTACKS_COMPANY_ID", "42".into()),
        ("ALLSTACKS_TOKEN", TOKEN.into()),
        ("ALLSTACKS_SERVICE_ID", "7".into()),
    ]
}

fn with_conn(mut t: crate::support::Tool, url: &str) -> crate::support::Tool {
    for (k, v) in conn(url) {
        t = t.env(k, v);
    }
    t
}

#[test]
fn an_unknown_ca_is_refused_and_the_message_names_ca_cert() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki);
    let outbox = temp_path(&pki.dir, "outbox");
    let started = Instant::now();
    let out = with_conn(
        tool(&["report", "--strict", "-vv"]),
        &server.url("127.0.0.1"),
    )
    .with_job("tls-1")
    .env("ALLSTACKS_OUTBOX", &outbox)
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(out.stderr.contains("TLS failed"), "{}", out.stderr);
    assert!(out.stderr.contains("UnknownIssuer"), "{}", out.stderr);
    assert!(
        out.stderr.contains("pass its PEM with --ca-cert"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("debug: attempt").count(),
        1,
        "not retried"
    );
    assert!(server.bodies().is_empty(), "nothing was sent");
    assert!(server.failed.load(Ordering::SeqCst) >= 1);
    // A configuration problem, but the report is kept: once the CA is given, flush sends it.
    let files = outbox_files(&outbox);
    assert_eq!(files.len(), 1);
    assert_no_token(&outbox);
    let ca = pki.ca_pem.to_str().expect("utf-8 path");
    let out = with_conn(
        tool(&["flush", "--strict", "-vv", "--ca-cert", ca]),
        &server.url("127.0.0.1"),
    )
    .env("ALLSTACKS_OUTBOX", &outbox)
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&bodies[0].0).expect("json"),
        job_payload("tls-1")
    );
}

#[test]
fn ca_cert_flag_variable_and_ssl_cert_file_make_it_work() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki);
    let ca = pki.ca_pem.to_str().expect("utf-8 path");
    // (host, extra arguments, extra variables)
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case; 3] = [
        ("localhost", &["--ca-cert", ca], &[]),
        ("127.0.0.1", &[], &[("ALLSTACKS_CA_CERT", ca)]),
        ("localhost", &[], &[("SSL_CERT_FILE", ca)]),
    ];
    for (i, (host, args, vars)) in cases.iter().enumerate() {
        let mut argv = vec!["report", "--strict", "-vv"];
        argv.extend_from_slice(args);
        let job = format!("tls-ok-{i}");
        let out = with_conn(tool(&argv), &server.url(host))
            .with_job(&job)
            .envs(vars)
            .run();
        assert_eq!(out.code, 0, "{host} {args:?} {vars:?}: {}", out.stderr);
        let bodies = server.bodies();
        assert_eq!(bodies.len(), i + 1);
        let (body, auth) = &bodies[i];
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(body).expect("json"),
            job_payload(&job)
        );
        assert_eq!(auth.as_deref(), Some(&*format!("Bearer {TOKEN}")));
    }
}

#[test]
fn an_unusable_ca_cert_is_a_configuration_error() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki);
    let empty = pki.dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").expect("write");
    let missing = pki.dir.path().join("missing.pem");
    for (path, message) in [
        (&missing, "cannot read"),
        (&empty, "holds no PEM certificate"),
    ] {
        let path = path.to_str().expect("utf-8 path");
        let out = with_conn(
            tool(&["report", "--strict", "-vv", "--ca-cert", path]),
            &server.url("localhost"),
        )
        .with_job("tls-bad-ca")
        .run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains(message), "{}", out.stderr);
        assert!(
            out.stderr.contains("--ca-cert / ALLSTACKS_CA_CERT"),
            "{}",
            out.stderr
        );
    }
    assert!(server.bodies().is_empty());
    assert_eq!(
        server.failed.load(Ordering::SeqCst),
        0,
        "no connection was made"
    );
}

#[test]
fn https_proxy_is_used_without_the_token_and_loopback_bypasses_it() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki);
    // A proxy that refuses every tunnel.
    let proxy = Server::start(vec![Reply::status(403)]);
    let ca = pki.ca_pem.to_str().expect("utf-8 path");
    // A host that is not this machine (`.invalid` never resolves; only the proxy, on
    // 127.0.0.1, is ever connected to).
    let out = with_conn(
        tool(&[
            "report",
            "--strict",
            "--retries",
            "0",
            "-vv",
            "--ca-cert",
            ca,
        ]),
        &format!("https://allstacks.invalid:{}", server.addr.port()),
    )
    .with_job("via-proxy")
    .env("HTTPS_PROXY", proxy.url())
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let got = proxy.only();
    assert_eq!(got.method, "CONNECT");
    assert_eq!(
        got.path,
        format!("allstacks.invalid:{}", server.addr.port())
    );
    assert_eq!(
        got.header("authorization"),
        None,
        "the token is for the server only"
    );
    assert!(got.body.is_empty());
    assert!(server.bodies().is_empty());

    // This machine is never reached through a proxy, NO_PROXY or not (SPEC.md, Security
    // rules: loopback is never proxied).
    let out = with_conn(
        tool(&[
            "report",
            "--strict",
            "--retries",
            "0",
            "-vv",
            "--ca-cert",
            ca,
        ]),
        &server.url("localhost"),
    )
    .with_job("direct")
    .env("HTTPS_PROXY", proxy.url())
    .env("ALL_PROXY", proxy.url())
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(proxy.received().len(), 1, "bypassed");
    assert_eq!(server.bodies().len(), 1);
}

#[test]
fn https_to_a_plain_http_port_is_explained_and_not_retried() {
    // One server hangs up on the TLS hello, one answers it in plain HTTP.
    let hangs_up = Server::start(vec![Reply::status(201)]);
    let answers = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = answers.local_addr().expect("addr").port();
    let plain = std::thread::spawn(move || {
        answers.set_nonblocking(true).expect("nonblocking");
        let until = Instant::now() + Duration::from_secs(10);
        let mut served = 0;
        while served < 1 && Instant::now() < until {
            match answers.accept() {
                Ok((mut s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let _ = s.read(&mut [0u8; 512]);
                    let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                    served += 1;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        served
    });
    for url in [
        hangs_up.url().replace("http://", "https://"),
        format!("https://127.0.0.1:{port}"),
    ] {
        let out = with_conn(tool(&["report", "--strict", "--retries", "3", "-vv"]), &url)
            .with_job("not-tls")
            .run();
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr
                .contains("does not seem to speak TLS on this port"),
            "{}",
            out.stderr
        );
        assert_eq!(
            out.stderr.matches("debug: attempt").count(),
            1,
            "not retried"
        );
    }
    assert_eq!(plain.join().expect("plain server"), 1);
    // The server saw a TLS hello, never a request with the payload.
    assert!(hangs_up.received().iter().all(|r| r.body.is_empty()));
}

#[test]
fn check_meets_the_certificate_a_report_would_meet() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki);
    let url = server.url("127.0.0.1");
    let out = with_conn(tool(&["check"]), &url).with_job("j").run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let http = out
        .stderr
        .lines()
        .find(|l| l.starts_with("FAIL  tls+http"))
        .unwrap_or_else(|| panic!("no failed TLS line:\n{}", out.stderr));
    assert!(http.contains("TLS failed"), "{http}");
    assert!(http.contains("pass its PEM with --ca-cert"), "{http}");
    // With the CA, as a report would be: the GET gets through, without the token.
    let ca = pki.ca_pem.to_str().expect("utf-8 path");
    let out = with_conn(tool(&["check"]), &url)
        .with_job("j")
        .env("ALLSTACKS_CA_CERT", ca)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("ok    tls+http") && l.contains("answered HTTP 201")),
        "{}",
        out.stderr
    );
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0], (String::new(), None), "a GET: no body, no token");
}
