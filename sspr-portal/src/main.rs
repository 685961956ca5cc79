//! The self-service password reset portal.
//!
//! ```text
//! cargo run -p sspr-portal                    # embedded defaults (demo)
//! cargo run -p sspr-portal -- --config portal.toml
//! ```
//!
//! Options: `--config FILE` (also `SSPR_PORTAL_CONFIG`), `--listen ADDR:PORT` (port 0 picks a
//! free one; the address is printed), `--data-dir DIR`. Logs go to stderr (`RUST_LOG`).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program talks on its terminal

use std::path::PathBuf;
use std::process::ExitCode;

use sspr_portal::{Config, Portal};

const USAGE: &str = "usage: portal [--config FILE] [--listen ADDR:PORT] [--data-dir DIR]";

fn parse_args() -> Result<Config, String> {
    let mut args = std::env::args().skip(1);
    let mut config_path = std::env::var_os("SSPR_PORTAL_CONFIG").map(PathBuf::from);
    let mut listen = None;
    let mut data_dir = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--config" => config_path = Some(PathBuf::from(value("--config")?)),
            "--listen" => listen = Some(value("--listen")?),
            "--data-dir" => data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let mut config = match &config_path {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if let Some(listen) = listen {
        config.listen = listen;
    }
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    config.listen_addr().map_err(|e| e.to_string())?;
    Ok(config)
}

/// Ctrl-C, or SIGTERM (what service managers and container runtimes send to stop a process):
/// either starts the graceful shutdown of [`Portal::serve`].
async fn stop_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                eprintln!("portal: cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    eprintln!("portal: stopping (waiting for requests in progress and PINs being delivered)");
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // The log on stderr (`RUST_LOG`), and the engine's spans to the OTLP collector if one is
    // configured (a filter of its own: `RUST_LOG=warn` does not turn the traces off).
    let tracing = sspr_portal::otlp::Tracing {
        sample_ratio: config.otlp_sample_ratio,
        backend_spans: config.otlp_backend_spans,
        service_name: "sspr-portal".to_owned(),
    };
    let exporter = match config
        .otlp_endpoint
        .as_deref()
        .map(|endpoint| sspr_portal::otlp::Exporter::with_tracing(endpoint, tracing))
        .transpose()
    {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("portal: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        let log = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        );
        tracing_subscriber::registry().with(log).with(exporter.as_ref().map(|e| e.layer())).init();
    }
    let portal = match Portal::build(&config).await {
        Ok(portal) => portal,
        Err(e) => {
            eprintln!("portal: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&config.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("portal: cannot listen on {}: {e}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let metrics_addr = match config.metrics_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("portal: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(metrics_addr) = metrics_addr {
        let served = match sspr_portal::metrics::install() {
            Ok(handle) => tokio::net::TcpListener::bind(metrics_addr).await.map(|l| (l, handle)),
            Err(e) => {
                eprintln!("portal: {e}");
                return ExitCode::FAILURE;
            }
        };
        match served {
            Ok((metrics_listener, handle)) => {
                println!("metrics on http://{}/metrics", metrics_listener.local_addr().unwrap_or(metrics_addr));
                // The pages' serve loop: its timeouts and connection caps.
                let serving = portal.clone();
                tokio::spawn(async move { serving.serve_metrics(metrics_listener, handle).await });
            }
            Err(e) => {
                eprintln!("portal: cannot listen on {metrics_addr} for metrics: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let addr = listener.local_addr().map_or_else(|_| config.listen.clone(), |a| a.to_string());
    println!("sspr portal\n{}", portal.summary());
    println!(
        "pages: /passwordreset  /passwordnotification  /admin{}",
        if config.outbox_page_enabled() { "  /outbox" } else { "" }
    );
    // The last line, read by scripts that start the portal on a free port.
    println!("listening on http://{addr}/");

    let sweeper = portal.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            sweeper.sweep_sessions();
        }
    });
    let served = portal.serve(listener, stop_signal()).await;
    // The last batch of spans, before the process ends.
    if let Some(exporter) = exporter
        && let Err(e) = tokio::task::spawn_blocking(move || exporter.shutdown()).await.unwrap_or(Ok(()))
    {
        eprintln!("portal: {e}");
    }
    if let Err(e) = served {
        eprintln!("portal: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
