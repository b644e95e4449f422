//! Reads dnsperf's report (its stdout) into one JSON line (bench/discovery.sh).

use serde_json::{Value, json};

/// The first number after `label` on the line that starts with it.
fn number_after(text: &str, label: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.trim_start().starts_with(label))?;
    let rest = &line.trim_start()[label.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// `{qps, sent, completed, lost, avg_latency_us, noerror}` from dnsperf's statistics.
pub fn parse(text: &str) -> Result<Value, String> {
    let qps = number_after(text, "Queries per second:").ok_or("no 'Queries per second'")?;
    let sent = number_after(text, "Queries sent:").ok_or("no 'Queries sent'")?;
    let completed = number_after(text, "Queries completed:").unwrap_or(0.0);
    let lost = number_after(text, "Queries lost:").unwrap_or(0.0);
    let latency = number_after(text, "Average Latency (s):").map(|s| s * 1e6);
    // "Response codes:       NOERROR 1234 (100.00%)": answers other than NOERROR are errors.
    let noerror = text
        .lines()
        .find(|l| l.trim_start().starts_with("Response codes:"))
        .and_then(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "NOERROR")?;
            words.get(at + 1)?.trim_end_matches(',').parse::<f64>().ok()
        })
        .unwrap_or(0.0);
    Ok(json!({
        "qps": qps, "sent": sent, "completed": completed, "lost": lost,
        "avg_latency_us": latency, "noerror": noerror,
        "errors": lost + (completed - noerror).max(0.0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Statistics:

  Queries sent:         300000
  Queries completed:    299990 (100.00%)
  Queries lost:         10 (0.00%)

  Response codes:       NOERROR 299990 (100.00%)
  Average packet size:  request 36, response 100
  Run time (s):         3.000079
  Queries per second:   99994.699

  Average Latency (s):  0.000987 (min 0.000021, max 0.004567)
  Latency StdDev (s):   0.000100
";

    #[test]
    fn parses_the_statistics() {
        let v = parse(SAMPLE).expect("parse");
        assert_eq!(v["qps"], 99994.699);
        assert_eq!(v["lost"], 10.0);
        assert_eq!(v["noerror"], 299990.0);
        assert_eq!(v["errors"], 10.0);
        assert!((v["avg_latency_us"].as_f64().expect("latency") - 987.0).abs() < 0.01);
        assert!(parse("nothing").is_err());
    }
}
