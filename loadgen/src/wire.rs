//! A bare HTTP/1.1 keep-alive connection for the ingest loop: one request in flight, the
//! request written by hand and the answer read by its `Content-Length`.
//!
//! The load generator shares the machine it measures. Through reqwest a report cost the
//! generator about 70 µs of CPU, half as much as the server spent on it, so the figure said
//! as much about the client as about the server. Writing the few bytes of a request by hand
//! leaves the server nearly all of the machine; the server still parses and answers a real
//! HTTP request on a real socket, exactly as it would for a phone.

use anyhow::{Context, bail, ensure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection to the server.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: TcpStream,
    host: String,
    /// The request being written; kept to reuse its allocation.
    out: Vec<u8>,
    /// Bytes read from the socket: an answer's head and body, and whatever follows them.
    buf: Vec<u8>,
}

/// An answer: its status and its body.
#[derive(Debug)]
pub(crate) struct Answer<'a> {
    pub(crate) status: u16,
    pub(crate) body: &'a [u8],
}

impl Conn {
    /// Connects to `base` (`http://host:port`, no path).
    pub(crate) async fn open(base: &str) -> anyhow::Result<Conn> {
        let host = base
            .strip_prefix("http://")
            .context("the ingest load speaks plain http:// only")?
            .trim_end_matches('/')
            .to_owned();
        ensure!(
            !host.contains('/'),
            "the server's URL must not have a path: {base}"
        );
        let stream = TcpStream::connect(&host)
            .await
            .with_context(|| format!("cannot connect to {host}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            host,
            out: Vec::with_capacity(512),
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends `POST path` with a JSON body, as the holder of `token`, and reads the answer.
    pub(crate) async fn post_json(
        &mut self,
        path: &str,
        token: &str,
        body: &[u8],
    ) -> anyhow::Result<Answer<'_>> {
        self.out.clear();
        self.out.extend_from_slice(b"POST ");
        self.out.extend_from_slice(path.as_bytes());
        self.out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.out.extend_from_slice(self.host.as_bytes());
        self.out.extend_from_slice(b"\r\nAuthorization: Bearer ");
        self.out.extend_from_slice(token.as_bytes());
        self.out
            .extend_from_slice(b"\r\nContent-Type: application/json\r\nContent-Length: ");
        self.out
            .extend_from_slice(body.len().to_string().as_bytes());
        self.out.extend_from_slice(b"\r\n\r\n");
        self.out.extend_from_slice(body);
        self.stream
            .write_all(&self.out)
            .await
            .context("cannot send the request")?;
        self.read_answer().await
    }

    async fn read_answer(&mut self) -> anyhow::Result<Answer<'_>> {
        // The previous answer was read whole, and the server sends nothing unasked.
        self.buf.clear();
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            self.fill().await?;
        };
        let head =
            std::str::from_utf8(&self.buf[..head_end]).context("the answer's head is not UTF-8")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("not an HTTP status line: {status_line:?}"))?;
        let mut length = None;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .context("a bad Content-Length")?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("the server sent a chunked answer, which this client does not read");
            }
        }
        let length = length.context("the answer has no Content-Length")?;
        while self.buf.len() < head_end + length {
            self.fill().await?;
        }
        Ok(Answer {
            status,
            body: &self.buf[head_end..head_end + length],
        })
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        let len = self.buf.len();
        self.buf.resize(len + 4096, 0);
        let n = self
            .stream
            .read(&mut self.buf[len..])
            .await
            .context("cannot read the answer")?;
        self.buf.truncate(len + n);
        if n == 0 {
            bail!("the server closed the connection");
        }
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn reads_answers_split_across_reads_and_back_to_back() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut seen = Vec::new();
            for answer in [&b"{\"id\":1}"[..], &b"{\"id\":22}"[..]] {
                // Read one whole request: its head, then its body of 2 bytes.
                let mut request = Vec::new();
                while find(&request, b"\r\n\r\n").is_none_or(|at| request.len() < at + 4 + 2) {
                    let mut chunk = [0u8; 64];
                    let n = socket.read(&mut chunk).await.expect("read");
                    request.extend_from_slice(&chunk[..n]);
                }
                seen.push(String::from_utf8(request).expect("utf-8"));
                let head = format!(
                    "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    answer.len()
                );
                // The head and the body in separate writes, so the client reads twice.
                socket.write_all(head.as_bytes()).await.expect("write");
                socket.flush().await.expect("flush");
                tokio::task::yield_now().await;
                socket.write_all(answer).await.expect("write");
            }
            seen
        });
        let mut conn = Conn::open(&format!("http://{addr}")).await.expect("open");
        let a = conn
            .post_json("/api/cases", "t0k", b"{}")
            .await
            .expect("first");
        assert_eq!((a.status, a.body), (201, &b"{\"id\":1}"[..]));
        let a = conn
            .post_json("/api/cases", "t0k", b"{}")
            .await
            .expect("second");
        assert_eq!((a.status, a.body), (201, &b"{\"id\":22}"[..]));
        let seen = server.await.expect("server");
        assert!(seen[0].starts_with("POST /api/cases HTTP/1.1\r\n"));
        assert!(seen[0].contains("\r\nAuthorization: Bearer t0k\r\n"));
        assert!(seen[0].ends_with("\r\nContent-Length: 2\r\n\r\n{}"));
    }
}
