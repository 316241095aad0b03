//! Rotation-compliance auditor (in progress).
