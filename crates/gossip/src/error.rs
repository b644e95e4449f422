//! The crate's error type.

/// What can go wrong in the gossip layer.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    /// A node name is empty or longer than [`crate::member::NAME_LEN_MAX`] bytes.
    #[error("invalid node name length {0}")]
    InvalidName(usize),
    /// Member tags exceed their bounds.
    #[error("member tags too large: {size} > {limit}")]
    TagsTooLarge {
        /// The offending size (bytes or count).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A user event payload is over the size limit.
    #[error("user event exceeds the size limit: {size} > {limit}")]
    UserEventTooLarge {
        /// Name plus payload, in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A user event name is empty.
    #[error("user event name must not be empty")]
    EmptyEventName,
    /// The local node has left the cluster.
    #[error("this node has left the cluster")]
    Left,
    /// foca refused an operation.
    #[error("swim: {0}")]
    Swim(#[from] foca::Error),
    /// Encoding a broadcast failed.
    #[error("encode: {0}")]
    Encode(#[from] postcard::Error),
    /// A socket operation failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// No seed answered within the retry budget.
    #[error("could not join any of {0} seed addresses")]
    JoinFailed(usize),
    /// The gossip task has stopped.
    #[error("the gossip task has stopped")]
    Stopped,
}
