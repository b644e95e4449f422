//! The pure membership core: foca plus member statuses, leave intents, user events and
//! a timer queue. No sockets, no clock, no ambient randomness: time comes in as `now`
//! (a [`Duration`] since any fixed origin the caller chooses), randomness as a seed,
//! packets as byte slices; packets to send and events come back as data in [`Output`].

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use foca::{AccumulatingRuntime, Foca, OwnedNotification, PostcardCodec, State, Timer};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::broadcast::{self, Broadcast, Handler, LeaveIntent, SharedInbox, UserEvent};
use crate::config::GossipConfig;
use crate::error::GossipError;
use crate::member::{Member, MemberStatus, NodeId};

type Swim = Foca<NodeId, PostcardCodec, StdRng, Handler>;

/// Most leave intents remembered (a leave intent matters until its member is reaped).
const LEFT_MAX: usize = 4096;
/// Most timers fired by one [`Membership::handle_timers`] call.
const TIMERS_PER_CALL_MAX: usize = 4096;

/// A packet to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Destination gossip address.
    pub to: SocketAddr,
    /// The datagram.
    pub data: Bytes,
}

/// What happened to a member, as Serf names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberEventKind {
    /// A member became alive (new, or back after failing or leaving).
    Join,
    /// An alive member changed address, tags or generation.
    Update,
    /// A member left gracefully.
    Leave,
    /// A member was declared failed.
    Failed,
    /// A failed or left member was forgotten.
    Reap,
}

/// An event for the layers above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A membership change.
    Member {
        /// What happened.
        kind: MemberEventKind,
        /// The member after the change.
        member: Member,
    },
    /// A user event, delivered once per member (including the one that fired it).
    User(UserEvent),
}

/// The results of one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Datagrams to send.
    pub packets: Vec<Outgoing>,
    /// Events, in the order they happened.
    pub events: Vec<Event>,
}

/// Counters for what came in and what was dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handed to [`Membership::handle_packet`].
    pub packets_in: u64,
    /// Datagrams produced.
    pub packets_out: u64,
    /// Datagrams that did not decode, were too large or malformed.
    pub packets_malformed: u64,
    /// Datagrams rejected for other reasons (from ourselves, after leaving, ...).
    pub packets_rejected: u64,
    /// Broadcast items that did not decode or broke a bound.
    pub broadcasts_invalid: u64,
    /// Broadcast items dropped because the inbox was full.
    pub broadcasts_overflow: u64,
    /// foca errors while handling timers or local operations.
    pub swim_errors: u64,
}

#[derive(Debug)]
struct Scheduled {
    at: Duration,
    seq: u64,
    timer: Timer<NodeId>,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Leave intents seen, keyed by (name, bump), bounded FIFO.
#[derive(Debug, Default)]
struct LeftSet {
    set: HashSet<(String, u64)>,
    order: VecDeque<(String, u64)>,
}

impl LeftSet {
    fn insert(&mut self, intent: LeaveIntent) {
        let key = (intent.name, intent.bump);
        if self.set.contains(&key) {
            return;
        }
        if self.order.len() >= LEFT_MAX
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(key.clone());
        self.order.push_back(key);
    }

    fn contains(&self, id: &NodeId) -> bool {
        // Avoids allocating a key: the set is small and lookups are per member view.
        self.set.contains(&(id.name().to_owned(), id.bump()))
    }
}

/// SWIM membership for one node, driven entirely by its inputs.
pub struct Membership {
    swim: Swim,
    runtime: AccumulatingRuntime<NodeId>,
    timers: BinaryHeap<Reverse<Scheduled>>,
    timer_seq: u64,
    inbox: SharedInbox,
    left: LeftSet,
    view: BTreeMap<String, Member>,
    config: GossipConfig,
    sized_for: usize,
    event_seq: u64,
    has_left: bool,
    stats: Stats,
}

impl Membership {
    /// A node with identity `id`, alone until it joins or is joined. `seed` drives every
    /// random choice (probe order, gossip targets), so equal inputs give equal outputs.
    pub fn new(id: NodeId, config: GossipConfig, seed: u64) -> Self {
        let inbox = SharedInbox::default();
        let handler = Handler::new(inbox.clone(), config.user_event_size_limit);
        let swim = Foca::with_custom_broadcast(
            id.clone(),
            config.to_foca(1),
            StdRng::seed_from_u64(seed),
            PostcardCodec,
            handler,
        );
        let mut view = BTreeMap::new();
        view.insert(
            id.name().to_owned(),
            Member::from_id(&id, MemberStatus::Alive),
        );
        Self {
            swim,
            runtime: AccumulatingRuntime::new(),
            timers: BinaryHeap::new(),
            timer_seq: 0,
            inbox,
            left: LeftSet::default(),
            view,
            config,
            sized_for: 1,
            event_seq: 0,
            has_left: false,
            stats: Stats::default(),
        }
    }

    /// This node's current identity (it changes when the node renews itself after
    /// being declared down).
    pub fn local(&self) -> &NodeId {
        self.swim.identity()
    }

