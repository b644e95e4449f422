//! flags + HCL/JSON files -> validated RuntimeConfig
