//! A tiny in-process SMTP server for tests: speaks just enough of RFC 5321
//! (plus AUTH PLAIN/LOGIN) for lettre, and records what it was given.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use data_encoding::BASE64;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// One message as the sink received it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section with dot-stuffing undone, lines joined by CRLF.
    pub data: String,
    /// `(user, password)` if the client authenticated.
    pub auth: Option<(String, String)>,
}

impl Received {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let head = self.data.split("\r\n\r\n").next()?;
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    pub fn body(&self) -> &str {
        self.data.split_once("\r\n\r\n").map_or("", |(_, body)| body)
    }

    /// The body as text, quoted-printable undone when the message used it.
    pub fn text(&self) -> String {
        match self.header("Content-Transfer-Encoding") {
            Some(encoding) if encoding.eq_ignore_ascii_case("quoted-printable") => {
                decode_quoted_printable(self.body())
            }
            _ => self.body().to_owned(),
        }
    }
}

/// Undoes quoted-printable (RFC 2045 6.7): soft line breaks and `=XX`.
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(byte) =
                joined.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_on(0).await
    }

    /// On a given loopback port (0 picks one), e.g. one a client was already
    /// told about while nothing listened there.
    pub async fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&received);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    // A client hanging up mid-session is not the sink's problem.
                    let _ = session(stream, store).await;
                });
            }
        });
        Self { addr, received, task }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(stream: TcpStream, store: Arc<Mutex<Vec<Received>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut current = Received::default();
    let mut auth = None;
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME".into()
        } else if upper.starts_with("HELO") {
            "250 sink.test".into()
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = match line.get(11..).map(str::trim) {
                Some(arg) if !arg.is_empty() => arg.to_owned(),
                _ => {
                    write.write_all(b"334 \r\n").await?;
                    lines.next_line().await?.unwrap_or_default()
                }
            };
            let decoded = decode(&encoded);
            let mut parts = decoded.split('\0').skip(1);
            let user = parts.next().unwrap_or_default().to_owned();
            let pass = parts.next().unwrap_or_default().to_owned();
            auth = Some((user, pass));
            "235 2.7.0 Authentication successful".into()
        } else if upper.starts_with("AUTH LOGIN") {
            write.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
            let user = decode(&lines.next_line().await?.unwrap_or_default());
            write.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
            let pass = decode(&lines.next_line().await?.unwrap_or_default());
            auth = Some((user, pass));
            "235 2.7.0 Authentication successful".into()
        } else if upper.starts_with("MAIL FROM:") {
            current = Received { auth: auth.clone(), ..Received::default() };
            current.mail_from = angle(&line[10..]);
            "250 2.1.0 Ok".into()
        } else if upper.starts_with("RCPT TO:") {
            current.rcpt_to.push(angle(&line[8..]));
            "250 2.1.5 Ok".into()
        } else if upper == "DATA" {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = Vec::new();
            while let Some(data_line) = lines.next_line().await? {
                if data_line == "." {
                    break;
                }
                // Undo dot-stuffing (RFC 5321 4.5.2).
                data.push(data_line.strip_prefix('.').unwrap_or(&data_line).to_owned());
            }
            current.data = data.join("\r\n");
            store.lock().unwrap().push(std::mem::take(&mut current));
            "250 2.0.0 Ok: queued".into()
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 Ok".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 Command not recognized".into()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
    Ok(())
}

fn decode(b64: &str) -> String {
    String::from_utf8(BASE64.decode(b64.trim().as_bytes()).unwrap_or_default()).unwrap_or_default()
}

/// `<a@b> SIZE=123` -> `a@b`.
fn angle(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(start), Some(end)) if start < end => arg[start + 1..end].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or_default().to_owned(),
    }
}