    /// The configuration in use.
    pub fn config(&self) -> &GossipConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether this node knows at least one other active member.
    pub fn is_joined(&self) -> bool {
        self.swim.num_members() > 0
    }

    /// Whether [`Membership::leave`] was called.
    pub fn has_left(&self) -> bool {
        self.has_left
    }

    /// When the next timer is due, if any: the shell sleeps until then.
    pub fn next_timer_at(&self) -> Option<Duration> {
        self.timers.peek().map(|Reverse(s)| s.at)
    }

    /// Asks the node at `seed` to let us in. The answer arrives as a packet.
    pub fn join(&mut self, seed: SocketAddr, now: Duration) -> Result<Output, GossipError> {
        if self.has_left {
            return Err(GossipError::Left);
        }
        self.swim
            .announce(NodeId::seed(seed), &mut self.runtime)
            .map_err(|e| self.count_swim_error(e))?;
        Ok(self.finish(now, false))
    }

    /// Handles one received datagram. Anything that does not decode is dropped and
    /// counted; this never fails and never panics on input.
    pub fn handle_packet(&mut self, data: &[u8], now: Duration) -> Output {
        self.stats.packets_in += 1;
        if self.has_left {
            // A left node must not react: a "you are down" update would make foca
            // renew the identity and rejoin.
            self.stats.packets_rejected += 1;
            return Output::default();
        }
        if let Err(e) = self.swim.handle_data(data, &mut self.runtime) {
            match e {
                foca::Error::Decode(_)
                | foca::Error::MalformedPacket
                | foca::Error::DataTooBig
                | foca::Error::CustomBroadcast(_) => self.stats.packets_malformed += 1,
                _ => self.stats.packets_rejected += 1,
            }
        }
        self.finish(now, false)
    }

    /// Fires every timer due at `now`.
    pub fn handle_timers(&mut self, now: Duration) -> Output {
        let mut out = Output::default();
        let mut changed = false;
        for _ in 0..TIMERS_PER_CALL_MAX {
            let due = matches!(self.timers.peek(), Some(Reverse(s)) if s.at <= now);
            if !due {
                break;
            }
            let Some(Reverse(scheduled)) = self.timers.pop() else {
                break;
            };
            changed |= matches!(scheduled.timer, Timer::RemoveDown(_));
            if let Err(e) = self.swim.handle_timer(scheduled.timer, &mut self.runtime) {
                self.count_swim_error(e);
            }
            // Timers scheduled by this one must be queued before the next pops.
            changed |= self.drain_runtime(now, &mut out);
        }
        let rest = self.finish(now, changed);
        out.packets.extend(rest.packets);
        out.events.extend(rest.events);
        out
    }

    /// Leaves gracefully: announces a leave intent and declares ourselves down, so the
    /// cluster marks this node `left`, not `failed`. Afterwards every input is ignored.
    pub fn leave(&mut self, now: Duration) -> Result<Output, GossipError> {
        if self.has_left {
            return Err(GossipError::Left);
        }
        let id = self.swim.identity().clone();
        let intent = Broadcast::Leave(LeaveIntent {
            name: id.name().to_owned(),
            bump: id.bump(),
        });
        let data = postcard::to_allocvec(&intent)?;
        self.swim
            .add_broadcast(&data)
            .map_err(|e| self.count_swim_error(e))?;
        self.swim
            .leave_cluster(&mut self.runtime)
            .map_err(|e| self.count_swim_error(e))?;
        self.has_left = true;
        self.timers.clear();
        Ok(self.finish(now, true))
    }

    /// Fires a user event to every member (this one included, through the output).
    pub fn fire_event(
        &mut self,
        name: &str,
        payload: &[u8],
        now: Duration,
    ) -> Result<Output, GossipError> {
        if self.has_left {
            return Err(GossipError::Left);
        }
        if name.is_empty() {
            return Err(GossipError::EmptyEventName);
        }
        let size = name.len() + payload.len();
        let limit = self.config.user_event_size_limit;
        if size > limit {
            return Err(GossipError::UserEventTooLarge { size, limit });
        }
        let ltime = broadcast::lock(&self.inbox).event_clock;
        self.event_seq += 1;
        let event = Broadcast::User(UserEvent {
            ltime,
            origin: self.swim.identity().name().to_owned(),
            seq: self.event_seq,
            name: name.to_owned(),
            payload: payload.to_vec(),
        });
        let data = postcard::to_allocvec(&event)?;
        self.swim
            .add_broadcast(&data)
            .map_err(|e| self.count_swim_error(e))?;
        // Send it now rather than waiting for the next gossip round.
        if let Err(e) = self.swim.broadcast(&mut self.runtime) {
            self.count_swim_error(e);
        }
        Ok(self.finish(now, false))
    }

    /// Every member this node knows of, itself included, by name.
    pub fn members(&self) -> Vec<Member> {
        self.view.values().cloned().collect()
    }

