//! The client against a real Prometheus (Debian's, backfilled at fixed times) for what the API
//! answers, and against a scripted server on 127.0.0.1 for what a real one will not do on
//! demand: 5xx, hanging, refusing credentials.

#![expect(
    clippy::cast_precision_loss,
    clippy::float_cmp,
    reason = "Unix seconds and counts Prometheus gives back exactly"
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_prometheus::{Auth, Client, Error, Options};
use gantry_testkit::prometheus::{Backfilled, OpenMetrics};

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn options(url: &str) -> Options {
    Options {
        url: url.to_owned(),
        auth: Auth::None,
        timeout: Duration::from_secs(5),
        attempts: 3,
        backoff: Duration::from_millis(20),
    }
}

/// Two counters, 10 requests every 15 s scrape for 30 minutes.
fn counters() -> Backfilled {
    let mut metrics = OpenMetrics::default();
    for step in 0..=120 {
        let time = T0 + step * 15;
        for app in ["a", "b"] {
            metrics.sample(
                "requests",
                "counter",
                &format!(r#"requests_total{{app="{app}"}}"#),
                time,
                (step * 10) as f64,
            );
        }
    }
    Backfilled::start(&metrics)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_real_prometheus_answers_range_and_instant_queries_and_names_bad_ones() {
    let server = counters();
    let client = Client::new(options(&server.url)).unwrap();
    runtime().block_on(async {
        let answer = client
            .query_range(
                r#"sum(increase(requests_total{app="a"}[1m]))"#,
                T0 + 60,
                T0 + 1800,
                60,
            )
            .await
            .unwrap();
        assert_eq!(answer.series.len(), 1);
        let samples = &answer.series[0].samples;
        assert_eq!(samples.len(), 30);
        assert_eq!(samples[0].0, (T0 + 60) as f64);
        for &(_, value) in samples {
            // 40 requests a minute; increase extrapolates to the window's edges.
            assert!((35.0..=45.0).contains(&value), "{value}");
        }
        // Nothing after `end` counts, even where data exists.
        let early = client
            .query_range(r#"requests_total{app="a"}"#, T0, T0 + 300, 60)
            .await
            .unwrap();
        assert_eq!(early.series[0].samples.last().unwrap(), &((T0 + 300) as f64, 200.0));

        // NaN and infinities as Prometheus writes them, from a scalar and from a vector.
        let scalar = client.query("0/0", T0 + 600).await.unwrap();
        assert!(scalar.series[0].labels.is_empty() && scalar.series[0].samples[0].1.is_nan());
        let infinite = client.query("vector(-1/0)", T0 + 600).await.unwrap();
        assert_eq!(infinite.series[0].samples[0].1, f64::NEG_INFINITY);
        let labelled = client.query(r#"requests_total{app="b"}"#, T0 + 600).await.unwrap();
        assert_eq!(labelled.series[0].labels["app"], "b");
        assert_eq!(labelled.series[0].samples[0].1, 400.0);

        // A query longer than any URL: sent as a form.
        let long = format!("vector(1){}", " or vector(1)".repeat(2_000));
        assert!(long.len() > 20_000);
        assert_eq!(client.query(&long, T0).await.unwrap().series.len(), 1);

        let broken = client.query("sum(rate(requests_total[1m]", T0).await.unwrap_err();
        assert!(
            matches!(&broken, Error::Query { error_type, status: 400, .. } if error_type == "bad_data"),
            "{broken}"
        );
        assert!(broken.is_bad_input());
        assert!(broken.to_string().contains("`sum(rate(requests_total[1m]`"), "{broken}");
        let ambiguous = client
            .query("requests_total + ignoring(app) requests_total", T0 + 600)
            .await
            .unwrap_err();
        assert!(
            matches!(&ambiguous, Error::Query { error_type, status: 422, .. } if error_type == "execution"),
            "{ambiguous}"
        );
        assert!(ambiguous.is_bad_input());
    });
    let prefixed = Client::new(options(&format!("{}/prometheus/", server.url))).unwrap();
    let missing = runtime().block_on(prefixed.query("up", T0)).unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
    assert!(missing.is_bad_input());
}

/// A server answering request by request from a plan (the last answer repeats), keeping each
/// request's Authorization header.
fn scripted(plan: Vec<Option<&'static str>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (index, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut line, mut authorization, mut length) = (String::new(), String::new(), 0);
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("authorization:") {
                    line[line.len() - value.len()..]
                        .trim()
                        .clone_into(&mut authorization);
                }
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            log.lock().unwrap().push(authorization);
            match plan[index.min(plan.len() - 1)] {
                Some(answer) => {
                    let _ = stream.write_all(answer.as_bytes());
                }
                None => held.push(stream),
            }
        }
    });
    (url, seen)
}

const OK: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 63\r\nconnection: close\r\n\r\n{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
const UNAVAILABLE: &str =
    "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
const UNAUTHORIZED: &str =
    "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

#[test]
fn server_errors_are_retried_a_hang_times_out_and_refused_credentials_are_not_retried() {
    let rt = runtime();
    let (url, seen) = scripted(vec![Some(UNAVAILABLE), Some(UNAVAILABLE), Some(OK)]);
    let mut settings = options(&url);
    settings.auth = Auth::Bearer("t0ken\n".to_owned());
    let answer = rt
        .block_on(Client::new(settings).unwrap().query("up", T0))
        .unwrap();
    assert!(answer.series.is_empty());
    assert_eq!(*seen.lock().unwrap(), ["Bearer t0ken"; 3]);

    let (url, seen) = scripted(vec![None]);
    let mut settings = options(&url);
    settings.timeout = Duration::from_millis(300);
    settings.attempts = 2;
    let error = rt
        .block_on(Client::new(settings).unwrap().query("up", T0))
        .unwrap_err();
    assert!(
        matches!(&error, Error::Unavailable { attempts: 2, last, .. } if last == "no answer within 300 ms"),
        "{error}"
    );
    assert!(!error.is_bad_input());
    assert_eq!(seen.lock().unwrap().len(), 2);

    let (url, seen) = scripted(vec![Some(UNAUTHORIZED)]);
    let mut settings = options(&url);
    settings.auth = Auth::Basic {
        username: "u".to_owned(),
        password: "p".to_owned(),
    };
    let error = rt
        .block_on(Client::new(settings).unwrap().query("up", T0))
        .unwrap_err();
    assert!(
        matches!(error, Error::Unauthorized { status: 401, .. }),
        "{error}"
    );
    assert_eq!(*seen.lock().unwrap(), ["Basic dTpw"]);

    let error = Client::new(options("ftp://example.com")).unwrap_err();
    assert!(error.is_bad_input(), "{error}");
}

/// Issue 25 §4: `https://user:pass@host` was printed in errors and its credentials never sent.
#[test]
fn credentials_in_the_url_are_sent_as_basic_auth_and_never_printed() {
    let rt = runtime();
    let (url, seen) = scripted(vec![Some(UNAUTHORIZED)]);
    let with_credentials = url.replacen("http://", "http://admin:pa%2Fss@", 1);
    let error = rt
        .block_on(
            Client::new(options(&with_credentials))
                .unwrap()
                .query("up", T0),
        )
        .unwrap_err();
    // base64("admin:pa/ss")
    assert_eq!(*seen.lock().unwrap(), ["Basic YWRtaW46cGEvc3M="]);
    let shown = error.to_string();
    assert!(
        !shown.contains("admin") && !shown.contains("pa%2Fss") && !shown.contains("pa/ss"),
        "{shown}"
    );
    let error = Client::new(options("ftp://admin:s3cret@example.com")).unwrap_err();
    assert!(!error.to_string().contains("s3cret"), "{error}");
    assert!(
        error.to_string().contains("ftp://***@example.com"),
        "{error}"
    );
}
