//! Scraping a test server's `/metrics` (the kit turns the listener on for
//! every server) and reading the series back.

use std::collections::BTreeMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::TestApp;

/// One scrape: the raw text and its series.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub text: String,
    series: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl TestApp {
    /// GET /metrics over plain HTTP/1.0 (the body then ends with the connection).
    pub async fn scrape(&self) -> Scrape {
        let addr = self
            .server
            .as_ref()
            .and_then(|server| server.metrics_addr())
            .expect("the kit serves metrics");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect to /metrics");
        stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").await.expect("send request");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("read response");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(head.to_ascii_lowercase().contains("application/openmetrics-text"), "{head}");
        Scrape::parse(body)
    }
}

impl Scrape {
    pub fn parse(text: &str) -> Self {
        let series = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| parse_sample(line).unwrap_or_else(|| panic!("bad sample line: {line}")))
            .collect();
        Self { text: text.to_owned(), series }
    }

    /// The sum of every series named `name` whose labels include all of `labels`
    /// (0 when none does).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.series
            .iter()
            .filter(|(series, have, _)| {
                series == name
                    && labels.iter().all(|(key, value)| have.get(*key).is_some_and(|v| v == value))
            })
            .map(|(_, _, value)| value)
            .sum()
    }

    /// Whether any series has this name (a gauge may be left out).
    pub fn has(&self, name: &str) -> bool {
        self.series.iter().any(|(series, _, _)| series == name)
    }
}

/// `name{key="value",…} 12` or `name 12`.
fn parse_sample(line: &str) -> Option<(String, BTreeMap<String, String>, f64)> {
    let (name, rest) = match line.find('{') {
        Some(open) => (&line[..open], &line[open + 1..]),
        None => {
            let (name, value) = line.split_once(' ')?;
            return Some((name.to_owned(), BTreeMap::new(), value.trim().parse().ok()?));
        }
    };
    let mut labels = BTreeMap::new();
    let mut chars = rest.chars();
    loop {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        let key = key.trim_start_matches(',').to_owned();
        if chars.next()? != '"' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\\' => match chars.next()? {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key, value);
        match chars.next()? {
            ',' => continue,
            '}' => break,
            _ => return None,
        }
    }
    let value = chars.as_str().trim().split(' ').next()?.parse().ok()?;
    Some((name.to_owned(), labels, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_with_and_without_labels() {
        let scrape = Scrape::parse(
            "# TYPE x counter\nx_total{a=\"1\",b=\"q\\\"u\"} 3\nx_total{a=\"2\",b=\"\"} 4\ny 1.5\n# EOF\n",
        );
        assert_eq!(scrape.sum("x_total", &[]), 7.0);
        assert_eq!(scrape.sum("x_total", &[("b", "q\"u")]), 3.0);
        assert_eq!(scrape.sum("y", &[]), 1.5);
        assert_eq!(scrape.sum("z", &[]), 0.0);
    }
}
