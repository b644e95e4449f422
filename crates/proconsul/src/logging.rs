//! Log output in Consul's shape: `2026-01-02T15:04:05.000Z [INFO]  agent: message: key=value`,
//! or one JSON object per line with `-log-json`.

use std::fmt;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

struct ConsulFormat;

fn level_text(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "[TRACE]",
        Level::DEBUG => "[DEBUG]",
        Level::INFO => "[INFO] ",
        Level::WARN => "[WARN] ",
        Level::ERROR => "[ERROR]",
    }
}

/// UTC timestamp with milliseconds, computed without a date crate (civil-from-days).
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        now.subsec_millis()
    )
}

impl<S, N> FormatEvent<S, N> for ConsulFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let target = meta
            .target()
            .split("::")
            .next()
            .unwrap_or("agent")
            .trim_start_matches("proconsul_");
        write!(
            writer,
            "{} {} {}: ",
            timestamp(),
            level_text(meta.level()),
            target
        )?;
        ctx.format_fields(writer.by_ref(), event)?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, " {fields}")?;
                }
            }
        }
        writeln!(writer)
    }
}

/// Maps Consul's level names (`trace`, `debug`, `info`, `warn`, `err`/`error`) to a filter;
/// our crates log at that level, dependencies one level quieter.
fn filter(level: &str) -> tracing_subscriber::EnvFilter {
    let ours = match level.to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "warn" => "warn",
        "err" | "error" => "error",
        _ => "info",
    };
    let deps = if ours == "trace" || ours == "debug" {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::EnvFilter::new(format!(
        "{deps},proconsul={ours},proconsul_agent={ours},proconsul_server={ours},proconsul_consensus={ours},proconsul_http={ours},proconsul_dns={ours},openraft=warn,hickory_server=warn,hickory_proto=warn,hickory_net=warn"
    ))
}

pub fn init(level: &str, json: bool) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_ansi(false)
        .with_writer(std::io::stderr);
    let result = if json {
        builder.json().try_init()
    } else {
        builder.event_format(ConsulFormat).try_init()
    };
    if let Err(err) = result {
        eprintln!("logging already initialised: {err}");
    }
}
