//! The load generator: prepared request bytes sent by client threads, each on its own
//! keep-alive HTTP/1.1 connection, every latency recorded.

use std::io::BufRead as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// The `host:port` of an `http://` URL.
fn authority(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: the bench speaks plain http:// only"))?;
    Ok(rest.split('/').next().unwrap_or_default().to_owned())
}

/// A request's bytes as they go on the wire, made before the clock starts.
fn wire_request(host: &str, token: &str, path: &str, body: Option<&[u8]>) -> Vec<u8> {
    let method = if body.is_some() { "POST" } else { "GET" };
    let mut bytes = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n");
    if let Some(body) = body {
        bytes.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    bytes.push_str("\r\n");
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    bytes
}

/// One keep-alive HTTP/1.1 connection sending prepared requests. The load generator shares the
/// machine with the server, so a request costs it one write and the reads of the answer: no URL
/// parsing, header building or body decoding on the clock.
struct LoadConnection {
    host: String,
    stream: Option<std::io::BufReader<std::net::TcpStream>>,
    line: String,
}

impl LoadConnection {
    fn new(host: &str) -> LoadConnection {
        LoadConnection { host: host.to_owned(), stream: None, line: String::new() }
    }

    /// Sends one request and reads its whole answer; returns the status. A kept-alive
    /// connection the server has closed meanwhile is opened again once; after any failure the
    /// connection is dropped, since where its next answer starts is unknown.
    fn send(&mut self, request: &[u8]) -> Result<u16, String> {
        let reused = self.stream.is_some();
        let mut result = self.exchange(request);
        if reused && matches!(result, Err(Exchange::Before(_))) {
            self.stream = None;
            result = self.exchange(request);
        }
        if result.is_err() {
            self.stream = None;
        }
        result.map_err(Exchange::into_message)
    }

    fn exchange(&mut self, request: &[u8]) -> Result<u16, Exchange> {
        use std::io::{Read as _, Write as _};
        if self.stream.is_none() {
            let stream = std::net::TcpStream::connect(&self.host).map_err(Exchange::Before)?;
            stream.set_nodelay(true).map_err(Exchange::Before)?;
            self.stream = Some(std::io::BufReader::with_capacity(64 * 1024, stream));
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.get_mut().write_all(request).map_err(Exchange::Before)?;
        self.line.clear();
        if stream.read_line(&mut self.line).map_err(Exchange::Before)? == 0 {
            return Err(Exchange::Before(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let status = self
            .line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| Exchange::After(format!("not an HTTP status line: {:?}", self.line)))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            self.line.clear();
            stream.read_line(&mut self.line).map_err(Exchange::after)?;
            let header = self.line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<u64>().map_err(|e| Exchange::After(format!("content-length: {e}")))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let skip = |stream: &mut std::io::BufReader<std::net::TcpStream>, n: u64| {
            let copied = std::io::copy(&mut stream.take(n), &mut std::io::sink()).map_err(Exchange::after)?;
            if copied < n {
                return Err(Exchange::After("the answer ended early".into()));
            }
            Ok(())
        };
        // 1xx, 204 and 304 answers have no body, whatever their headers say (RFC 9112 6.3).
        if (100..200).contains(&status) || status == 204 || status == 304 {
        } else if chunked {
            loop {
                self.line.clear();
                stream.read_line(&mut self.line).map_err(Exchange::after)?;
                let size = self.line.trim_end().split(';').next().unwrap_or_default();
                let size =
                    u64::from_str_radix(size, 16).map_err(|e| Exchange::After(format!("chunk size {size:?}: {e}")))?;
                if size == 0 {
                    break;
                }
                skip(stream, size + 2)?;
            }
            // The trailer section, up to its empty line.
            loop {
                self.line.clear();
                if stream.read_line(&mut self.line).map_err(Exchange::after)? == 0 {
                    return Err(Exchange::After("the answer ended early".into()));
                }
                if self.line.trim_end().is_empty() {
                    break;
                }
            }
        } else if let Some(length) = length {
            skip(stream, length)?;
        } else {
            close = true;
            std::io::copy(stream, &mut std::io::sink()).map_err(Exchange::after)?;
        }
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

/// Where an exchange failed: before any answer arrived (the request may be sent again on a
/// new connection) or in the middle of one.
enum Exchange {
    Before(std::io::Error),
    After(String),
}

impl Exchange {
    fn after(e: std::io::Error) -> Exchange {
        Exchange::After(e.to_string())
    }

    fn into_message(self) -> String {
        match self {
            Exchange::Before(e) => e.to_string(),
            Exchange::After(m) => m,
        }
    }
}

/// Sends prepared requests from `clients` threads; each request is (path, body, events in it).
pub fn drive(
    url: &str,
    token: &str,
    clients: usize,
    requests: Vec<(String, Option<Vec<u8>>, usize)>,
) -> Result<(Vec<Duration>, usize, usize, f64), String> {
    let host = authority(url)?;
    let requests: Vec<(Vec<u8>, usize)> =
        requests.into_iter().map(|(path, body, n)| (wire_request(&host, token, &path, body.as_deref()), n)).collect();
    let total_requests = requests.len();
    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let events = AtomicUsize::new(0);
    let started = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (next, errors, events, requests, host) = (&next, &errors, &events, &requests, &host);
                s.spawn(move || {
                    let mut connection = LoadConnection::new(host);
                    let mut latencies = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((request, n)) = requests.get(i) else { break };
                        let t = Instant::now();
                        let answer = connection.send(request);
                        latencies.push(t.elapsed());
                        match answer {
                            Ok(status) if (200..300).contains(&status) => {
                                events.fetch_add(*n, Ordering::Relaxed);
                            }
                            _ => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    latencies
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("client thread")).collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies = latencies;
    latencies.sort();
    debug_assert_eq!(latencies.len(), total_requests);
    Ok((latencies, errors.into_inner(), events.into_inner(), seconds))
}

/// Background load: `clients` threads sending the requests in turn, over and over, on
/// keep-alive connections, until `stop` is set; returns the latency of every answered request.
pub fn hammer(
    url: &str,
    token: &str,
    clients: usize,
    requests: &[(String, Option<Vec<u8>>)],
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Vec<Duration>, String> {
    let host = authority(url)?;
    let wire: Vec<Vec<u8>> =
        requests.iter().map(|(path, body)| wire_request(&host, token, path, body.as_deref())).collect();
    let latencies = std::thread::scope(|s| {
        let threads: Vec<_> = (0..clients)
            .map(|c| {
                let (wire, host) = (&wire, &host);
                s.spawn(move || {
                    let mut connection = LoadConnection::new(host);
                    let mut latencies = Vec::new();
                    let mut i = c;
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        if connection.send(&wire[i % wire.len()]).is_ok() {
                            latencies.push(t.elapsed());
                        }
                        i += 1;
                    }
                    latencies
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().expect("load thread")).collect::<Vec<_>>()
    });
    let mut latencies = latencies;
    latencies.sort();
    Ok(latencies)
}

/// One client sending prepared bodies to `path`, each once and in order, until they are all sent
/// or `stop` is set; returns each answer's status and latency (a failed exchange as status 0).
pub fn hammer_once(
    url: &str,
    path: &str,
    bodies: &[Vec<u8>],
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Vec<(u16, Duration)>, String> {
    let host = authority(url)?;
    let mut connection = LoadConnection::new(&host);
    let mut answers = Vec::new();
    for body in bodies {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let request = wire_request(&host, "", path, Some(body));
        let t = Instant::now();
        let status = connection.send(&request).unwrap_or(0);
        answers.push((status, t.elapsed()));
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};
    use std::sync::{Arc, Mutex};

    /// A server giving each request the next canned answer; `close` after an answer ends that
    /// connection (whether or not the answer said so). Returns its address and a count of the
    /// connections it accepted.
    fn serve(answers: Vec<(&'static str, bool)>) -> (String, Arc<Mutex<usize>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(Mutex::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            let mut answers = answers.into_iter();
            for stream in listener.incoming() {
                *count.lock().unwrap() += 1;
                let mut reader = std::io::BufReader::new(stream.unwrap());
                loop {
                    let mut length = 0;
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        line.clear();
                    }
                    if line.is_empty() {
                        break;
                    }
                    reader.by_ref().take(length).read_to_end(&mut Vec::new()).unwrap();
                    let Some((answer, close)) = answers.next() else { return };
                    reader.get_mut().write_all(answer.as_bytes()).unwrap();
                    if close {
                        break;
                    }
                }
            }
        });
        (address, accepted)
    }

    #[test]
    fn a_load_connection_reads_every_kind_of_answer_and_reconnects_when_closed() {
        let (address, accepted) = serve(vec![
            ("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello", false),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nDigest: x\r\n\r\n", false),
            ("HTTP/1.1 204 No Content\r\n\r\n", false),
            ("HTTP/1.1 409 Conflict\r\nContent-Type: application/problem+json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", true),
            // Closed by the server without a word: the next request goes out on a new connection.
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", true),
            ("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false),
        ]);
        let url = format!("http://{address}");
        let host = authority(&url).unwrap();
        let mut connection = LoadConnection::new(&host);
        let post = wire_request(&host, "t", "/v1/events", Some(b"{}"));
        let get = wire_request(&host, "t", "/v1/head", None);
        let statuses: Vec<u16> =
            [&post, &get, &get, &get, &post, &get, &post].iter().map(|r| connection.send(r).unwrap()).collect();
        assert_eq!(statuses, [201, 200, 200, 204, 409, 200, 503]);
        assert_eq!(*accepted.lock().unwrap(), 3);
    }

    #[test]
    fn a_load_connection_names_an_answer_that_is_not_http() {
        let (address, _) = serve(vec![
            ("SSH-2.0-OpenSSH\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", true),
        ]);
        let mut connection = LoadConnection::new(&address);
        let get = wire_request(&address, "t", "/v1/head", None);
        assert_eq!(connection.send(&get).unwrap_err(), "not an HTTP status line: \"SSH-2.0-OpenSSH\\r\\n\"");
        assert_eq!(connection.send(&get).unwrap_err(), "the answer ended early");
        assert_eq!(
            authority("https://example.org/x").unwrap_err(),
            "https://example.org/x: the bench speaks plain http:// only"
        );
        assert_eq!(wire_request("h:1", "t", "/p", Some(b"{}")), b"POST /p HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    }
}
