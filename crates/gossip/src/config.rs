//! Gossip timing and limits, with Consul's LAN defaults (memberlist's `DefaultLANConfig`,
//! Serf's `DefaultConfig`), and their mapping onto foca's [`foca::Config`].

use std::num::{NonZeroU8, NonZeroUsize};
use std::time::Duration;

/// Gossip settings. Field names follow memberlist's; units are in the types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GossipConfig {
    /// How often a member probes another (memberlist `ProbeInterval`, 1 s).
    pub probe_interval: Duration,
    /// How long to wait for a direct ack before probing indirectly (`ProbeTimeout`, 500 ms).
    pub probe_timeout: Duration,
    /// Members asked to probe indirectly (`IndirectChecks`, 3).
    pub indirect_checks: usize,
    /// Suspicion timeout = mult * max(1, log10(n)) * probe interval (`SuspicionMult`, 4).
    pub suspicion_mult: u32,
    /// Retransmits of an update = mult * ceil(log10(n + 1)) (`RetransmitMult`, 4).
    pub retransmit_mult: u32,
    /// Members gossiped to each gossip round (`GossipNodes`, 3).
    pub gossip_nodes: usize,
    /// Time between gossip rounds (`GossipInterval`, 200 ms).
    pub gossip_interval: Duration,
    /// Time between announces to one random member, re-syncing state the way
    /// memberlist's push/pull does (`PushPullInterval`, 30 s).
    pub push_pull_interval: Duration,
    /// Time between attempts to reach members believed down, healing partitions
    /// (Serf's `ReconnectInterval`, 30 s).
    pub reconnect_interval: Duration,
    /// How long failed and left members are remembered before being reaped (Serf's
    /// `TombstoneTimeout`, 24 h).
    pub reap_after: Duration,
    /// Largest packet sent or accepted (memberlist `UDPBufferSize`, 1400 bytes).
    pub max_packet_size: usize,
    /// Largest user event, name plus payload (Serf's `UserEventSizeLimit`, 512 bytes).
    pub user_event_size_limit: usize,
}

impl Default for GossipConfig {
    fn default() -> Self {
        Self::lan()
    }
}

impl GossipConfig {
    /// Consul's LAN pool defaults.
    pub fn lan() -> Self {
        Self {
            probe_interval: Duration::from_secs(1),
            probe_timeout: Duration::from_millis(500),
            indirect_checks: 3,
            suspicion_mult: 4,
            retransmit_mult: 4,
            gossip_nodes: 3,
            gossip_interval: Duration::from_millis(200),
            push_pull_interval: Duration::from_secs(30),
            reconnect_interval: Duration::from_secs(30),
            reap_after: Duration::from_secs(24 * 60 * 60),
            max_packet_size: 1400,
            user_event_size_limit: 512,
        }
    }

    /// memberlist's suspicion timeout for a cluster of `n` members.
    pub fn suspicion_timeout(&self, n: usize) -> Duration {
        let scale = f64::max(1.0, log10(n));
        self.probe_interval
            .mul_f64(scale * f64::from(self.suspicion_mult))
    }

    /// memberlist's retransmit limit for a cluster of `n` members.
    pub fn retransmits(&self, n: usize) -> u8 {
        let scale = log10(n.saturating_add(1)).ceil();
        let tx = (f64::from(self.retransmit_mult) * scale).clamp(1.0, 255.0);
        // In 1..=255 after the clamp, so the conversion is exact.
        tx as u8
    }

    /// An upper bound on the time for a crashed member of an `n`-member cluster to be
    /// marked failed everywhere, without packet loss: it is probed within `n` probe
    /// intervals (foca probes members in shuffled round-robin order), the probe fails
    /// within one interval, the suspicion runs out, and the failure then spreads within
    /// a few gossip rounds per retransmit.
    pub fn failure_detection_bound(&self, n: usize) -> Duration {
        let rounds = u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1);
        let spread = self.gossip_interval * u32::from(self.retransmits(n)) + self.probe_interval;
        self.probe_interval * rounds + self.suspicion_timeout(n) + spread
    }

    /// foca's configuration for a cluster of `n` members (n counts this node).
    pub fn to_foca(&self, n: usize) -> foca::Config {
        let one = NonZeroUsize::MIN;
        foca::Config {
            probe_period: self.probe_interval,
            probe_rtt: self.probe_timeout,
            num_indirect_probes: NonZeroUsize::new(self.indirect_checks).unwrap_or(one),
            max_transmissions: NonZeroU8::new(self.retransmits(n)).unwrap_or(NonZeroU8::MIN),
            suspect_to_down_after: self.suspicion_timeout(n),
            remove_down_after: Some(self.reap_after),
            max_packet_size: NonZeroUsize::new(self.max_packet_size).unwrap_or(one),
            notify_down_members: true,
            periodic_announce: Some(foca::PeriodicParams {
                frequency: self.push_pull_interval,
                num_members: one,
            }),
            periodic_announce_to_down_members: Some(foca::PeriodicParams {
                frequency: self.reconnect_interval,
                num_members: one,
            }),
            periodic_gossip: Some(foca::PeriodicParams {
                frequency: self.gossip_interval,
                num_members: NonZeroUsize::new(self.gossip_nodes).unwrap_or(one),
            }),
        }
    }
}

fn log10(n: usize) -> f64 {
    // Cluster sizes fit in f64's exact integer range.
    (n as f64).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lan_defaults_match_memberlist() {
        let c = GossipConfig::lan();
        assert_eq!(c.suspicion_timeout(3), Duration::from_secs(4));
        assert_eq!(c.suspicion_timeout(100), Duration::from_secs(8));
        // 4 * ceil(log10(6)) = 4; 4 * ceil(log10(33)) = 8
        assert_eq!(c.retransmits(5), 4);
        assert_eq!(c.retransmits(32), 8);
        let f = c.to_foca(5);
        assert_eq!(f.probe_period, Duration::from_secs(1));
        assert_eq!(f.probe_rtt, Duration::from_millis(500));
        assert_eq!(f.max_transmissions.get(), 4);
        assert_eq!(f.num_indirect_probes.get(), 3);
    }

    #[test]
    fn detection_bound_grows_with_the_cluster() {
        let c = GossipConfig::lan();
        assert!(c.failure_detection_bound(5) < c.failure_detection_bound(50));
        assert!(c.failure_detection_bound(5) > c.suspicion_timeout(5));
    }
}