    /// One member by name.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.view.get(name)
    }

    fn count_swim_error(&mut self, e: foca::Error) -> GossipError {
        self.stats.swim_errors += 1;
        GossipError::Swim(e)
    }

    /// Moves foca's sends, timers and notifications out of the runtime; true when a
    /// notification says membership changed.
    fn drain_runtime(&mut self, now: Duration, out: &mut Output) -> bool {
        while let Some((to, data)) = self.runtime.to_send() {
            self.stats.packets_out += 1;
            out.packets.push(Outgoing {
                to: to.addr(),
                data,
            });
        }
        while let Some((after, timer)) = self.runtime.to_schedule() {
            self.timer_seq += 1;
            self.timers.push(Reverse(Scheduled {
                at: now.saturating_add(after),
                seq: self.timer_seq,
                timer,
            }));
        }
        let mut changed = false;
        while let Some(n) = self.runtime.to_notify() {
            changed |= matches!(
                n,
                OwnedNotification::MemberUp(_)
                    | OwnedNotification::MemberDown(_)
                    | OwnedNotification::Rename(..)
                    | OwnedNotification::Rejoin(_)
            );
        }
        changed
    }

    /// Drains the runtime and the broadcast inbox, then turns membership changes into
    /// events and resizes foca's timing to the cluster.
    fn finish(&mut self, now: Duration, changed: bool) -> Output {
        let mut out = Output::default();
        let mut changed = self.drain_runtime(now, &mut out) | changed;
        let mut users = Vec::new();
        {
            let mut inbox = broadcast::lock(&self.inbox);
            self.stats.broadcasts_invalid = inbox.invalid;
            self.stats.broadcasts_overflow = inbox.overflow;
            while let Some(item) = inbox.items.pop_front() {
                match item {
                    Broadcast::User(e) => users.push(e),
                    Broadcast::Leave(l) => {
                        self.left.insert(l);
                        changed = true;
                    }
                }
            }
        }
        if changed {
            self.update_view(&mut out.events);
        }
        out.events.extend(users.into_iter().map(Event::User));
        self.resize();
        out
    }

    fn status_of(&self, id: &NodeId, state: State) -> MemberStatus {
        match state {
            State::Alive => MemberStatus::Alive,
            State::Suspect => MemberStatus::Suspect,
            State::Down if self.left.contains(id) => MemberStatus::Left,
            State::Down => MemberStatus::Failed,
        }
    }

    fn compute_view(&self) -> BTreeMap<String, Member> {
        let mut view: BTreeMap<String, Member> = BTreeMap::new();
        for m in self.swim.iter_membership_state() {
            let member = Member::from_id(m.id(), self.status_of(m.id(), m.state()));
            match view.get(&member.name) {
                // The same name at several addresses: the newest generation wins, then
                // an active entry over a down one.
                Some(known)
                    if (known.bump, known.status.is_active())
                        >= (member.bump, member.status.is_active()) => {}
                _ => {
                    view.insert(member.name.clone(), member);
                }
            }
        }
        let me = self.swim.identity();
        let status = if self.has_left {
            MemberStatus::Left
        } else {
            MemberStatus::Alive
        };
        view.insert(me.name().to_owned(), Member::from_id(me, status));
        view
    }

    fn update_view(&mut self, events: &mut Vec<Event>) {
        let next = self.compute_view();
        for (name, member) in &next {
            let kind = match self.view.get(name) {
                None => member.status.is_active().then_some(MemberEventKind::Join),
                Some(old) => transition(old, member),
            };
            if let Some(kind) = kind {
                events.push(Event::Member {
                    kind,
                    member: member.clone(),
                });
            }
        }
        for (name, old) in &self.view {
            if !next.contains_key(name) && !old.status.is_active() {
                events.push(Event::Member {
                    kind: MemberEventKind::Reap,
                    member: old.clone(),
                });
            }
        }
        self.view = next;
    }

    /// Keeps suspicion timeout and retransmits matched to the cluster size.
    fn resize(&mut self) {
        let n = self.swim.num_members() + 1;
        if n == self.sized_for {
            return;
        }
        if self.swim.set_config(self.config.to_foca(n)).is_ok() {
            self.sized_for = n;
        } else {
            self.stats.swim_errors += 1;
        }
    }
}

/// The event for a member whose entry went from `old` to `new`, if any.
fn transition(old: &Member, new: &Member) -> Option<MemberEventKind> {
    use MemberStatus::{Alive, Failed, Left, Suspect};
    match (old.status, new.status) {
        (Alive | Suspect, Failed) => Some(MemberEventKind::Failed),
        (Alive | Suspect | Failed, Left) => Some(MemberEventKind::Leave),
        (Failed | Left, Alive | Suspect) => Some(MemberEventKind::Join),
        (Alive | Suspect, Alive | Suspect)
            if (old.bump, &old.addr, &old.tags) != (new.bump, &new.addr, &new.tags) =>
        {
            Some(MemberEventKind::Update)
        }
        _ => None,
    }
}
