//! Bounded output capture and Consul's truncation texts.
//!
//! Consul captures script, Docker and HTTP output in a ring buffer (`armon/circbuf`), so
//! when output overflows it keeps the *last* bytes. Script and Docker output then gets the
//! prefix `Captured <kept> of <total> bytes\n...\n`; HTTP bodies get no marker. TTL
//! updates are cut at the *front* instead, with the suffix
//! ` ... (captured <max> of <total> bytes)`.

/// Consul's default and agent-wide cap on check output (`check_output_max_size`).
pub const DEFAULT_OUTPUT_MAX_SIZE: usize = 4096;

/// Keeps the last `capacity` bytes written to it and counts everything written.
#[derive(Debug, Clone)]
pub struct TailBuffer {
    buf: std::collections::VecDeque<u8>,
    capacity: usize,
    total: u64,
}

impl TailBuffer {
    /// A zero capacity would keep nothing; Consul falls back to the default then.
    pub fn new(capacity: usize) -> Self {
        let capacity = if capacity == 0 {
            DEFAULT_OUTPUT_MAX_SIZE
        } else {
            capacity
        };
        TailBuffer {
            buf: std::collections::VecDeque::with_capacity(capacity.min(64 * 1024)),
            capacity,
            total: 0,
        }
    }

    pub fn write(&mut self, data: &[u8]) {
        self.total = self.total.saturating_add(data.len() as u64);
        // Only the last `capacity` bytes of this chunk can survive.
        let data = &data[data.len().saturating_sub(self.capacity)..];
        let overflow = (self.buf.len() + data.len()).saturating_sub(self.capacity);
        self.buf.drain(..overflow);
        self.buf.extend(data);
    }

    pub fn total_written(&self) -> u64 {
        self.total
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The kept bytes as text (invalid UTF-8 replaced, as Consul's JSON encoding does).
    pub fn text(&self) -> String {
        let (a, b) = self.buf.as_slices();
        let mut v = Vec::with_capacity(a.len() + b.len());
        v.extend_from_slice(a);
        v.extend_from_slice(b);
        String::from_utf8_lossy(&v).into_owned()
    }

    /// Script/Docker output: the kept tail, prefixed with Consul's marker when bytes were
    /// dropped.
    pub fn text_with_marker(&self) -> String {
        let text = self.text();
        if self.total > self.buf.len() as u64 {
            format!(
                "Captured {} of {} bytes\n...\n{}",
                self.buf.len(),
                self.total,
                text
            )
        } else {
            text
        }
    }
}

/// TTL updates: keep the first `max` bytes (on a character boundary) and say how much
/// was captured, as Consul's `CheckTTL.SetStatus` does.
pub fn truncate_head(output: &str, max: usize) -> String {
    let max = if max == 0 {
        DEFAULT_OUTPUT_MAX_SIZE
    } else {
        max
    };
    let total = output.len();
    if total <= max {
        return output.to_string();
    }
    let mut cut = max;
    while !output.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{} ... (captured {} of {} bytes)",
        &output[..cut],
        max,
        total
    )
}

/// The effective output limit: the agent cap, lowered by the check's own setting when
/// that is smaller (Consul's `addCheck`).
pub fn effective_max_size(agent_cap: usize, check_setting: usize) -> usize {
    let cap = if agent_cap == 0 {
        DEFAULT_OUTPUT_MAX_SIZE
    } else {
        agent_cap
    };
    if check_setting > 0 && check_setting < cap {
        check_setting
    } else {
        cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_buffer_keeps_last_bytes_and_counts_all() {
        let mut b = TailBuffer::new(5);
        b.write(b"abc");
        assert_eq!(b.text_with_marker(), "abc");
        b.write(b"defg");
        assert_eq!(b.text(), "cdefg");
        assert_eq!(b.total_written(), 7);
        assert_eq!(b.text_with_marker(), "Captured 5 of 7 bytes\n...\ncdefg");
        b.write(b"0123456789");
        assert_eq!(b.text(), "56789");
        assert_eq!(b.total_written(), 17);
    }

    #[test]
    fn tail_buffer_exact_fit_has_no_marker() {
        let mut b = TailBuffer::new(4);
        b.write(b"ab");
        b.write(b"cd");
        assert_eq!(b.text_with_marker(), "abcd");
    }

    #[test]
    fn tail_buffer_zero_capacity_uses_default() {
        assert_eq!(TailBuffer::new(0).capacity(), DEFAULT_OUTPUT_MAX_SIZE);
    }

    #[test]
    fn truncate_head_matches_consul_text() {
        assert_eq!(truncate_head("hello", 10), "hello");
        assert_eq!(truncate_head("hello", 5), "hello");
        assert_eq!(
            truncate_head("hello world", 5),
            "hello ... (captured 5 of 11 bytes)"
        );
    }

    #[test]
    fn truncate_head_respects_char_boundaries() {
        // "é" is two bytes; cutting at 2 would split it.
        assert_eq!(truncate_head("aéb", 2), "a ... (captured 2 of 4 bytes)");
    }

    #[test]
    fn effective_max_size_takes_the_smaller() {
        assert_eq!(effective_max_size(0, 0), 4096);
        assert_eq!(effective_max_size(4096, 100), 100);
        assert_eq!(effective_max_size(4096, 10_000), 4096);
        assert_eq!(effective_max_size(8192, 0), 8192);
    }
}
